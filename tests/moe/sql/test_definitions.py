"""The schema's own definitions: found for the words a question uses, put before the experts, and checked."""

import pytest
import sqlglot

from MoE.sql import load_orchestrator, load_orchestrator_config
from MoE.sql.catalog import parse_ddl
from MoE.sql.definitions import schema_definitions, unmet_definitions
from MoE.sql.grounding import Grounding, ungrounded_filters
from support import REPO, SAMPLE_DDL
from scripted import scripted_runner

SHOP = parse_ddl(SAMPLE_DDL)
REVENUE = "Revenue is recognised on order_date for orders not cancelled."
KEEP = {"verdict": "keep", "revised_sql": "", "explanation": "Monthly revenue."}

LIBRARY = parse_ddl("""
-- A loan of one book. An overdue loan is one not returned within 21 days.
CREATE TABLE loans (loan_id INT PRIMARY KEY, member_id INT, returned_on DATE,
                    state VARCHAR CHECK (state IN ('open', 'returned', 'lost')));
-- Members. Active members are those with a loan in the last year; the status column says it too.
CREATE TABLE members (member_id INT PRIMARY KEY, name VARCHAR,
                      status VARCHAR CHECK (status IN ('active', 'lapsed')));
""")


@pytest.mark.parametrize("question, found", [
    ("List monthly revenue and refund totals for 2024.", [f"orders: {REVENUE}"]),
    ("Top customers by revenue", [f"orders: {REVENUE}"]),
    ("How many orders are there for each status?", []),        # every word names a column or asks for data
    ("Total refunds per reason", []),
])
def test_definitions_of_the_questions_words(question, found):
    assert [str(d) for d in schema_definitions(question, SHOP)] == found


@pytest.mark.parametrize("question, found", [
    ("How many overdue loans are there?", ["loans: An overdue loan is one not returned within 21 days."]),
    ("Count the active members", ["members: Active members are those with a loan in the last year; the status "
                                  "column says it too."]),
    ("How many lost loans?", []),     # "lost" is a value, not a defined word
])
def test_definitions_in_another_schema(question, found):
    assert [str(d) for d in schema_definitions(question, LIBRARY)] == found


def test_a_definition_names_the_values_it_implies():
    (revenue,) = schema_definitions("monthly revenue", SHOP)
    assert revenue.table == "orders" and revenue.values == (("status", "cancelled"),)
    (active,) = schema_definitions("active members", LIBRARY)
    assert active.values == (("status", "active"),)


@pytest.mark.parametrize("sql, problems", [
    ("SELECT SUM(total_amount) FROM orders", 1),
    ("SELECT SUM(total_amount) FROM orders WHERE status <> 'cancelled'", 0),
    ("SELECT SUM(total_amount) FROM orders WHERE status NOT IN ('Cancelled')", 0),
    ("SELECT SUM(amount) FROM refunds", 0),                     # the definition's table is not read
])
def test_sql_that_reads_the_table_must_test_the_defined_value(sql, problems):
    definitions = tuple(schema_definitions("revenue per month", SHOP))
    found = unmet_definitions(sqlglot.parse_one(sql, read="duckdb"), definitions)
    assert len(found) == problems
    if problems:
        assert found[0] == (f"the schema defines \"{REVENUE}\" (orders), but the SQL never tests orders.status "
                            "against 'cancelled'")


def test_a_definition_grounds_the_filter_it_implies():
    select = sqlglot.parse_one("SELECT SUM(total_amount) FROM orders WHERE status <> 'cancelled'", read="duckdb")
    question = "Total revenue in 2024"
    assert ungrounded_filters(select, Grounding(question)) != []
    assert ungrounded_filters(select, Grounding(question, definitions=tuple(schema_definitions(question, SHOP)))) == []


def test_the_experts_are_told_and_a_missed_definition_goes_back_once():
    config = load_orchestrator_config({
        "schema": {"schema_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")},
        "database": {"data_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_data.sql")},
        "router": {"plan_threshold": 9}, "experts": {"sql_writer_format": "json"}})
    loose = "SELECT SUM(total_amount) FROM orders WHERE YEAR(order_date) = 2024"
    strict = loose + " AND status <> 'cancelled'"
    runner, backend = scripted_runner({"sql": loose, "notes": ""}, {"sql": strict, "notes": ""}, KEEP)
    with load_orchestrator(config, runner=runner) as orchestrator:
        result = orchestrator.run("What was the revenue in 2024?", execute=True)
        expected = orchestrator.database.execute(strict, 10).rows
    first, repair = backend.user_messages()[:2]
    assert f"Definitions from the schema's comments for words of the question (follow them):\n- orders: {REVENUE}" in first
    assert "[definition] the schema defines" in result.repair_reasons[0] and "never tests orders.status" in repair
    assert result.ok and result.rows.rows == expected and result.report.warnings == ()
    assert result.definitions == schema_definitions("revenue", orchestrator.catalog)
    assert result.to_dict()["definitions"] == [f"orders: {REVENUE}"]


def test_plain_candidates_are_told_the_definitions_too():
    config = load_orchestrator_config({
        "schema": {"schema_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")},
        "database": {"sample_rows": 60}, "router": {"plan_threshold": 9},
        "experts": {"candidates": 2, "candidate_prompts": ["plain"], "tie_break": "plain", "validator_expert": False}})
    sql = "```sql\nSELECT SUM(total_amount) FROM orders WHERE status <> 'cancelled'\n```"
    runner, backend = scripted_runner(sql, sql)
    load_orchestrator(config, runner=runner).run("What was the revenue?")
    assert all(f"- orders: {REVENUE}\n\nQuestion: What was the revenue?" in m for m in backend.user_messages())
    runner, backend = scripted_runner(*[sql] * 6)    # the candidates, and their repairs if any
    load_orchestrator(config, runner=runner).run("How many orders are there?")   # no word defined
    assert all(m.endswith("\n\nQuestion: How many orders are there?") and "Definitions" not in m
               for m in backend.user_messages()[:2])
