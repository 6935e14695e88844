import sqlite3

import pytest

from MoE.sql import sample_data
from MoE.sql.database import DatabaseError, DuckDBDatabase, SQLAlchemyDatabase
from MoE.sql.guard import UnsafeSQLError
from support import SAMPLE_DDL


def test_sample_data_is_deterministic_and_keeps_foreign_keys(catalog):
    first, second = sample_data.generate(catalog, 50, seed=3), sample_data.generate(catalog, 50, seed=3)
    assert first == second and first != sample_data.generate(catalog, 50, seed=4)
    for table in catalog.tables:
        names = [c.name for c in table.columns]
        for fk in table.foreign_keys:
            parent = catalog.table(fk.ref_table)
            parent_keys = {row[[c.name for c in parent.columns].index(fk.ref_columns[0])]
                           for row in first[parent.name]}
            for row in first[table.name]:
                value = row[names.index(fk.columns[0])]
                assert value is None or value in parent_keys


def test_embedded_database_has_rows(duck):
    result = duck.execute("SELECT status, COUNT(*) FROM orders GROUP BY status", limit=10)
    assert result.columns == ("status", "count_star()") and sum(r[1] for r in result.rows) == 120


def test_row_limit_truncates(duck):
    result = duck.execute("SELECT * FROM orders", limit=7)
    assert len(result.rows) == 7 and result.truncated


def test_guard_runs_inside_the_database_layer(duck):
    with pytest.raises(UnsafeSQLError):
        duck.execute("DELETE FROM orders", limit=1)
    assert duck.execute("SELECT COUNT(*) FROM orders", limit=1).rows == [(120,)]


def test_engine_blocks_files_even_past_the_guard(duck):
    with pytest.raises(Exception, match="disabled by configuration|Permission"):
        duck.connection.execute("SELECT * FROM read_csv('/etc/hostname')")
    with pytest.raises(Exception, match="locked|Cannot change"):
        duck.connection.execute("SET enable_external_access = true")


def test_statement_timeout(catalog):
    db = DuckDBDatabase.from_catalog(catalog, SAMPLE_DDL, rows=10, seed=1, timeout_s=0.3)
    with pytest.raises(DatabaseError, match="timed out after 0.3s"):
        db.execute("SELECT COUNT(*) FROM range(10000000000) a", limit=1)
    db.close()


def test_duckdb_file_opens_read_only(tmp_path, catalog):
    import duckdb

    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (x INT)")
    con.execute("INSERT INTO t VALUES (1), (2)")
    con.close()
    db = DuckDBDatabase.open_file(str(path), timeout_s=5)
    assert db.execute("SELECT SUM(x) FROM t", 1).rows == [(3,)]
    with pytest.raises(Exception, match="read-only|read only"):
        db.connection.execute("INSERT INTO t VALUES (3)")
    db.close()


def test_sqlalchemy_sqlite_is_read_only(tmp_path):
    path = tmp_path / "shop.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE orders (order_id INTEGER PRIMARY KEY, total REAL)")
    con.executemany("INSERT INTO orders VALUES (?, ?)", [(1, 5.0), (2, 7.5)])
    con.commit()
    con.close()
    db = SQLAlchemyDatabase(f"sqlite:///{path}", timeout_s=5)
    assert db.dialect == "sqlite"
    assert db.execute("SELECT SUM(total) FROM orders", 5).rows == [(12.5,)]
    db.explain("SELECT * FROM orders")
    with pytest.raises(DatabaseError, match="no such column"):
        db.execute("SELECT nope FROM orders", 5)
    raw = db.engine.raw_connection()  # even a raw connection from the pool refuses writes
    with pytest.raises(sqlite3.DatabaseError, match="readonly|not authorized"):
        raw.cursor().execute("DELETE FROM orders")
    raw.close()
    db.close()


def test_bad_url_is_a_clear_error():
    with pytest.raises(DatabaseError, match="cannot use database URL"):
        SQLAlchemyDatabase("nosuchdriver://x", timeout_s=1)


def test_the_embedded_database_is_read_only_past_the_guard(catalog):
    db = DuckDBDatabase.from_catalog(catalog, SAMPLE_DDL, rows=10, seed=1, timeout_s=5)
    folder = db._cleanup
    for statement in ("DELETE FROM orders", "DROP TABLE refunds", "INSERT INTO categories VALUES (99, 'x', NULL)",
                      "CREATE TABLE extra (x INT)", "UPDATE orders SET status = 'paid'"):
        with pytest.raises(DatabaseError, match="read-only"):
            db._run(statement, None)   # straight to DuckDB: the guard is not asked
    assert db.execute("SELECT COUNT(*) FROM orders", 1).rows == [(10,)]
    db.close()
    import os
    assert not os.path.exists(folder)   # the temporary database file goes with it
