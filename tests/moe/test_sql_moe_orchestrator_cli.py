"""`python -m MoE.sql_moe_orchestrator` end to end with real models: the tiny random Qwen3 and the packaged 0.5B."""

import json
import subprocess
import sys

import pytest
import yaml

from MoE.sql.guard import check_read_only
from support import REPO, require_offline_model

SCHEMA = str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")
QUESTION = "List monthly revenue and refund totals for 2024."


def run(*args):
    return subprocess.run([sys.executable, "-m", "MoE.sql_moe_orchestrator", *args], capture_output=True, text=True,
                          timeout=600, cwd=REPO)


def write_config(tmp_path, runner: dict, **extra) -> str:
    config = {"runner": {"inline": runner}, "schema": {"schema_file": SCHEMA}, "database": {"sample_rows": 80},
              "experts": {"max_new_tokens": {"planner": 96, "sql_writer": 96, "validator": 64}, "json_retries": 1,
                          "max_repair_rounds": 1}, **extra}
    path = tmp_path / "orchestrator.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def assert_structure(out: dict):
    assert set(out) >= {"question", "plan", "schema", "experts", "sql", "explanation", "checks", "repair_rounds",
                        "rows", "tokens", "seconds", "ok", "error"}
    assert out["plan"]["experts"][-2:] == ["sql_writer", "validator"]
    for expert in out["experts"]:
        assert expert["seconds"] >= 0 and expert["prompt_tokens"] > 0
    if out["ok"]:
        check_read_only(out["sql"], "duckdb")  # whatever SQL came out passed the guard
    else:
        assert out["rows"] is None           # nothing ran that did not pass every check


def test_tiny_random_qwen3_end_to_end(tmp_path, tiny_model_dir):
    runner = {"backend": "transformers", "model": str(tiny_model_dir),
              "generation": {"thinking": False, "json_max_string_length": 40}}
    result = run("--config", write_config(tmp_path, runner), "--query", QUESTION, "--format", "json", "--execute")
    assert "Traceback" not in result.stderr
    out = json.loads(result.stdout)
    assert_structure(out)
    assert out["question"] == QUESTION
    # A random model writes no SQL: the run says so and fails, it does not pass off junk as an answer.
    assert result.returncode == 1 and out["ok"] is False and out["sql"] is None and out["rows"] is None
    assert out["error"].startswith("the sql_writer expert gave no valid answer")


def test_text_output_with_quiet_and_extra_context(tmp_path, tiny_model_dir):
    runner = {"backend": "transformers", "model": str(tiny_model_dir),
              "generation": {"thinking": False, "json_max_string_length": 40}}
    result = run("--config", write_config(tmp_path, runner), "--quiet", "--extra-context", "amounts in USD")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "== Router plan ==" in result.stdout and "== sql_writer" not in result.stdout
    assert "== Failed ==\nthe sql_writer expert gave no valid answer" in result.stdout
    assert "== Final SQL" not in result.stdout


def test_packaged_model_answers_a_question_correctly(tmp_path):
    """The 0.5B model end to end: its answer must be the rows a hand-written query gives on the same database."""
    require_offline_model("qwen2.5-coder-0.5b")
    from MoE.sql.catalog import parse_ddl
    from MoE.sql.database import DuckDBDatabase

    runner = {"backend": "llamacpp", "model": "offline:qwen2.5-coder-0.5b",
              "generation": {"thinking": False}, "llamacpp": {"n_ctx": 4096}}
    config = write_config(tmp_path, runner, experts={"max_repair_rounds": 1, "json_retries": 1})
    result = run("--config", config, "--query", "How many orders have the status 'cancelled'?", "--format", "json",
                 "--execute")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert_structure(out)
    ddl = (REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql").read_text()
    reference = DuckDBDatabase.from_catalog(parse_ddl(ddl), ddl, rows=80, seed=7, timeout_s=10)
    try:
        expected = reference.execute("SELECT COUNT(*) FROM orders WHERE status = 'cancelled'", 1).rows
    finally:
        reference.close()
    assert out["ok"] and out["rows"]["rows"] == [list(expected[0])]


@pytest.mark.parametrize("content, code, message", [
    (None, 2, "config file not found"),
    ({"schema": {"schema_file": "missing.sql"}}, 2, "config key 'schema.schema_file': file not found"),
    ({"schema": {"ddl": "CREATE TABLE t (x INT)"}, "dialekt": "duckdb"}, 2, "config key 'dialekt': unknown key"),
    ({"schema": {"ddl": "CREATE TABLE t (x INT)"}, "dialect": "oracle"}, 2, "config key 'dialect'"),
    ({"schema": {"ddl": "CREATE TABLE t (x INT)"}, "runner": {"inline": {"backend": "transformers",
                                                                         "model": "/nonexistent/model"}}},
     3, "model path not found"),
])
def test_bad_input_is_one_line_and_non_zero(tmp_path, content, code, message):
    path = tmp_path / "c.yaml"
    if content is not None:
        path.write_text(yaml.safe_dump(content))
    result = run("--config", str(path), "--query", "x")
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_shipped_config_validates():
    from MoE.sql.config import load_orchestrator_config

    config = load_orchestrator_config(REPO / "MoE" / "sql_moe_orchestrator_config.yaml")
    assert config.run.query == QUESTION and config.runner_config().model == "offline:qwen2.5-coder-1.5b"
