"""Candidate selection and the sql_writer's SQL blocks, with a scripted backend on a real DuckDB."""

import pytest

from MoE.sql import load_orchestrator, load_orchestrator_config
from MoE.sql.candidates import Candidate, agreement_groups, preferred, result_signature, tied, vote
from MoE.sql.database import QueryResult
from MoE.sql.experts import split_sql_answer
from MoE.sql.validator import ValidationReport
from Qwen3.errors import ConfigError
from support import REPO
from scripted import scripted_runner

KEEP = {"verdict": "keep", "revised_sql": "", "explanation": "Lists emails."}
OK = ValidationReport("sql", passed=("safety",))


def result(columns, rows):
    return QueryResult(tuple(columns), rows, False, 0.0)


def test_signature_ignores_row_and_column_order():
    a = result(["x", "y"], [(1, "a"), (2, "b")])
    b = result(["y", "x"], [("b", 2), ("a", 1)])
    assert result_signature(a) == result_signature(b)
    assert result_signature(a) != result_signature(result(["x", "y"], [(1, "a")]))
    assert result_signature(result(["n"], [(2.0,)])) == result_signature(result(["n"], [(2,)]))


def test_groups_rank_non_empty_then_size_then_first():
    rows, other, empty = result(["x"], [(1,)]), result(["x"], [(2,)]), result(["x"], [])
    failed = Candidate("bad", ValidationReport("bad", issues=("e",)), None)
    cands = [Candidate("e1", OK, empty), Candidate("e2", OK, empty), Candidate("a", OK, other),
             Candidate("b", OK, rows), Candidate("c", OK, rows), failed]
    groups = agreement_groups(cands)
    assert groups == [[3, 4], [2], [0, 1]] and tied(groups, cands) == [[3, 4]]
    assert tied(agreement_groups(cands[2:4]), cands[2:4]) == [[0], [1]]


def test_a_tie_can_go_to_a_view():
    rows = lambda v: result(["x"], [(v,)])
    cands = [Candidate("p", OK, rows(1), "planned"), Candidate("l", OK, rows(2), "plain"),
             Candidate("s", OK, rows(3), "planned")]
    top = tied(agreement_groups(cands), cands)
    assert len(top) == 3
    assert preferred(top, cands, "plain") == 1 and preferred(top, cands, "planned") == 0
    assert preferred(top, cands, "direct") is None


def test_the_vote_says_who_won_and_why():
    rows = lambda v: result(["x"], [(v,)])
    agreeing = [Candidate("a", OK, rows(1)), Candidate("b", OK, rows(2)), Candidate("c", OK, rows(2))]
    outcome = vote(agreeing, "validator")
    assert (outcome.chosen, outcome.votes, outcome.tie, outcome.how) == (1, {0: 1, 1: 2, 2: 2}, [], "2 of 3 agree")
    tie = [Candidate("p", OK, rows(1), "planned"), Candidate("d", OK, rows(2), "direct")]
    assert vote(tie, "validator").tie == [0, 1]
    by_view = vote(tie, "direct")
    assert (by_view.chosen, by_view.tie, by_view.how) == (1, [], "a tie, went to the direct candidate")
    assert vote(tie, "plain").tie == [0, 1]           # no candidate of that view: the validator decides


def test_split_sql_answer():
    assert split_sql_answer("```sql\nSELECT 1;\n```\nCounts.") == ("SELECT 1", "Counts.")
    assert split_sql_answer("Here: SELECT a FROM t; done") == ("SELECT a FROM t", "")
    assert split_sql_answer("```\nWITH x AS (SELECT 1) SELECT * FROM x\n```")[0].startswith("WITH x")
    assert split_sql_answer("I cannot answer that.") == ("", "")
    assert split_sql_answer("```sql\nSELECT 1;") == ("SELECT 1", "")   # stopped where the block closes
    assert split_sql_answer("```sql\nSELECT a\nFROM t") == ("SELECT a\nFROM t", "")


def orchestrator(*replies, **experts):
    config = load_orchestrator_config({
        "schema": {"schema_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")},
        "database": {"sample_rows": 60}, "router": {"plan_threshold": 9}, "experts": experts})
    runner, backend = scripted_runner(*replies)
    return load_orchestrator(config, runner=runner), backend


def block(sql):
    return f"```sql\n{sql}\n```\nOne short note."


def test_sql_block_answers_become_the_writer_json():
    orch, backend = orchestrator(block("SELECT email FROM customers"), KEEP)
    result = orch.run("List all customer emails")
    # generation stops where the block closes: the note after it is never written
    assert result.ok and result.experts[0].output == {"sql": "SELECT email FROM customers", "notes": ""}
    assert "```sql code block" in backend.user_messages()[0]
    assert backend.requests[0].stop == ("\n```\n",) and backend.requests[1].stop == ()
    assert backend.requests[0].json_schema is None and backend.requests[1].json_schema is not None


def test_the_agreeing_candidates_win():
    a, b = "SELECT email FROM customers", "SELECT customer_id FROM customers"
    orch, backend = orchestrator(block(b), block(a), block(a + " ORDER BY email"), KEEP, candidates=3)
    result = orch.run("List all customer emails")
    assert result.ok and "email" in result.sql and "customer_id" not in result.sql
    assert [c["votes"] for c in result.candidates] == [1, 2, 2] and result.candidates[1]["chosen"]
    assert result.notes[-1] == "candidate 2 of 3 chosen (2 of 3 agree)"
    temperatures = [r.sampling.temperature for r in backend.requests[:3]]
    assert temperatures == [0.0, 0.0, 0.8]  # the first of each prompt (planned, direct) is greedy
    assert [c["prompt"] for c in result.candidates] == ["planned", "direct", "planned"]
    assert backend.batches == [3, 1]   # the three candidates in one runner call, then the validator
    assert [r.seed for r in backend.requests[:3]] == [1, 2, 3]


PLAN = {"intent": "emails", "tables": ["customers"], "joins": [], "filters": [], "grouping": [], "ordering": [],
        "steps": ["select email"]}


def test_the_direct_candidate_sees_neither_plan_nor_value_hints():
    config = load_orchestrator_config({
        "schema": {"schema_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")},
        "database": {"sample_rows": 60}, "router": {"always_plan": True}, "experts": {"candidates": 2}})
    a = "SELECT email FROM customers WHERE segment = 'business'"
    runner, backend = scripted_runner(PLAN, block(a), block(a), KEEP)
    result = load_orchestrator(config, runner=runner).run("List the emails of Business customers")
    planned, direct = backend.user_messages()[1:3]
    assert "Plan:" in planned and "'business'" in planned
    assert "Plan:" not in direct and "as the database spells them" not in direct
    assert result.ok and result.notes[-1] == "candidate 1 of 2 chosen (2 of 2 agree)"


def test_the_plain_candidate_gets_the_bare_prompt_with_the_users_schema():
    config = load_orchestrator_config({
        "schema": {"schema_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")},
        "database": {"sample_rows": 60}, "router": {"always_plan": True},
        "experts": {"candidates": 2, "candidate_prompts": ["planned", "plain"], "sql_writer_format": "json"}})
    a = "SELECT email FROM customers WHERE segment = 'business'"
    runner, backend = scripted_runner(PLAN, {"sql": a, "notes": "n"}, block(a), KEEP)
    orch = load_orchestrator(config, runner=runner)
    result = orch.run("List the emails of Business customers", extra_context="business means segment")
    plain = backend.requests[2]
    assert plain.messages[0].content == ("You are a DuckDB expert. Answer with one DuckDB query in a ```sql "
                                            "code block and nothing else.")
    assert plain.messages[-1].content == (f"Database schema:\n{orch.ddl.strip()}\n\nHint: business means segment"
                                            "\n\nQuestion: List the emails of Business customers")
    assert plain.json_schema is None   # a ```sql block even where the sql_writer answers in JSON
    assert [c["prompt"] for c in result.candidates] == ["planned", "plain"] and result.ok


def test_a_tie_goes_to_the_configured_view_without_asking_the_validator():
    a, b = "SELECT email FROM customers", "SELECT full_name FROM customers"
    orch, backend = orchestrator(block(a), block(b), KEEP, candidates=2, candidate_prompts=["planned", "plain"],
                                 tie_break="plain")
    result = orch.run("List all customer names")
    assert "full_name" in result.sql and result.notes[-1] == "candidate 2 of 2 chosen (a tie, went to the plain candidate)"
    assert len(backend.requests) == 3   # two candidates and the validator's review: no tie-break call


def test_candidate_prompts_can_be_one_view_only():
    a, b = "SELECT email FROM customers", "SELECT customer_id FROM customers"
    orch, backend = orchestrator(block(a), block(b), block(a), KEEP, candidates=3, candidate_prompts=["planned"])
    result = orch.run("List all customer emails")
    assert [r.sampling.temperature for r in backend.requests[:3]] == [0.0, 0.8, 0.8]
    assert result.candidates[0]["chosen"] and result.candidates[0]["votes"] == 2


def test_the_validator_breaks_a_tie():
    a, b = "SELECT email FROM customers", "SELECT full_name FROM customers"
    orch, backend = orchestrator(block(a), block(b), {"choice": 2, "reason": "names were asked"}, KEEP, candidates=2)
    result = orch.run("List all customer names")
    assert "full_name" in result.sql and result.notes[-1].endswith("(validator broke a tie)")
    assert "Candidate 1:" in backend.user_messages()[2] and "Candidate 2:" in backend.user_messages()[2]


def test_a_join_the_question_never_asked_for_is_dropped():
    sql = "SELECT c.email FROM customers c JOIN orders o ON o.customer_id = c.customer_id"
    orch, _ = orchestrator(block(sql), KEEP)
    result = orch.run("List all customer emails")
    assert result.ok and "orders" not in result.sql.lower()
    assert result.repair_reasons[0].endswith("mechanical fix: dropped the unused join(s) to orders")
    counted = "SELECT COUNT(*) FROM customers c JOIN orders o ON o.customer_id = c.customer_id"
    orch, _ = orchestrator(block(counted), KEEP)
    assert "orders" in orch.run("How many customer rows are there?").sql.lower()  # COUNT(*) uses the join


def test_a_tie_view_no_candidate_is_written_from_is_a_config_error():
    with pytest.raises(ConfigError, match="tie_break 'plain' is not one of candidate_prompts"):
        load_orchestrator_config({"schema": {"ddl": "CREATE TABLE t (x INT)"}, "experts": {"tie_break": "plain"}})


@pytest.mark.parametrize("repair_candidates", [True, False])
def test_each_candidate_can_be_repaired_before_the_vote(repair_candidates):
    good, bad = "SELECT email FROM customers", "SELECT no_such_column FROM customers"
    replies = [block(bad), block(good), block(good), KEEP] if repair_candidates else [block(bad), block(good), KEEP]
    orch, backend = orchestrator(*replies, candidates=2, repair_candidates=repair_candidates)
    result = orch.run("List all customer emails")
    assert result.ok and result.sql.split() == good.split()
    if repair_candidates:  # the repaired first candidate joins the vote
        assert [c["votes"] for c in result.candidates] == [2, 2] and result.notes[-1].endswith("(2 of 2 agree)")
        assert result.repair_reasons[0].startswith("candidate 1: [catalog]") and result.repair_rounds == 1
        repair = backend.user_messages()[2]    # both candidates are written first (one batch), then repaired
        assert "failed these checks" in repair and "unknown column 'no_such_column'" in repair
    else:                  # it stays out of the vote
        assert [c["votes"] for c in result.candidates] == [0, 1] and result.repair_rounds == 0
        assert result.candidates[0]["ok"] is False


def test_a_candidates_repair_keeps_its_view_and_its_warning_gets_one_round():
    config = load_orchestrator_config({
        "schema": {"schema_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")},
        "database": {"sample_rows": 60}, "router": {"always_plan": True},
        "experts": {"candidates": 2, "repair_candidates": True}})
    a = "SELECT email FROM customers WHERE segment = 'business'"
    both = "SELECT email FROM customers WHERE segment = 'business' AND segment = 'consumer'"
    runner, backend = scripted_runner(PLAN, block(a), block(both), block(a), KEEP)
    result = load_orchestrator(config, runner=runner).run("List the emails of Business customers")
    repair = backend.user_messages()[3]
    assert "one row cannot hold two values" in repair and "Plan:" not in repair   # the direct view, repaired
    assert result.repair_reasons[0].startswith("candidate 2: [same_row]")
    assert [(c["prompt"], c["votes"], c["warnings"]) for c in result.candidates] == [("planned", 2, []),
                                                                                      ("direct", 2, [])]
    assert len(backend.requests) == 5    # plan, two candidates, one repair, the validator: no round after the vote


@pytest.mark.parametrize("views, planner_calls", [(["plain"], 0), (["planned", "plain"], 1)])
def test_no_planner_call_when_no_candidate_reads_a_plan(views, planner_calls):
    good = "SELECT email FROM customers"
    replies = ([PLAN] if planner_calls else []) + [block(good), block(good)]
    config = load_orchestrator_config({
        "schema": {"schema_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")},
        "database": {"sample_rows": 60}, "router": {"always_plan": True},
        "experts": {"candidates": 2, "candidate_prompts": views, "tie_break": "plain", "validator_expert": False}})
    runner, backend = scripted_runner(*replies)
    result = load_orchestrator(config, runner=runner).run("List all customer emails")
    assert result.ok and [e.name for e in result.experts].count("planner") == planner_calls
    assert len(backend.requests) == len(replies)
    assert ("no candidate view reads one" in " ".join(result.notes)) == (planner_calls == 0)


@pytest.mark.parametrize("plain_advice", [True, False])
def test_plain_candidates_get_the_routers_advice_only_when_asked(plain_advice):
    bad = "SELECT no_such_column FROM orders"
    good = "SELECT SUM(total_amount) AS revenue FROM orders WHERE status <> 'cancelled'"
    orch, backend = orchestrator(block(bad), block(good), block(good), candidates=2, candidate_prompts=["plain"],
                                 tie_break="plain", validator_expert=False, repair_candidates=True,
                                 plain_advice=plain_advice)
    result = orch.run("What are the revenue and refund totals?")
    assert result.plan.several_measures and result.ok
    first, second, repair = backend.user_messages()
    for prompt in (first, second, repair):   # both candidates and the first one's repair round
        assert ("The question asks for several measures." in prompt) == plain_advice
    assert first.startswith("Database schema:") and "failed these checks" in repair
    orch, backend = orchestrator(block(good), block(good), candidates=2, candidate_prompts=["plain"],
                                 tie_break="plain", validator_expert=False, plain_advice=True)
    orch.run("What is the revenue total?")   # no advice for the question: the plain prompt as without the switch
    assert all("several measures" not in prompt for prompt in backend.user_messages())


def test_candidates_with_no_usable_answer_still_count_their_tokens():
    orch, backend = orchestrator("No query.", "Still none.", "Nothing.", "None again.", candidates=2, json_retries=1)
    result = orch.run("List all customer emails")
    assert result.error == "the sql_writer gave no usable candidate" and result.experts == []
    assert len(backend.requests) == 4   # two candidates, two attempts each, every one 100 + 20 tokens
    assert result.tokens == {"prompt": 400, "completion": 80, "reused": 0}
    assert result.to_dict()["tokens"] == result.tokens


def test_a_question_with_several_measures_takes_its_own_views():
    settings = dict(candidates=2, candidate_prompts=["plain"], several_measures_prompts=["planned"], tie_break="plain",
                    validator_expert=False)
    good = "SELECT SUM(total_amount) AS revenue FROM orders WHERE status <> 'cancelled'"
    orch, backend = orchestrator(block(good), block(good), **settings)
    result = orch.run("What are the revenue and refund totals?")
    assert result.plan.several_measures and [c["prompt"] for c in result.candidates] == ["planned", "planned"]
    assert all("Role: SQL writer" in m and "several measures" in m for m in backend.user_messages())
    orch, backend = orchestrator(block(good), block(good), **settings)
    result = orch.run("What is the revenue total?")
    assert [c["prompt"] for c in result.candidates] == ["plain", "plain"]
    assert all(m.startswith("Database schema:") for m in backend.user_messages())
