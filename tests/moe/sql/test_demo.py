"""The README's demo, end to end with the demo's own model: its answer must be the hand-written reference's
rows (MoE/schemas/ecommerce_demo_reference.sql: revenue as the schema defines it, without cancelled orders).

Needs the 1.5B offline model (`make setup-demo`; CI installs it): about two minutes on two cores."""

import importlib.util

import pytest

from MoE.sql import load_orchestrator
from support import REPO, require_offline_model


@pytest.mark.offline_model
def test_the_demo_answer_follows_the_schemas_definition():
    require_offline_model("qwen2.5-coder-1.5b")
    spec = importlib.util.spec_from_file_location("sql_demo", REPO / "benchmarks" / "sql_demo.py")
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    with load_orchestrator(REPO / "MoE" / "sql_moe_orchestrator_config.yaml") as orchestrator:
        result = orchestrator.run(demo.QUESTION, execute=True)
        assert result.ok, result.error or result.report.issues
        assert demo.verdict(result.rows.rows, orchestrator.database) == "correct (as the schema defines revenue)", \
            result.sql
