"""The read-only policy: a corpus of hostile statements, all refused; every valid SELECT accepted."""

import pytest

from MoE.sql.guard import UnsafeSQLError, check_read_only

HOSTILE = [
    "DROP TABLE orders", "DROP TABLE IF EXISTS orders CASCADE", "DELETE FROM orders", "DELETE FROM orders WHERE 1=1",
    "UPDATE orders SET status = 'paid'", "INSERT INTO orders VALUES (1)", "INSERT INTO orders SELECT * FROM orders",
    "TRUNCATE orders", "TRUNCATE TABLE orders", "ALTER TABLE orders ADD COLUMN x INT", "ALTER TABLE orders RENAME TO o",
    "CREATE TABLE x AS SELECT * FROM orders", "CREATE VIEW v AS SELECT 1", "CREATE INDEX i ON orders(status)",
    "CREATE OR REPLACE MACRO m(a) AS a", "MERGE INTO orders t USING orders s ON t.order_id = s.order_id WHEN MATCHED THEN DELETE",
    "SELECT 1; DROP TABLE orders", "SELECT 1; SELECT 2", "SELECT * FROM orders; DELETE FROM orders",
    "WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
    "WITH u AS (UPDATE orders SET status = 'x' RETURNING *) SELECT count(*) FROM u",
    "SELECT * INTO backup FROM orders", "SELECT * FROM orders FOR UPDATE",
    "PRAGMA table_info('orders')", "PRAGMA enable_profiling", "ATTACH 'other.db' AS other", "DETACH other",
    "COPY orders TO '/tmp/orders.csv'", "COPY orders FROM '/tmp/x.csv'", "EXPORT DATABASE '/tmp/db'",
    "INSTALL httpfs", "LOAD httpfs", "SET enable_external_access = true", "RESET ALL", "USE other",
    "BEGIN", "COMMIT", "ROLLBACK", "VACUUM", "CHECKPOINT", "CALL pragma_version()", "GRANT ALL ON orders TO public",
    "SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_csv_auto('data.csv')",
    "SELECT * FROM read_parquet('s3://bucket/file.parquet')", "SELECT * FROM read_json_auto('https://x.org/a.json')",
    "SELECT * FROM '/etc/passwd'", "SELECT * FROM 'data.csv'", 'SELECT * FROM "orders.parquet"',
    "SELECT * FROM glob('/home/*')", "SELECT * FROM sqlite_scan('other.db', 't')", "SELECT * FROM query('DROP TABLE orders')",
    "SELECT * FROM postgres_scan('host=x', 'public', 't')", "SELECT read_text('/etc/hosts')",
    "SELECT pg_read_file('/etc/passwd')", "SELECT pg_sleep(60)", "SELECT getenv('HOME')", "SELECT nextval('seq')",
    "SELECT set_config('x', 'y', false)", "SELECT (SELECT pg_read_file('/etc/passwd'))",
    "SELECT 1 UNION SELECT * FROM read_json('x.json')", "SELECT * FROM orders WHERE order_id IN (SELECT * FROM read_csv('x'))",
    "SELECT lo_import('/etc/passwd')", "SELECT * FROM dblink('host=evil', 'SELECT 1') AS t(a int)",
    "EXPLAIN ANALYZE DELETE FROM orders", "DESCRIBE orders", "SHOW TABLES", "SUMMARIZE orders", "", "   ", ";",
]


@pytest.mark.parametrize("sql", HOSTILE)
def test_hostile_statements_are_refused(sql):
    with pytest.raises(UnsafeSQLError) as info:
        check_read_only(sql, "duckdb")
    assert str(info.value).startswith("refused: ") and "\n" not in str(info.value)


def test_corpus_is_large_enough():
    assert len(HOSTILE) >= 50


VALID = [
    "SELECT 1",
    "SELECT * FROM orders",
    "SELECT o.order_id, c.full_name FROM orders o JOIN customers c ON o.customer_id = c.customer_id",
    "WITH m AS (SELECT date_trunc('month', order_date) AS month, SUM(total_amount) AS revenue FROM orders GROUP BY 1) "
    "SELECT * FROM m ORDER BY month",
    "SELECT status, COUNT(*) FROM orders GROUP BY status HAVING COUNT(*) > 1",
    "SELECT * FROM orders WHERE order_id IN (SELECT order_id FROM refunds)",
    "SELECT order_id FROM orders UNION SELECT order_id FROM refunds",
    "SELECT order_id FROM orders EXCEPT SELECT order_id FROM refunds",
    "SELECT order_id, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY order_date) FROM orders",
    "SELECT * FROM unnest([1, 2, 3]) AS t(x)",
    "SELECT * FROM generate_series(1, 3)",
    "SELECT strftime(order_date, '%Y-%m') FROM orders WHERE order_date >= DATE '2024-01-01'",
    "SELECT CASE WHEN status = 'paid' THEN 1 ELSE 0 END FROM orders",
    "SELECT 'DROP TABLE orders' AS harmless_text",
]


@pytest.mark.parametrize("sql", VALID)
def test_valid_selects_are_accepted_and_run(sql, duck):
    safe = check_read_only(sql, "duckdb")
    duck.execute(safe, limit=3)


@pytest.mark.parametrize("dialect, sql", [
    ("postgres", "SELECT order_date::date FROM orders"),
    ("mysql", "SELECT `order_id` FROM orders LIMIT 5"),
    ("tsql", "SELECT TOP 5 order_id FROM orders"),
    ("sqlite", "SELECT strftime('%Y', order_date) FROM orders"),
    ("snowflake", "SELECT order_id FROM orders QUALIFY ROW_NUMBER() OVER (ORDER BY order_id) = 1"),
    ("bigquery", "SELECT order_id FROM `orders`"),
])
def test_dialects(dialect, sql):
    assert check_read_only(sql, dialect)


def test_what_runs_is_regenerated_from_the_checked_tree():
    assert check_read_only("select  1 -- trailing comment", "duckdb") == "SELECT 1 /* trailing comment */"
