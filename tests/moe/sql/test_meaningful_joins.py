"""Joins that mean something: a join true for every row is an error, no mechanical repair makes one, and a
repair round that gives back the SQL it was asked to fix ends the rounds."""

import pytest

from MoE.sql.antipatterns import trivial_join_problems
from MoE.sql.validator import validate_sql
import sqlglot

from test_orchestrator import KEEP, orchestrator

SELF = "SELECT p.name, COUNT(*) FROM orders o JOIN products p ON p.product_id = p.product_id GROUP BY p.name"


@pytest.mark.parametrize("sql, trivial", [
    ("SELECT * FROM a JOIN b ON a.id = a.id", True),
    ("SELECT * FROM a JOIN b ON id = id", True),
    ("SELECT * FROM a JOIN b ON 1 = 1", True),
    ("SELECT * FROM a JOIN b ON TRUE", True),
    ("SELECT * FROM a JOIN b ON a.id = b.id AND b.x = b.x", True),
    ("SELECT * FROM a JOIN b ON a.id = b.id", False),
    ("SELECT * FROM a JOIN b ON a.id = b.id AND b.kind = 'x'", False),
    ("SELECT * FROM a CROSS JOIN b", False),
    ("SELECT * FROM a JOIN b USING (id)", False),
])
def test_trivial_join_conditions(sql, trivial):
    assert bool(trivial_join_problems(sqlglot.parse_one(sql))) is trivial


def test_a_self_comparing_join_fails_the_joins_check(catalog, duck):
    report = validate_sql(SELF, catalog, "duckdb", duck)
    assert not report.ok and report.issues[0].stage == "joins"
    assert "compares a column with itself" in report.issues[0].message


def test_no_mechanical_repair_turns_a_join_into_a_self_comparison():
    """orders has no product_id; moving o.product_id to the only table that has one would give
    ON p.product_id = p.product_id, which "joins ok" used to pass. The SQL goes back to the writer instead."""
    wrong = {"sql": "SELECT p.name, COUNT(*) FROM orders o JOIN products p ON o.product_id = p.product_id "
                    "GROUP BY p.name", "notes": ""}
    right = {"sql": "SELECT p.name, COUNT(*) FROM order_items oi JOIN products p ON oi.product_id = p.product_id "
                    "GROUP BY p.name", "notes": ""}
    orch, backend = orchestrator(wrong, right, KEEP)
    result = orch.run("How many order lines per product name?")
    assert result.ok and "p.product_id = p.product_id" not in result.sql.replace("\n", " ")
    assert all("mechanical fix" not in r for r in result.repair_reasons)
    assert len(backend.requests) == 3   # writer, writer's repair, validator


def test_a_repair_that_returns_the_same_sql_stops_the_rounds():
    bad = {"sql": "SELECT nope FROM customers", "notes": ""}
    same = {"sql": "select NOPE\nfrom customers", "notes": "unchanged"}   # the same syntax tree
    orch, backend = orchestrator(bad, same, KEEP, experts={"max_repair_rounds": 3})
    result = orch.run("List customer names")
    assert not result.ok and result.repair_rounds == 1 and len(backend.requests) == 3
    assert result.repair_reasons[-1] == "the sql_writer returned the SQL it was asked to fix; no further rounds"
