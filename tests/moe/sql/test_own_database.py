"""The library side of "your own database": the YAML form, a DDL that wins, and a schema of 5,000 columns."""

import duckdb
import pytest

from MoE.sql import load_orchestrator

from scripted import scripted_runner

KEEP = {"verdict": "keep", "revised_sql": "", "explanation": "Counts the rows."}


def config(url, tmp_path, **extra):
    return {"database": {"url": str(url)}, "cache": {"dir": str(tmp_path / "cache")}, "router": {"plan_threshold": 9},
            **extra}


def test_a_url_in_the_config_is_enough(duckdb_warehouse, tmp_path):
    runner, backend = scripted_runner('```sql\nSELECT COUNT(*) FROM "Has_Pet"\n```', KEEP)
    messages = []
    with load_orchestrator(config(duckdb_warehouse, tmp_path), runner=runner, on_progress=messages.append) as orch:
        assert orch.config.dialect == "duckdb" and len(orch.catalog.tables) == 5
        result = orch.run("How many pet owners are there?", execute=True)
    assert result.ok and result.rows.rows == [(3,)]
    assert 'CREATE TABLE "order lines"' in backend.requests[0].messages[0].content   # names quoted as DuckDB needs
    assert any(m.startswith("schema: 5 tables") for m in messages)


def test_the_ddl_wins_where_both_are_given(duckdb_warehouse, tmp_path):
    runner, _ = scripted_runner('```sql\nSELECT COUNT(*) FROM "Pets"\n```', KEEP)
    ddl = 'CREATE TABLE "Pets" ("PetID" INTEGER PRIMARY KEY, "PetType" VARCHAR);'
    with load_orchestrator(config(duckdb_warehouse, tmp_path, schema={"ddl": ddl}), runner=runner) as orch:
        assert [t.name for t in orch.catalog.tables] == ["Pets"]
        assert orch.run("How many pets?", execute=True).rows.rows == [(3,)]   # the database still runs it


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """100 tables of 50 columns: 5,000 columns."""
    path = tmp_path_factory.mktemp("wide") / "wide.duckdb"
    con = duckdb.connect(str(path))
    for t in range(100):
        columns = ", ".join([f"t{t}_id INTEGER PRIMARY KEY"] + [f"measure_{c} DOUBLE" for c in range(40)] +
                            [f"label_{c} VARCHAR" for c in range(9)])
        con.execute(f"CREATE TABLE table_{t} ({columns})")
        con.execute(f"INSERT INTO table_{t} (t{t}_id, label_0) SELECT i, 'item ' || i FROM range(20) r(i)")
    con.close()
    return path


def test_a_schema_of_5000_columns_works(wide, tmp_path):
    runner, backend = scripted_runner("```sql\nSELECT AVG(measure_3) FROM table_42\n```", KEEP)
    with load_orchestrator(config(wide, tmp_path), runner=runner) as orch:
        assert orch.catalog.column_count == 5000
        result = orch.run("What is the average measure 3 of table 42?", execute=True)
    assert result.ok, result.report
    assert result.linked.total_columns == 5000 and result.linked.kept_columns < 1000
    assert "table_42" in backend.requests[0].messages[0].content
