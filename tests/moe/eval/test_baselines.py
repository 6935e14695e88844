"""The plain-prompt baselines: execution feedback alone (plain_retry), self-consistency alone (plain_xN),
both; scored in the same harness as the MoE, and compared with plain_x3 question by question."""

import json
import subprocess
import sys

import pytest

from MoE.eval.baselines import PlainMode, plain_answer, plain_mode
from MoE.eval.benchmark import BenchmarkSettings, check_mode, format_summary, run_benchmark, summarise
from Qwen3.errors import ConfigError
from support import REPO, require_offline_model, shared_data
from test_benchmark import block, dataset  # noqa: F401  (the zoo dataset fixture)

sys.path.insert(0, str(REPO / "tests" / "moe" / "sql"))
from scripted import scripted_runner  # noqa: E402


@pytest.mark.parametrize("mode, settings", [("single_shot", PlainMode(1, False)), ("plain_retry", PlainMode(1, True)),
                                            ("plain_x3", PlainMode(3, False)), ("plain_retry_x5", PlainMode(5, True)),
                                            ("moe_x3", None), ("plain_x", None)])
def test_mode_names(mode, settings):
    assert plain_mode(mode) == settings


def test_unknown_modes_are_refused():
    assert check_mode("moe_x3") == "moe_x3"
    with pytest.raises(ConfigError, match="unknown mode 'plain_x'"):
        check_mode("plain_x")


def test_retry_sends_the_database_error_back_once(dataset):  # noqa: F811
    runner, backend = scripted_runner(block("SELECT colour FROM animals"), block("SELECT kind FROM animals WHERE age > 2"))
    answer = plain_answer(runner, PlainMode(1, True), dataset.ddl("zoo"), "Kinds older than 2",
                          dataset.database_path("zoo"))
    assert answer.sql == "SELECT kind FROM animals WHERE age > 2" and answer.retries == 1
    assert "no such column: colour" in backend.user_messages()[1]
    assert backend.requests[1].messages[-2].content.startswith("```sql\nSELECT colour")   # its own answer before it
    runner, backend = scripted_runner(block("SELECT colour FROM animals"))
    assert plain_answer(runner, PlainMode(1, False), dataset.ddl("zoo"), "Kinds", dataset.database_path("zoo")).sql \
        == "SELECT colour FROM animals" and len(backend.requests) == 1                     # no retry without it


def test_the_answer_most_samples_agree_on_wins(dataset):  # noqa: F811
    runner, backend = scripted_runner(block("SELECT kind FROM animals"),                 # greedy: another result
                                      block("SELECT kind FROM animals WHERE age > 2"),
                                      block("SELECT kind FROM animals WHERE age >= 3"))   # same rows as the second
    answer = plain_answer(runner, PlainMode(3, False), dataset.ddl("zoo"), "Kinds older than 2",
                          dataset.database_path("zoo"))
    assert answer.sql == "SELECT kind FROM animals WHERE age > 2" and len(answer.candidates) == 3
    temperatures = [r.sampling.temperature for r in backend.requests]
    assert temperatures[0] == 0.0 and temperatures[1] == temperatures[2] > 0
    assert len({r.seed for r in backend.requests}) == 3                                   # each sample its own seed


def test_failing_samples_do_not_vote(dataset):  # noqa: F811
    runner, _ = scripted_runner(block("SELECT nope FROM animals"), block("SELECT nope FROM animals"),
                                block("SELECT kind FROM animals WHERE age > 2"))
    answer = plain_answer(runner, PlainMode(3, False), dataset.ddl("zoo"), "Kinds older than 2",
                          dataset.database_path("zoo"))
    assert answer.sql == "SELECT kind FROM animals WHERE age > 2"


def test_gains_are_over_plain_x3_when_it_ran(dataset, tmp_path):  # noqa: F811
    settings = BenchmarkSettings(REPO / "MoE" / "sql_moe_orchestrator_config.yaml", tmp_path / "r.jsonl",
                                 ("plain_x3", "plain_retry"))
    right, wrong = block("SELECT count(*) FROM animals"), block("SELECT count(*) FROM animals WHERE age > 9")
    runner, _ = scripted_runner(wrong, wrong, right,          # plain_x3: two agree on the wrong count
                                right)                        # plain_retry: right at once
    records = run_benchmark(dataset, list(dataset.questions)[:1], settings, runner=runner)
    summary = summarise(records)
    assert summary["plain_x3"]["ex"] == 0.0 and summary["plain_retry"]["ex"] == 100.0
    assert summary["plain_retry"]["gain"]["baseline"] == "plain_x3"
    assert summary["plain_x3"]["any_candidate"] == 100.0       # the right answer was among its samples
    assert "| questions won / lost against plain-x3 (sign test p) |" in format_summary(summary)


def test_the_packaged_model_answers_in_every_baseline_mode(tmp_path):
    require_offline_model("qwen2.5-coder-0.5b")
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"runner": {"inline": {"backend": "llamacpp", "model": "offline:qwen2.5-coder-0.5b",
                                                        "generation": {"thinking": False}}},
                                  "schema": {"ddl": "CREATE TABLE placeholder (x INT)"}}))
    out = tmp_path / "r.jsonl"
    done = subprocess.run([sys.executable, "-m", "MoE.eval", "--data", str(shared_data("spider")), "--config",
                           str(config), "--sample", "1", "--seed", "3", "--modes", "plain_retry", "plain_x2",
                           "--output", str(out)], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    records = {r["mode"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert set(records) == {"plain_retry", "plain_x2"}
    assert len(records["plain_x2"]["candidates"]) == 2 and records["plain_x2"]["tokens"]["completion"] > 0
    assert records["plain_retry"]["prediction"].upper().lstrip().startswith(("SELECT", "WITH"))
