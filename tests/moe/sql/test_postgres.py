"""A live PostgreSQL through a SQLAlchemy URL: started by the test on loopback, read-only enforced."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlglot

from MoE.sql import sample_data
from MoE.sql.database import DatabaseError, SQLAlchemyDatabase
from support import SAMPLE_DDL


def _pg_bin(name):
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))), None)
    return found


@pytest.fixture(scope="module")
def postgres_url(catalog):
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    try:
        import psycopg
    except ImportError:
        psycopg = None
    if not initdb or not pg_ctl or psycopg is None:
        if os.environ.get("QWEN3_REQUIRE_POSTGRES") == "1":
            pytest.fail("QWEN3_REQUIRE_POSTGRES=1 but PostgreSQL or psycopg is missing")
        pytest.skip("PostgreSQL server binaries or psycopg not installed")
    root = Path(tempfile.mkdtemp(prefix="qwen3-pg-"))  # pytest's own temp dirs are closed to other users
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    as_user = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(as_user + [initdb, "-D", str(data), "-A", "trust", "-U", "tester"], check=True, capture_output=True)
    subprocess.run(as_user + [pg_ctl, "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                              f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)
    url = f"postgresql+psycopg://tester@127.0.0.1:{port}/postgres"
    with psycopg.connect(f"host=127.0.0.1 port={port} user=tester dbname=postgres", autocommit=True) as con:
        for statement in sqlglot.parse(SAMPLE_DDL, read="duckdb"):
            if statement is not None and statement.key == "create":
                con.execute(statement.sql(dialect="postgres"))
        for table, rows in sample_data.generate(catalog, 30, seed=1).items():
            marks = ", ".join(["%s"] * len(rows[0]))
            con.cursor().executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
    yield url
    subprocess.run(as_user + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


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
        result = orch.run("Revenue per month", execute=True)
    assert result.ok and result.report.passed[-1] == "dry_run" and result.rows.columns == ("month", "revenue")
