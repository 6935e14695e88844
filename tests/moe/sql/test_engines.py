"""Every engine that runs on this machine, end to end: DuckDB and SQLite files, PostgreSQL and MariaDB servers
started on 127.0.0.1, each holding the sample warehouse (sample_warehouse.py), reached as a user would reach
them - a read-only login or a file path."""

import hashlib

import pytest
import sqlglot

from MoE.sql.database import DatabaseError, connect
from MoE.sql.introspect import introspect
from MoE.sql.validator import validate_sql
from MoE.sql.value_index import ValueIndex
from MoE.sql.values import ground_values

from sample_warehouse import COLUMN_COMMENT, ROW_COUNTS, TABLE_COMMENT


def sql_for(engine, sql: str) -> str:
    """A statement written with PostgreSQL quoting, in the engine's dialect (as written where sqlglot cannot)."""
    try:
        return sqlglot.transpile(sql, read="postgres", write=engine.dialect)[0]
    except sqlglot.errors.SqlglotError:
        return sql


@pytest.fixture
def db(engine):
    database = connect(engine.url, timeout_s=5)
    yield database
    database.close()


def test_introspection_reads_tables_keys_and_comments(engine, db):
    catalog = introspect(db)
    assert {t.name for t in catalog.tables} == set(ROW_COUNTS) | {"dog owners"}   # tables and views, default schema
    assert [c.name for c in catalog.table("dog owners").columns] == ["Fname", "LName"]
    assert catalog.table("Student").primary_key == ("StuID",)
    assert catalog.table("Has_Pet").primary_key == ()            # a table without a primary key
    assert {(fk.columns, fk.ref_table, fk.ref_columns) for fk in catalog.table("Has_Pet").foreign_keys} == {
        (("StuID",), "Student", ("StuID",)), (("PetID",), "Pets", ("PetID",))}
    lines = catalog.table("order lines")
    assert [c.name for c in lines.columns] == ["line id", "Select", "PetID"]
    assert "INT" in lines.column("line id").type.upper()
    assert any(t in lines.column("Select").type.upper() for t in ("CHAR", "TEXT"))
    if engine.dialect != "sqlite":   # SQLite keeps no comments
        assert lines.comment == TABLE_COMMENT and lines.column("Select").comment == COLUMN_COMMENT


def test_value_grounding_finds_values_behind_names_that_need_quoting(db):
    index = ValueIndex.build(introspect(db), db)
    found = {(m.table, m.column, m.value, m.exact) for m in ground_values("Which students have a dog?", index)}
    assert ("Pets", "PetType", "dog", True) in found
    close = ground_values("How many 'Groming' lines?", index)   # misspelt, in a column named Select
    assert [(m.table, m.column, m.value, m.exact) for m in close] == [("order lines", "Select", "Grooming", False)]


def test_dry_run_and_execute(engine, db):
    catalog = introspect(db)
    sql = sql_for(engine, 'SELECT s."Fname", COUNT(*) AS pets FROM "Student" AS s JOIN "Has_Pet" AS h '
                          'ON s."StuID" = h."StuID" GROUP BY s."Fname" ORDER BY pets DESC')
    report = validate_sql(sql, catalog, engine.dialect, db)
    assert report.ok and report.passed[-1] == "dry_run", report.issues
    rows = db.execute(sql_for(engine, 'SELECT "Select", COUNT(*) FROM "order lines" GROUP BY 1 ORDER BY 1'), 10).rows
    assert [tuple(r) for r in rows] == [("Grooming", 2), ("Vet visit", 1)]
    wrong = validate_sql(sql_for(engine, 'SELECT p."Fname" FROM "Pets" AS p'), catalog, engine.dialect, db)
    assert not wrong.ok and wrong.issues[0].stage in ("catalog", "dry_run") and "Fname" in str(wrong.issues[0])


SLOW = {
    "duckdb": "SELECT COUNT(*) FROM range(100000000000) AS t(a)",
    "sqlite": "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT COUNT(*) FROM c",
    "postgres": "SELECT COUNT(*) FROM generate_series(1, 1000000000) AS a",
    "mysql": "SELECT COUNT(*) FROM " + ", ".join(f"`Student` AS s{i}" for i in range(7)),  # 34^7 rows
}


def test_statement_timeout(engine):
    database = connect(engine.url, timeout_s=0.5)
    try:
        with pytest.raises(DatabaseError, match="timed out|canceling statement"):
            database.execute(SLOW[engine.dialect], 1)
        assert database.execute(sql_for(engine, 'SELECT COUNT(*) FROM "Pets"'), 1).rows[0][0] == 3  # still usable
    finally:
        database.close()


def writes(engine, out) -> list[str]:
    """Statements that would change the database or write a file, as each engine spells them."""
    common = ['DROP TABLE "Has_Pet"', 'DELETE FROM "Pets"', 'UPDATE "Pets" SET "weight" = 0',
              "INSERT INTO \"Pets\" VALUES (9, 'cat', 1, 1.0)", 'CREATE TABLE "extra" ("x" INTEGER)',
              'WITH gone AS (DELETE FROM "Pets" RETURNING *) SELECT * FROM gone']
    own = {
        "duckdb": [f"ATTACH '{out / 'a.duckdb'}' AS other", f"COPY \"Pets\" TO '{out / 'pets.csv'}'"],
        "sqlite": [f"ATTACH DATABASE '{out / 'a.sqlite'}' AS other", f"VACUUM INTO '{out / 'copy.sqlite'}'",
                   "PRAGMA writable_schema = ON", "PRAGMA query_only = OFF"],
        "postgres": [f"COPY \"Pets\" TO '{out / 'pets.csv'}'", "SET TRANSACTION READ WRITE; DELETE FROM \"Pets\""],
        "mysql": [f"SELECT * FROM `Pets` INTO OUTFILE '{out / 'pets.txt'}'", "SET TRANSACTION READ WRITE"],
    }[engine.dialect]
    return [sql_for(engine, s) for s in common] + own


def snapshot(engine) -> dict:
    admin = connect(engine.admin_url or engine.url, timeout_s=5)
    try:
        counts = {t: admin.execute(sql_for(engine, f'SELECT COUNT(*) FROM "{t}"'), 1).rows[0][0] for t in ROW_COUNTS}
        tables = sorted(t.name for t in introspect(admin).tables)
        owners = admin.execute(sql_for(engine, 'SELECT COUNT(*) FROM "dog owners"'), 1).rows[0][0]
    finally:
        admin.close()
    files = {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in engine.files}
    return {"counts": counts, "tables": tables, "files": files, "view rows": owners}


def test_the_database_refuses_writes_that_bypass_the_guard(engine, tmp_path):
    before = snapshot(engine)
    assert before["counts"] == ROW_COUNTS
    database = connect(engine.url, timeout_s=5)
    try:
        for statement in writes(engine, tmp_path):
            with pytest.raises(DatabaseError):
                database._run(statement, None)   # straight to the engine: the guard is not asked
                pytest.fail(f"{engine.dialect} ran {statement!r}")
    finally:
        database.close()
    assert snapshot(engine) == before
    assert list(tmp_path.iterdir()) == []       # no file was written either


def test_a_writing_login_is_still_read_only_in_its_session(engine):
    """Even connected as a user who may write, the orchestrator's sessions refuse changes."""
    if engine.admin_url is None:
        pytest.skip("files have no separate login")
    before = snapshot(engine)
    database = connect(engine.admin_url, timeout_s=5)
    try:
        for statement in ['DROP TABLE "Has_Pet"', 'DELETE FROM "Pets"', "INSERT INTO \"Pets\" VALUES (9, 'cat', 1, 1.0)",
                          'UPDATE "Pets" SET "weight" = 0']:
            with pytest.raises(DatabaseError, match="read.only|READ ONLY"):
                database._run(sql_for(engine, statement), None)
    finally:
        database.close()
    assert snapshot(engine) == before
