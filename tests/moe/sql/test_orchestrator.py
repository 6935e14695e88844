"""The orchestrator's control flow with a scripted backend (routing, repairs, retries), on a real DuckDB."""

import json

import pytest

from MoE.sql import load_orchestrator, load_orchestrator_config
from MoE.sql.guard import check_read_only
from MoE.sql.repair import FAN_OUT_ADVICE, SEVERAL_MEASURES_ADVICE
from support import REPO
from scripted import scripted_runner

GOOD = "SELECT c.full_name, COUNT(*) AS orders FROM customers c JOIN orders o ON o.customer_id = c.customer_id GROUP BY 1"
KEEP = {"verdict": "keep", "revised_sql": "", "explanation": "Counts orders per customer."}
PLAN = {"intent": "revenue per month", "tables": ["orders"], "joins": [], "grouping": ["month"], "ordering": [],
        "filters": ["orders.status = 'paid'", "orders.order_date >= '2024-01-01'"], "steps": ["sum by month"]}


def orchestrator(*replies, **overrides):
    """The sql_writer answers in JSON here (sql_writer_format: json); test_candidates.py covers sql blocks."""
    overrides["experts"] = {"sql_writer_format": "json", **overrides.get("experts", {})}
    config = load_orchestrator_config({
        "schema": {"schema_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")},
        "database": {"sample_rows": 60}, "router": {"plan_threshold": 9}, **overrides})
    runner, backend = scripted_runner(*replies)
    return load_orchestrator(config, runner=runner), backend


def test_simple_lookup_skips_the_planner():
    orch, backend = orchestrator({"sql": "SELECT email FROM customers", "notes": ""}, KEEP)
    result = orch.run("List all customer emails", execute=True)
    assert result.ok and [e.name for e in result.experts] == ["sql_writer", "validator"]
    assert result.repair_rounds == 0 and len(result.rows.rows) == 60
    assert "Question: List all customer emails" in backend.user_messages()[0]


def test_complex_question_is_planned_and_the_plan_is_grounded():
    sql = "SELECT date_trunc('month', order_date) AS m, SUM(total_amount) FROM orders GROUP BY 1"
    orch, backend = orchestrator(PLAN, {"sql": sql, "notes": ""}, KEEP, router={"plan_threshold": 2})
    result = orch.run("Total order amount per month in 2024")
    assert [e.name for e in result.experts] == ["planner", "sql_writer", "validator"]
    assert result.notes == ["dropped planned filter not grounded in the question: orders.status = 'paid'"]
    writer_prompt = backend.user_messages()[1]
    assert "order_date >= '2024-01-01'" in writer_prompt and "status = 'paid'" not in writer_prompt


def test_failing_sql_goes_back_with_the_errors():
    orch, backend = orchestrator({"sql": "SELECT ful_name FROM customers", "notes": ""},
                                 {"sql": "SELECT full_name FROM customers", "notes": "fixed"}, KEEP)
    result = orch.run("List customer names")
    assert result.ok and result.repair_rounds == 1
    feedback = backend.user_messages()[1]
    assert '"ful_name" not found' in result.repair_reasons[0]  # the database binder's own message
    assert '"ful_name" not found' in feedback and '"full_name"' in feedback and "SELECT ful_name" in feedback


def test_repair_rounds_are_bounded_and_reported():
    bad = {"sql": "SELECT nope FROM customers", "notes": ""}
    orch, _ = orchestrator(bad, bad, KEEP, experts={"max_repair_rounds": 1})
    result = orch.run("List customer names", execute=True)
    assert not result.ok and result.repair_rounds == 1 and result.rows is None
    assert result.report.issues[0].stage == "catalog"


def test_mechanical_fix_needs_no_model_call():
    sql = ("WITH a AS (SELECT date_trunc('month', order_date) AS month, SUM(total_amount) AS revenue FROM orders GROUP BY 1), "
           "b AS (SELECT date_trunc('month', refund_date) AS month, SUM(amount) AS refunds FROM refunds GROUP BY 1) "
           "SELECT month, revenue, refunds FROM a JOIN b ON a.month = b.month")
    orch, backend = orchestrator({"sql": sql, "notes": ""}, KEEP)
    result = orch.run("Monthly order totals and refunds")
    assert result.ok and result.repair_rounds == 1 and "mechanical fix: qualified a.month" in result.repair_reasons[0]
    assert len(backend.requests) == 2


def test_fan_out_warning_gets_one_repair_round():
    fanned = "SELECT SUM(o.total_amount), AVG(r.amount) FROM orders o JOIN refunds r ON r.order_id = o.order_id"
    orch, backend = orchestrator({"sql": fanned, "notes": ""}, {"sql": fanned, "notes": ""}, KEEP)
    result = orch.run("Order totals and refunds")
    assert result.ok and result.repair_rounds == 1 and result.report.warnings
    assert "fan_out" in backend.user_messages()[1]


def test_fan_out_is_fixed_by_aggregating_the_joined_table_first():
    fanned = "SELECT SUM(o.total_amount) AS revenue, SUM(r.amount) AS refunded FROM orders o " \
             "JOIN refunds r ON r.order_id = o.order_id"
    orch, backend = orchestrator({"sql": fanned, "notes": ""}, KEEP)
    result = orch.run("Order totals and refunds", execute=True)
    assert result.ok and not result.report.warnings and "mechanical fix: aggregated refunds" in result.repair_reasons[0]
    assert len(backend.requests) == 2 and result.rows.columns == ("revenue", "refunded")
    truth = orch.database.execute(
        "SELECT (SELECT SUM(total_amount) FROM orders WHERE order_id IN (SELECT order_id FROM refunds)), "
        "(SELECT SUM(amount) FROM refunds)", limit=1).rows[0]
    assert [float(v) for v in result.rows.rows[0]] == pytest.approx([float(v) for v in truth])


def test_an_error_round_does_not_use_up_the_warning_round():
    missing = "SELECT SUM(total_amount), SUM(amount) FROM orders"
    fanned = "SELECT SUM(o.total_amount), AVG(r.amount) FROM orders o JOIN refunds r ON r.order_id = o.order_id"
    fixed = "SELECT (SELECT SUM(total_amount) FROM orders), (SELECT AVG(amount) FROM refunds)"
    orch, backend = orchestrator(*({"sql": s, "notes": ""} for s in (missing, fanned, fixed)), KEEP,
                                 experts={"max_repair_rounds": 3})
    result = orch.run("Order totals and average refund")
    assert result.ok and result.repair_rounds == 2 and not result.report.warnings
    assert FAN_OUT_ADVICE in backend.user_messages()[1] and "[fan_out]" in backend.user_messages()[2]


def test_unusable_json_is_retried_then_fails_cleanly():
    orch, _ = orchestrator("no json at all", "still {not json", "```sql\nSELECT 1\n```")
    result = orch.run("List customers")
    assert not result.ok and result.sql is None
    assert "sql_writer expert gave no valid answer after 3 attempt(s)" in result.error


def test_json_is_recovered_from_chatter():
    chatter = 'Sure!\n```json\n{"sql": "SELECT COUNT(*) FROM orders", "notes": "count"}\n```'
    orch, _ = orchestrator(chatter, KEEP)
    result = orch.run("How many orders are there?")
    assert result.ok and result.experts[0].attempts == 1 and result.experts[0].errors


@pytest.mark.parametrize("hostile", ["DROP TABLE orders", "SELECT 1; DELETE FROM orders",
                                     "SELECT * FROM read_csv('/etc/passwd')", "UPDATE orders SET status = 'paid'"])
def test_hostile_sql_never_runs_whatever_the_model_writes(hostile):
    reply = {"sql": hostile, "notes": ""}
    orch, _ = orchestrator(reply, reply, reply, {"verdict": "revise", "revised_sql": hostile, "explanation": "x"})
    result = orch.run("Delete all orders please", execute=True)
    assert not result.ok and result.rows is None and result.report.issues[0].stage in ("safety", "parse")
    assert orch.database.execute("SELECT COUNT(*) FROM orders", 1).rows == [(60,)]


def test_validator_revision_is_taken_only_when_it_checks_out():
    failing = "SELECT c.full_nme, COUNT(*) FROM customers c JOIN orders o ON o.customer_id = c.customer_id GROUP BY 1"
    worse = {"verdict": "revise", "revised_sql": "SELECT full_nme FROM customers", "explanation": "e"}
    orch, _ = orchestrator({"sql": failing, "notes": ""}, worse, experts={"max_repair_rounds": 0})
    result = orch.run("Orders per customer")
    assert not result.ok and "revision was not taken" in result.notes[0]

    better = "SELECT c.full_name, COUNT(o.order_id) AS n FROM customers c JOIN orders o ON o.customer_id = c.customer_id GROUP BY 1"
    orch, _ = orchestrator({"sql": failing, "notes": ""}, {"verdict": "revise", "revised_sql": better, "explanation": "e"},
                           experts={"max_repair_rounds": 0})
    result = orch.run("Orders per customer")
    assert result.ok and "COUNT(o.order_id)" in result.sql
    assert result.notes == ["validator expert revised the SQL that failed the checks"]


def test_sql_that_passed_every_check_stands_unless_revisions_are_always_allowed():
    better = "SELECT c.full_name, COUNT(o.order_id) AS n FROM customers c JOIN orders o ON o.customer_id = c.customer_id GROUP BY 1"
    revise = {"verdict": "revise", "revised_sql": better, "explanation": "e"}
    orch, _ = orchestrator({"sql": GOOD, "notes": ""}, revise)
    result = orch.run("Orders per customer")
    assert result.ok and "COUNT(o.order_id)" not in result.sql and "kept the checked SQL" in result.notes[0]
    orch, _ = orchestrator({"sql": GOOD, "notes": ""}, revise, experts={"validator_revises": "always"})
    result = orch.run("Orders per customer")
    assert "COUNT(o.order_id)" in result.sql and result.notes == ["validator expert revised the SQL"]


def test_validator_failure_keeps_the_checked_sql():
    orch, _ = orchestrator({"sql": GOOD, "notes": ""}, "?", "??", "???")
    result = orch.run("Orders per customer")
    assert result.ok and "no usable answer" in result.notes[0]


def test_result_serialises_with_timings_and_tokens():
    orch, _ = orchestrator({"sql": GOOD, "notes": ""}, KEEP)
    data = json.loads(json.dumps(orch.run("Orders per customer", execute=True).to_dict()))
    assert data["ok"] and data["tokens"] == {"prompt": 200, "completion": 40, "reused": 0}
    assert data["checks"]["passed"][-1] == "dry_run" and data["rows"]["columns"] == ["full_name", "orders"]
    assert {e["name"] for e in data["experts"]} == {"sql_writer", "validator"}
    assert all(e["seconds"] >= 0 for e in data["experts"]) and data["schema"]["columns_total"] == 41
    check_read_only(data["sql"], "duckdb")


def test_a_failed_planner_does_not_stop_the_sql_writer():
    orch, _ = orchestrator("not json", "still not json", {"sql": "SELECT SUM(total_amount) FROM orders", "notes": ""},
                           KEEP, router={"plan_threshold": 0}, experts={"json_retries": 1})
    result = orch.run("Total order amount")
    assert result.ok and [e.name for e in result.experts] == ["sql_writer", "validator"]
    assert result.notes[0].startswith("planner gave no usable answer")


def test_a_repair_round_without_sql_keeps_the_sql_we_have():
    orch, _ = orchestrator({"sql": "SELECT ful_name FROM customers", "notes": ""}, "no json", "no json either", KEEP,
                           experts={"json_retries": 1})
    result = orch.run("List customer names")
    assert not result.ok and "ful_name" in result.sql and result.error is None
    assert result.notes[0].startswith("repair round 1 gave no usable SQL")


@pytest.mark.parametrize("question, advised", [("Monthly revenue and refund totals", True),
                                               ("List all customer emails", False)])
def test_the_writer_is_told_about_fan_out_only_for_several_measures(question, advised):
    orch, backend = orchestrator({"sql": "SELECT email FROM customers", "notes": ""}, KEEP)
    result = orch.run(question)
    assert result.plan.several_measures is advised
    assert (SEVERAL_MEASURES_ADVICE in backend.user_messages()[0]) is advised
    assert SEVERAL_MEASURES_ADVICE not in backend.user_messages()[1]  # the validator's prompt


def test_without_the_validator_expert_the_explanation_is_the_sql_read_back():
    orch, backend = orchestrator({"sql": "SELECT email FROM customers ORDER BY email LIMIT 5", "notes": ""},
                                 experts={"validator_expert": False})
    result = orch.run("The first five customer emails in alphabetical order")
    assert [e.name for e in result.experts] == ["sql_writer"] and len(backend.requests) == 1
    assert result.explanation == ("Read from the SQL (the validator expert is off): "
                                  "Reads customers; returns email, sorted by email, the first 5 rows.")


def test_a_schema_under_the_linking_size_gets_the_same_prompts_with_linking_off():
    """Why the benchmark's no_linking ablation equals the shipped run on small schemas (docs/benchmarks.md)."""
    prompts = []
    for linking in ({"enabled": True}, {"enabled": False}, {"enabled": True, "full_schema_max_columns": 0}):
        orch, backend = orchestrator({"sql": "SELECT email FROM customers", "notes": ""}, KEEP, linking=linking)
        orch.run("List all customer emails")
        prompts.append([r.messages for r in backend.requests])
    assert prompts[0] == prompts[1] and prompts[2] != prompts[0]   # linking every schema does change them
