"""A live PostgreSQL through a SQLAlchemy URL: started by the test on loopback, read-only enforced."""

import pytest
import sqlglot

from MoE.sql import sample_data
from MoE.sql.database import DatabaseError, SQLAlchemyDatabase
from support import SAMPLE_DDL


@pytest.fixture(scope="module")
def postgres_url(postgres_server, catalog):
    """The sample e-commerce schema with 30 rows a table, in its own database of the shared server."""
    import psycopg

    admin = postgres_server.admin_url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute("CREATE DATABASE ecommerce")
    with psycopg.connect(admin.rsplit("/", 1)[0] + "/ecommerce", autocommit=True) as con:
        for statement in sqlglot.parse(SAMPLE_DDL, read="duckdb"):
            if statement is not None and statement.key == "create":
                con.execute(statement.sql(dialect="postgres"))
        for table, rows in sample_data.generate(catalog, 30, seed=1).items():
            marks = ", ".join(["%s"] * len(rows[0]))
            con.cursor().executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    return postgres_server.admin_url.rsplit("/", 1)[0] + "/ecommerce"


def test_reads_work_and_writes_are_refused(postgres_url):
    db = SQLAlchemyDatabase(postgres_url, timeout_s=2)
    assert db.dialect == "postgres"
    assert db.execute("SELECT COUNT(*) FROM orders", 5).rows == [(30,)]
    db.explain("SELECT to_char(order_date, 'YYYY-MM') FROM orders")
    raw = db.engine.raw_connection()  # past the guard, the session itself is read-only
    with pytest.raises(Exception, match="read-only transaction"):
        raw.cursor().execute("DELETE FROM orders")
    raw.rollback()
    raw.close()
    assert db.execute("SELECT COUNT(*) FROM orders", 5).rows == [(30,)]
    db.close()


def test_statement_timeout(postgres_url):
    db = SQLAlchemyDatabase(postgres_url, timeout_s=0.3)
    with pytest.raises(DatabaseError, match="timed out|canceling statement"):
        db.execute("SELECT COUNT(*) FROM generate_series(1, 100000000) a, generate_series(1, 10) b", 1)
    db.close()


def test_orchestrator_on_postgres(postgres_url):
    from MoE.sql import load_orchestrator, load_orchestrator_config
    from support import REPO
    from scripted import scripted_runner

    sql = "SELECT to_char(order_date, 'YYYY-MM') AS month, SUM(total_amount) AS revenue FROM orders GROUP BY 1 ORDER BY 1"
    runner, _ = scripted_runner(f"```sql\n{sql}\n```", {"verdict": "keep", "revised_sql": "", "explanation": "e"})
    config = load_orchestrator_config({
        "schema": {"schema_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")},
        "dialect": "postgres", "database": {"kind": "url", "url": postgres_url}, "router": {"plan_threshold": 9}})
    with load_orchestrator(config, runner=runner) as orch:
        result = orch.run("Order totals per month", execute=True)
    assert result.ok and result.report.passed[-1] == "dry_run" and result.rows.columns == ("month", "revenue")
