"""Every expert prompt of a question starts with the same block, so a prefix cache computes it once."""

from MoE.sql import load_orchestrator, load_orchestrator_config
from scripted import scripted_runner
from support import REPO

PLAN = {"intent": "emails", "tables": ["customers"], "joins": [], "filters": [], "grouping": [], "ordering": [],
        "steps": ["select email"]}
KEEP = {"verdict": "keep", "revised_sql": "", "explanation": "Lists emails."}
SQL = "```sql\nSELECT email FROM customers WHERE segment = 'business'\n```"


def test_the_question_block_comes_before_each_experts_role():
    config = load_orchestrator_config({
        "schema": {"schema_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")},
        "database": {"sample_rows": 60}, "router": {"always_plan": True},
        "experts": {"candidates": 2, "tie_break": "planned"}})
    runner, backend = scripted_runner(PLAN, SQL, SQL, KEEP)
    result = load_orchestrator(config, runner=runner).run("List the emails of Business customers")
    assert result.ok
    planner, planned, direct, validator = backend.requests
    assert len({r.messages[0].content for r in backend.requests}) == 1      # one system message: rules, schema
    users = [r.messages[-1].content for r in (planner, planned, validator)]
    blocks = {u[:u.index("Role: ")] for u in users}                          # everything before the role
    assert len(blocks) == 1
    shared = blocks.pop()
    assert "Question: List the emails of Business customers" in shared and "'business'" in shared  # the value hint
    # the direct view leaves the value hints out by design: it shares the block up to them
    direct_user = direct.messages[-1].content
    assert direct_user.startswith(shared.split("Values the question mentions")[0])
    assert "Values the question mentions" not in direct_user
