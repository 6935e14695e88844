"""Filters must come from somewhere: small literal cases, and the invented filter of a real run."""

import pytest
import sqlglot

from MoE.sql import load_orchestrator, load_orchestrator_config
from MoE.sql.grounding import Grounding, ungrounded_filters
from Qwen3.errors import ConfigError

from scripted import scripted_runner


def problems(sql, question, context="", values=(), examples=()):
    tree = sqlglot.parse_one(sql, read="duckdb")
    grounding = Grounding(question, context, tuple(values), tuple(examples))
    return [p for select in tree.find_all(sqlglot.exp.Select) for p in ungrounded_filters(select, grounding)]


@pytest.mark.parametrize("sql, question, context, values, ungrounded", [
    ("SELECT m.name FROM members m JOIN loans l ON l.member_id = m.id WHERE l.returned_on IS NULL "
     "GROUP BY m.name ORDER BY COUNT(*) DESC LIMIT 1", "Which member has borrowed the most books?", "", (),
     ["the question does not ask for l.returned_on IS NULL"]),
    ("SELECT COUNT(*) FROM loans WHERE returned_on IS NULL", "How many loans are not returned yet?", "", (), []),
    ("SELECT * FROM pets WHERE kind = 'dog'", "List the dogs", "", (), []),
    ("SELECT * FROM pets WHERE kind = 'Dog'", "List the hounds", "", ("Dog",), []),            # a grounded value
    ("SELECT * FROM pets WHERE kind = 'cat'", "List the dogs", "", (), ["the question does not ask for kind = 'cat'"]),
    ("SELECT * FROM pets WHERE kind = 'cat'", "List them", "only cats", (), []),               # the extra context
    ("SELECT * FROM orders WHERE status <> 'cancelled'", "Revenue per month", "", (),
     ["the question does not ask for status <> 'cancelled'"]),
    ("SELECT * FROM orders WHERE status <> 'cancelled'", "Revenue per month", "", (), []),     # an example's filter
    ("SELECT * FROM orders WHERE order_date >= '2024-01-01' AND order_date < '2025-01-01'", "Orders in 2024", "", (), []),
    ("SELECT * FROM orders WHERE order_date >= '2023-01-01'", "Orders in 2024", "", (),
     ["the question does not ask for order_date >= '2023-01-01'"]),
    ("SELECT name FROM t GROUP BY name HAVING COUNT(*) > 2", "Names with at least three rows", "", (), []),
    ("SELECT name FROM t WHERE age > 30", "Names of people over thirty", "", (), []),
    ("SELECT name FROM t WHERE age > 30", "Names of people", "", (), ["the question does not ask for age > 30"]),
    ("SELECT name FROM t ORDER BY age DESC LIMIT 5", "The five oldest", "", (), []),
    ("SELECT name FROM t ORDER BY age DESC LIMIT 3", "The oldest", "", (), ["the question does not ask for LIMIT 3"]),
    ("SELECT name FROM t ORDER BY age DESC LIMIT 1", "Who is older, Ann or Bob?", "", (), []),
    ("SELECT * FROM a JOIN b ON a.id = b.a_id AND b.kind = 'x'", "Rows of a", "", (),
     ["the question does not ask for b.kind = 'x'"]),
    ("SELECT * FROM t WHERE t.x > (SELECT AVG(x) FROM t)", "Rows above the average", "", (), []),
    ("SELECT * FROM t WHERE rank = 2", "Who finished second?", "", (), []),
    ("SELECT * FROM t WHERE is_official = 'T'", "Where is English the official language?", "", (), []),
])
def test_filters_and_where_they_come_from(sql, question, context, values, ungrounded):
    examples = ["SELECT SUM(total) FROM orders WHERE status <> 'cancelled'"] if "Revenue" in question and not ungrounded else []
    assert problems(sql, question, context, values, examples) == ungrounded


LIBRARY = """
CREATE TABLE members (member_id INTEGER PRIMARY KEY, name VARCHAR NOT NULL);
CREATE TABLE loans (loan_id INTEGER PRIMARY KEY, member_id INTEGER NOT NULL REFERENCES members(member_id),
                    borrowed_on DATE NOT NULL, returned_on DATE);
"""


def test_an_invented_filter_goes_back_to_the_writer_and_lowers_the_confidence():
    invented = ("```sql\nSELECT m.name, COUNT(*) AS loans FROM members m JOIN loans l ON l.member_id = m.member_id "
                "WHERE l.returned_on IS NULL GROUP BY m.name ORDER BY loans DESC LIMIT 1\n```")
    fixed = ("```sql\nSELECT m.name, COUNT(*) AS loans FROM members m JOIN loans l ON l.member_id = m.member_id "
             "GROUP BY m.name ORDER BY loans DESC LIMIT 1\n```")
    keep = {"verdict": "keep", "revised_sql": "", "explanation": "The member with the most loans."}
    runner, backend = scripted_runner(invented, fixed, keep)
    config = load_orchestrator_config({"schema": {"ddl": LIBRARY}, "database": {"sample_rows": 40},
                                       "router": {"plan_threshold": 9}})
    with load_orchestrator(config, runner=runner) as orch:
        result = orch.run("Which member has borrowed the most books?", execute=True)
    assert "the question does not ask for l.returned_on IS NULL" in backend.user_messages()[1]
    assert result.ok and "returned_on" not in result.sql and result.repair_rounds == 1
    assert result.confidence.level == "medium"   # one repair round by the writer


def test_with_ungrounded_left_out_of_repair_warnings_the_filter_is_reported_but_not_repaired():
    invented = ("```sql\nSELECT m.name, COUNT(*) AS loans FROM members m JOIN loans l ON l.member_id = m.member_id "
                "WHERE l.returned_on IS NULL GROUP BY m.name ORDER BY loans DESC LIMIT 1\n```")
    keep = {"verdict": "keep", "revised_sql": "", "explanation": "The member with the most open loans."}
    runner, backend = scripted_runner(invented, keep)
    warnings = ["fan_out", "unused_join", "join_filter", "same_row", "definition"]
    config = load_orchestrator_config({"schema": {"ddl": LIBRARY}, "database": {"sample_rows": 40},
                                       "router": {"plan_threshold": 9}, "experts": {"repair_warnings": warnings}})
    with load_orchestrator(config, runner=runner) as orch:
        result = orch.run("Which member has borrowed the most books?", execute=True)
    assert result.repair_rounds == 0 and len(backend.user_messages()) == 2   # writer and validator only
    assert "returned_on IS NULL" in result.sql
    assert [w.stage for w in result.report.warnings] == ["ungrounded"]
    assert result.confidence.level != "high"


def test_repair_warnings_names_only_warnings():
    with pytest.raises(ConfigError, match="repair_warnings"):
        load_orchestrator_config({"schema": {"ddl": LIBRARY}, "experts": {"repair_warnings": ["dry_run"]}})
