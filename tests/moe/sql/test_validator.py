import pytest

from MoE.sql.validator import validate_sql


def issues(sql, catalog, duck=None, dialect="duckdb"):
    return [str(i) for i in validate_sql(sql, catalog, dialect, duck).issues]


@pytest.mark.parametrize("sql, expected", [
    ("SELECT ordr_date FROM orders", "unknown column 'ordr_date'"),
    ("SELECT o.ordr_date FROM orders o", "did you mean orders.order_date"),
    ("SELECT * FROM order_item", "unknown table 'order_item' (did you mean 'order_items'"),
    ("SELECT * FROM custmers", "unknown table 'custmers' (did you mean 'customers'"),
    ("SELECT order_items.product_id FROM orders", "table order_items is not in FROM or JOIN; add JOIN order_items ON"),
    ("SELECT SUM(amount) FROM orders", "unknown column 'amount' (amount is a column of payments, refunds, which the "
                                       "query does not join; or did you mean orders.total_amount?)"),
])
def test_unknown_names_with_suggestions(sql, expected, catalog):
    found = issues(sql, catalog)
    assert len(found) == 1 and expected in found[0], found


def test_wrong_join_key(catalog, duck):
    found = issues("SELECT c.full_name FROM orders o JOIN customers c ON o.order_id = c.customer_id", catalog, duck)
    assert found == ["[joins] join orders.order_id = customers.customer_id does not follow a foreign key; "
                     "expected customers.customer_id = orders.customer_id"]


@pytest.mark.parametrize("sql, dialect, stage", [
    ("SELECT DATE_FORMAT(order_date, '%Y') FROM orders", "duckdb", "dry_run"),      # a MySQL function
    ("SELECT TOP 3 order_id FROM orders", "duckdb", "parse"),                      # T-SQL syntax
    ("SELECT order_id FROM orders WHERE order_id = 'abc' + 1", "duckdb", "dry_run"),
    ("SELECT order_id, SUM(total_amount) FROM orders", "duckdb", "dry_run"),        # missing GROUP BY
    ("DELETE FROM orders", "duckdb", "safety"),
])
def test_dialect_and_runtime_errors_are_caught(sql, dialect, stage, catalog, duck):
    report = validate_sql(sql, catalog, dialect, duck)
    assert not report.ok and report.issues[0].stage == stage, report.issues


VALID = [
    "SELECT COUNT(*) FROM customers",
    "SELECT c.country_code, COUNT(*) AS n FROM customers c GROUP BY c.country_code ORDER BY n DESC",
    "SELECT o.order_id, c.email FROM orders o JOIN customers c ON o.customer_id = c.customer_id",
    "SELECT p.name, cat.name FROM products p JOIN categories cat ON cat.category_id = p.category_id",
    "SELECT child.name, parent.name FROM categories child LEFT JOIN categories parent "
    "ON child.parent_category_id = parent.category_id",
    "SELECT oi.order_id, SUM(oi.quantity * oi.unit_price) FROM order_items oi GROUP BY oi.order_id",
    "WITH r AS (SELECT order_id, SUM(amount) AS refunded FROM refunds GROUP BY order_id) "
    "SELECT o.order_id, o.total_amount - COALESCE(r.refunded, 0) FROM orders o LEFT JOIN r ON r.order_id = o.order_id",
    "SELECT date_trunc('month', order_date) AS month, SUM(total_amount) FROM orders "
    "WHERE status <> 'cancelled' AND EXTRACT(year FROM order_date) = 2024 GROUP BY 1 ORDER BY 1",
    "SELECT s.carrier, AVG(s.delivered_date - s.shipped_date) FROM shipments s WHERE s.delivered_date IS NOT NULL "
    "GROUP BY s.carrier",
    "SELECT customer_id FROM orders GROUP BY customer_id HAVING COUNT(*) > 2",
    "SELECT * FROM (SELECT order_id, RANK() OVER (ORDER BY total_amount DESC) AS r FROM orders) t WHERE r <= 3",
    "SELECT p.method, COUNT(DISTINCT p.order_id) FROM payments p GROUP BY p.method",
    "SELECT o.order_id FROM orders o WHERE EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.order_id)",
    "SELECT m.month FROM (SELECT date_trunc('month', order_date) AS month FROM orders) m JOIN "
    "(SELECT date_trunc('month', refund_date) AS month FROM refunds) r ON m.month = r.month",
]


@pytest.mark.parametrize("sql", VALID)
def test_valid_sql_is_never_flagged(sql, catalog, duck):
    report = validate_sql(sql, catalog, "duckdb", duck)
    assert report.ok, report.issues
    assert report.passed == ("safety", "parse", "catalog", "joins", "dry_run")


def test_other_target_dialect_is_transpiled_for_the_dry_run(catalog, duck):
    report = validate_sql("SELECT TO_CHAR(order_date, 'YYYY-MM') AS m, SUM(total_amount) FROM orders GROUP BY 1",
                          catalog, "postgres", duck)
    assert report.ok and report.dry_run_rows is not None


def test_without_a_database_the_checks_stay_static(catalog):
    report = validate_sql("SELECT DATE_FORMAT(order_date, '%Y') FROM orders", catalog, "duckdb", None)
    assert report.ok and "dry run skipped" in report.notes[0]


@pytest.mark.parametrize("sql, warned", [
    ("SELECT SUM(o.total_amount), SUM(r.amount) FROM orders o JOIN refunds r ON r.order_id = o.order_id", True),
    ("SELECT SUM(p.amount) FROM payments p JOIN refunds r ON r.order_id = p.order_id", True),
    ("SELECT c.full_name, SUM(o.total_amount) FROM customers c JOIN orders o ON o.customer_id = c.customer_id "
     "GROUP BY 1", False),
    ("SELECT COUNT(DISTINCT o.order_id) FROM orders o JOIN refunds r ON r.order_id = o.order_id", False),
    ("SELECT SUM(r.amount) FROM orders o JOIN refunds r ON r.order_id = o.order_id", False),
    # the parent's column only picks rows; the added-up values are the child's
    ("SELECT SUM(CASE WHEN o.status = 'paid' THEN r.amount ELSE 0 END) FROM orders o "
     "JOIN refunds r ON r.order_id = o.order_id", False),
    ("SELECT SUM(IF(o.status = 'paid', r.amount, 0)) FROM orders o JOIN refunds r ON r.order_id = o.order_id", False),
    # ... but the parent's value added up after the join is counted once per child row
    ("SELECT SUM(CASE WHEN r.amount > 10 THEN o.total_amount END) FROM orders o "
     "JOIN refunds r ON r.order_id = o.order_id", True),
    ("SELECT AVG(o.total_amount) FROM orders o JOIN refunds r ON r.order_id = o.order_id", True),
    # a count over a join counts the joined rows, like COUNT(*)
    ("SELECT COUNT(o.order_id) FROM orders o JOIN refunds r ON r.order_id = o.order_id", False),
])
def test_fan_out_warnings(sql, warned, catalog):
    report = validate_sql(sql, catalog, "duckdb")
    assert report.ok and bool(report.warnings) is warned, report.warnings


def test_the_table_the_question_names_is_offered_first(catalog):
    report = validate_sql("SELECT SUM(amount) FROM orders", catalog, "duckdb", question="Refund totals")
    assert "amount is a column of refunds, payments, which the query does not join" in str(report.issues[0])


def test_an_outer_column_inside_a_subquery_in_from_is_an_error(catalog, duck):
    lateral = ("SELECT SUM(o.total_amount), SUM(r.amount) FROM orders o JOIN (SELECT order_id, SUM(amount) AS amount "
               "FROM refunds WHERE YEAR(order_date) = 2024 GROUP BY order_id) r ON o.order_id = r.order_id")
    found = issues(lateral, catalog, duck)  # DuckDB itself binds order_date as an implicit LATERAL join
    assert len(found) == 1 and "order_date is not a column of refunds" in found[0], found
    own = "SELECT r.m FROM (SELECT refund_date AS m FROM refunds ORDER BY m) r"
    assert issues(own, catalog, duck) == []


def test_a_column_missing_from_one_cte_names_that_cte_s_table(catalog):
    sql = ("WITH a AS (SELECT order_date AS d, SUM(total_amount) AS x FROM orders GROUP BY 1), "
           "b AS (SELECT order_date AS d, SUM(amount) AS y FROM refunds GROUP BY 1) SELECT * FROM a JOIN b USING (d)")
    found = issues(sql, catalog)
    assert found == ["[catalog] order_date is not a column of refunds, the table(s) of the query part that uses "
                     "it; did you mean refunds.order_id, refunds.refund_date?"]


@pytest.mark.parametrize("sql, warning", [
    # "orders without a refund", written as an inner join: never any row
    ("SELECT o.order_id FROM orders o JOIN refunds r ON r.order_id = o.order_id WHERE r.order_id IS NULL",
     "r.order_id IS NULL after an inner join to refunds"),
    ("SELECT o.order_id FROM orders o INNER JOIN refunds r ON r.order_id = o.order_id WHERE r.refund_id IS NULL",
     "after an inner join to refunds"),                                  # the primary key is never NULL either
    # "orders with no refund over 100", as a LEFT JOIN filtered in WHERE
    ("SELECT o.order_id FROM orders o LEFT JOIN refunds r ON r.order_id = o.order_id WHERE r.reason <> 'damaged'",
     "on the LEFT JOINed table refunds drops the rows without a refunds row"),
    ("SELECT o.order_id FROM orders o LEFT JOIN refunds r ON r.order_id = o.order_id "
     "WHERE r.reason NOT IN ('damaged', 'late')", "drops the rows without a refunds row"),
    ("SELECT o.order_id FROM orders o LEFT JOIN refunds r ON r.order_id = o.order_id WHERE NOT (r.reason = 'late')",
     "drops the rows without a refunds row"),
    # the right ways, and NULL tests of columns outside the keys: no warning
    ("SELECT o.order_id FROM orders o LEFT JOIN refunds r ON r.order_id = o.order_id WHERE r.order_id IS NULL", None),
    ("SELECT order_id FROM orders WHERE order_id NOT IN (SELECT order_id FROM refunds WHERE reason = 'damaged')", None),
    ("SELECT o.order_id FROM orders o JOIN refunds r ON r.order_id = o.order_id WHERE r.reason IS NULL", None),
    ("SELECT o.order_id FROM orders o JOIN refunds r ON r.order_id = o.order_id WHERE NOT r.order_id IS NULL", None),
    ("SELECT o.order_id FROM orders o JOIN refunds r ON r.order_id = o.order_id WHERE r.reason <> 'damaged'", None),
    ("SELECT o.order_id FROM orders o LEFT JOIN refunds r ON r.order_id = o.order_id AND r.reason <> 'x'", None),
    ("SELECT o.order_id FROM orders o LEFT JOIN refunds r ON r.order_id = o.order_id "
     "WHERE NOT r.order_id IN (SELECT order_id FROM shipments)", None),
])
def test_join_filters_that_cannot_mean_what_they_say(sql, warning, catalog):
    report = validate_sql(sql, catalog, "duckdb")
    found = [str(w) for w in report.warnings if w.stage == "join_filter"]
    assert report.ok and (found == [] if warning is None else len(found) == 1 and warning in found[0]), found
    if warning:
        assert "NOT IN (SELECT ...), NOT EXISTS or EXCEPT" in found[0]


@pytest.mark.parametrize("sql, warning", [
    # "customers who bought both a and b", asked of one row
    ("SELECT c.full_name FROM customers c JOIN orders o ON o.customer_id = c.customer_id "
     "WHERE o.status = 'paid' AND o.status = 'refunded'", "one row cannot hold two values"),
    ("SELECT order_id FROM orders WHERE 'paid' = status AND (status = 'open')", "COUNT(DISTINCT orders.status) = 2"),
    # "customers with a paid order but no refunded one", asked of one row
    ("SELECT c.full_name FROM customers c JOIN orders o ON o.customer_id = c.customer_id "
     "WHERE o.status = 'paid' AND o.status <> 'refunded'", "the second test adds nothing"),
    # the right ways, and conditions that are fine: no warning
    ("SELECT order_id FROM orders WHERE status = 'paid' OR status = 'refunded'", None),
    ("SELECT order_id FROM orders WHERE status IN ('paid', 'open') AND status <> 'open'", None),
    ("SELECT order_id FROM orders WHERE status = 'paid' AND status = 'paid'", None),
    ("SELECT c.full_name FROM customers c JOIN orders o ON o.customer_id = c.customer_id WHERE o.status = 'paid' "
     "INTERSECT SELECT c.full_name FROM customers c JOIN orders o ON o.customer_id = c.customer_id WHERE o.status = 'open'",
     None),
    ("SELECT a.order_id FROM orders a JOIN orders b ON a.customer_id = b.customer_id "
     "WHERE a.status = 'paid' AND b.status = 'open'", None),           # two rows, two aliases
])
def test_one_row_asked_for_two_values(sql, warning, catalog):
    report = validate_sql(sql, catalog, "duckdb")
    found = [str(w) for w in report.warnings if w.stage == "same_row"]
    assert report.ok and (found == [] if warning is None else len(found) == 1 and warning in found[0]), found


STATIONS = """
CREATE TABLE gasstations (station_id INTEGER PRIMARY KEY, country VARCHAR);
CREATE TABLE sales (sale_id INTEGER PRIMARY KEY, station_id INTEGER REFERENCES gasstations(station_id), price DOUBLE);
"""


@pytest.mark.parametrize("sql, question, warned", [
    ("SELECT c.full_name FROM customers c JOIN orders o ON o.customer_id = c.customer_id", "List customer names", True),
    ("SELECT c.full_name FROM customers c JOIN orders o ON o.customer_id = c.customer_id",
     "List customers who have orders", False),                                   # the question names the table
    ("SELECT DISTINCT c.full_name FROM customers c JOIN orders o ON o.customer_id = c.customer_id",
     "List customer names", False),                                              # repeats cannot matter
    ("SELECT full_name FROM customers WHERE customer_id NOT IN (SELECT o.customer_id FROM orders o "
     "JOIN refunds r ON r.order_id = o.order_id)", "Customers without an order", False),    # the set of a NOT IN
    ("SELECT COUNT(*) FROM customers c JOIN orders o ON o.customer_id = c.customer_id", "How many customers", False),
])
def test_unused_join_warnings(sql, question, warned, catalog):
    report = validate_sql(sql, catalog, "duckdb", question=question)
    assert [w.stage for w in report.warnings] == (["unused_join"] if warned else []), report.warnings


@pytest.mark.parametrize("question, warned", [("Total price at the gas stations", False), ("Total price", True)])
def test_a_table_named_in_two_words_counts_as_named(question, warned):
    from MoE.sql.catalog import parse_ddl
    report = validate_sql("SELECT SUM(s.price) FROM sales s JOIN gasstations g ON g.station_id = s.station_id",
                          parse_ddl(STATIONS), "duckdb", question=question)
    assert bool(report.warnings) is warned, report.warnings
