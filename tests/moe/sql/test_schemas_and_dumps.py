"""Schemas as namespaces on real engines, and DDL as pg_dump / mysqldump write it, produced from the servers
the tests start and compared with what the live database says."""

import pytest

from MoE.sql.catalog import Catalog, parse_ddl
from MoE.sql.database import connect
from MoE.sql.introspect import introspect
from MoE.sql.linking import link_schema
from MoE.sql.validator import validate_sql
from MoE.sql.value_index import ValueIndex
from MoE.sql.values import ground_values
from Qwen3.errors import ConfigError

from servers import engine_named
from sample_warehouse import COLUMN_COMMENT, TABLE_COMMENT


def keys(catalog: Catalog) -> dict:
    """Every table's key, foreign keys and columns (views aside: a dump holds their query, not their columns)."""
    return {t.ref: (t.primary_key, {(fk.columns, fk.ref_table, fk.ref_columns) for fk in t.foreign_keys},
                    tuple(c.name for c in t.columns)) for t in catalog.tables if t.name != "dog owners"}


def test_pg_dump_keeps_every_key_schema_and_comment(postgres_server):
    dump = postgres_server.dump("postgres")
    assert "ADD CONSTRAINT" in dump and "CREATE SCHEMA sales" in dump   # keys arrive as ALTER TABLE statements
    parsed = parse_ddl(dump, "postgres")
    live = connect(postgres_server.admin_url, 5)
    try:
        introspected = introspect(live, include=("public", "sales", "finance"))
    finally:
        live.close()
    assert keys(parsed) == keys(introspected)
    assert parsed.table("sales.orders").foreign_keys[0].ref_table == "sales.customers"
    assert parsed.table("order lines").comment == TABLE_COMMENT
    assert parsed.table("order lines").column("Select").comment == COLUMN_COMMENT


def test_mysqldump_keeps_every_key_and_comment(mariadb_server):
    dump = mariadb_server.dump("shop")
    assert "ENGINE=InnoDB" in dump and "CONSTRAINT" in dump
    parsed = parse_ddl(dump, "mysql")
    live = connect(mariadb_server.admin_url, 5)
    try:
        assert keys(parsed) == keys(introspect(live))
    finally:
        live.close()
    assert parsed.table("order lines").comment == TABLE_COMMENT
    assert parsed.table("order lines").column("Select").comment == COLUMN_COMMENT


@pytest.fixture(params=["postgres", "duckdb"])
def namespaced(request):
    """An engine holding the schemas sales and finance, each with a table named orders."""
    engine = engine_named(request.param, request)
    database = connect(engine.url, 5)
    yield engine, database
    database.close()


def test_tables_that_share_a_name_stay_distinct(namespaced):
    engine, database = namespaced
    catalog = introspect(database, include=("sales", "finance"))
    assert sorted(t.ref for t in catalog.tables) == ["finance.orders", "sales.customers", "sales.orders"]
    assert catalog.table("orders") is None                        # ambiguous without its schema
    assert catalog.table("finance.orders").column("amount") is not None
    assert catalog.table("sales.orders").column("amount") is None
    assert catalog.table("sales.orders").foreign_keys[0].ref_table == "sales.customers"
    assert "CREATE TABLE finance.orders (" in catalog.to_prompt(engine.dialect)
    report = validate_sql("SELECT c.name, SUM(o.total) FROM sales.orders AS o JOIN sales.customers AS c "
                          "ON o.customer_id = c.customer_id GROUP BY c.name", catalog, engine.dialect, database)
    assert report.ok and report.passed[-1] == "dry_run", report.issues
    ambiguous = validate_sql("SELECT COUNT(*) FROM orders", catalog, engine.dialect, database)
    assert "several schemas: write finance.orders or sales.orders" in str(ambiguous.issues[0])
    wrong = validate_sql("SELECT amount FROM sales.orders", catalog, engine.dialect, database)
    assert not wrong.ok and wrong.issues[0].stage == "catalog"


def test_values_and_linking_keep_the_schema(namespaced):
    _, database = namespaced
    catalog = introspect(database, include=("sales", "finance"))
    index = ValueIndex.build(catalog, database)
    assert [(m.table, m.column, m.value) for m in ground_values("Orders of Acme", index)] == \
        [("sales.customers", "name", "Acme")]
    linked = link_schema("total of orders per customer name", catalog, full_schema_max_columns=1, max_tables=2,
                         column_budget=0.9)
    assert "sales.orders" in {t.ref for t in linked.catalog.tables}


def test_the_default_schema_and_an_unknown_one(namespaced):
    _, database = namespaced
    assert "Student" in {t.ref for t in introspect(database).tables}        # default schema: bare names
    with pytest.raises(ConfigError, match="schema.include.*'nosuch' not found"):
        introspect(database, include=("nosuch",))
