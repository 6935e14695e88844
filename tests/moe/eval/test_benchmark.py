"""The benchmark loop: JSONL of every question, resumable, both modes side by side, the summary table."""

import json
import sqlite3
import subprocess
import sys

import pytest

from MoE.eval.benchmark import (BenchmarkSettings, format_summary, load_done, merge_results, run_benchmark, same_sql,
                                shard, summarise)
from Qwen3.errors import ConfigError
from MoE.eval.spider import load_spider
from support import REPO

sys.path.insert(0, str(REPO / "tests" / "moe" / "sql"))
from scripted import scripted_runner  # noqa: E402

TABLES = {"db_id": "zoo", "table_names_original": ["animals"], "table_names": ["animals"],
          "column_names_original": [[-1, "*"], [0, "id"], [0, "kind"], [0, "age"]],
          "column_names": [[-1, "*"], [0, "id"], [0, "kind"], [0, "age"]],
          "column_types": ["text", "number", "text", "number"], "primary_keys": [1], "foreign_keys": []}
QUESTIONS = [{"db_id": "zoo", "question": "How many animals are there?", "query": "SELECT count(*) FROM animals"},
             {"db_id": "zoo", "question": "List the kinds of animals older than 2.",
              "query": "SELECT kind FROM animals WHERE age > 2"}]
KEEP = {"verdict": "keep", "revised_sql": "", "explanation": "e"}


@pytest.fixture
def dataset(tmp_path):
    (tmp_path / "tables.json").write_text(json.dumps([TABLES]))
    (tmp_path / "dev_questions.json").write_text(json.dumps(QUESTIONS))
    (tmp_path / "database" / "zoo").mkdir(parents=True)
    with sqlite3.connect(tmp_path / "database" / "zoo" / "zoo.sqlite") as c:
        c.executescript("CREATE TABLE animals (id INT PRIMARY KEY, kind TEXT, age INT);"
                        "INSERT INTO animals VALUES (1, 'cat', 3), (2, 'dog', 1), (3, 'owl', 5);")
    return load_spider(tmp_path)


def block(sql):
    return f"```sql\n{sql}\n```"


# the shipped config with the expert views and the validator expert (the default before the ablation table)
EXPERT_VIEWS = ("experts.candidate_prompts=[planned, direct]", "experts.tie_break=validator",
                "experts.repair_candidates=false", "experts.validator_expert=true",
                "experts.several_measures_prompts=null")


def test_both_modes_are_scored_and_resumed(dataset, tmp_path):
    out = tmp_path / "results.jsonl"
    settings = BenchmarkSettings(REPO / "MoE" / "sql_moe_orchestrator_config.yaml", out, ("single_shot", "moe"),
                                 overrides=EXPERT_VIEWS)
    runner, backend = scripted_runner(
        block("SELECT count(*) FROM animals"),                        # q0 single-shot: right
        block("SELECT count(id) FROM animals"), KEEP,                 # q0 MoE: right
        block("SELECT kind FROM animals"),                            # q1 single-shot: wrong
        block("SELECT kind FROM animals WHERE age > 2"), KEEP)        # q1 MoE: right
    records = run_benchmark(dataset, list(dataset.questions)[:1], settings, runner=runner)
    assert [(r["mode"], r["match"]) for r in records] == [("single_shot", True), ("moe", True)]
    assert "experts" not in records[0]  # the plain prompt has no experts
    assert [e["name"] for e in records[1]["experts"]] == ["sql_writer", "validator"]
    records = run_benchmark(dataset, list(dataset.questions), settings, runner=runner)  # q0 comes from the file
    assert len(backend.requests) == 6 and len(out.read_text().splitlines()) == 4
    summary = summarise(records)
    assert summary["single_shot"]["ex"] == 50.0 and summary["moe"]["ex"] == 100.0
    assert summary["moe"]["by_database"] == {"zoo": (100.0, 2)}
    assert (summary["moe"]["gain"]["wins"], summary["moe"]["gain"]["losses"]) == (1, 0)
    table = format_summary(summary)
    assert "| **all** (n=2) | **50.0** | **100.0** |" in table and "| zoo (n=2) | 50.0 | 100.0 |" in table
    assert "| questions won / lost against single-shot (sign test p) |  | 1 / 0 (p 1.000) |" in table
    partial = format_summary(summarise([r for r in records if not (r["mode"] == "moe" and r["index"] == 1)]))
    assert "| **all** (n=2) | **50.0** (n=2) | **100.0** (n=1) |" in partial


def test_a_torn_last_line_is_ignored(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"mode": "moe", "index": 3}) + "\n" + '{"mode": "moe", "ind')
    assert list(load_done(path)) == [("moe", 3)]


def test_cli_errors_are_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "MoE.eval", "--data", str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("python -m MoE.eval: error: not a Spider-layout folder")


def test_each_candidate_is_scored_and_the_ceiling_reported(dataset, tmp_path):
    settings = BenchmarkSettings(REPO / "MoE" / "sql_moe_orchestrator_config.yaml", tmp_path / "r.jsonl", ("moe_x2",),
                                 overrides=EXPERT_VIEWS)
    runner, _ = scripted_runner(
        block("SELECT kind FROM animals"),                            # candidate 1 (planned): wrong
        block("SELECT kind FROM animals WHERE age > 2"),              # candidate 2 (direct): right
        {"choice": 1, "reason": "r"}, KEEP)                           # the tie-break picks the wrong one
    [record] = run_benchmark(dataset, [dataset.questions[1]], settings, runner=runner)
    assert not record["match"]
    assert [(c["prompt"], c["chosen"], c["match"]) for c in record["candidates"]] == [
        ("planned", True, False), ("direct", False, True)]
    summary = summarise([record])
    assert summary["moe_x2"]["ex"] == 0.0 and summary["moe_x2"]["any_candidate"] == 100.0
    assert "| some candidate right (selection's ceiling) | 100.0 |" in format_summary(summary)


def test_shards_split_the_questions_without_overlap(dataset):
    questions = list(dataset.questions) * 3   # six, enough to interleave
    parts = [shard(questions, f"{k}/3") for k in range(3)]
    assert [len(p) for p in parts] == [2, 2, 2] and sorted(sum(parts, []), key=id) == sorted(questions, key=id)
    assert shard(questions, "0/1") == questions
    for bad in ("3/3", "-1/2", "1", "a/b", "1/0"):
        with pytest.raises(ConfigError, match="--shard"):
            shard(questions, bad)


def test_merged_shards_give_one_record_per_mode_and_question(tmp_path):
    rec = lambda mode, index, match: {"mode": mode, "index": index, "db_id": "zoo", "hardness": "easy",
                                      "match": match, "error": None, "seconds": 1.0,
                                      "tokens": {"prompt": 1, "completion": 1}}
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in (rec("moe", 0, True), rec("moe", 2, True))))
    b.write_text("".join(json.dumps(r) + "\n" for r in (rec("moe", 1, False), rec("moe", 2, False))))
    merged = merge_results([a, b])
    assert sorted((r["index"], r["match"]) for r in merged) == [(0, True), (1, False), (2, True)]  # a's answer to 2
    assert summarise(merged)["moe"]["ex"] == pytest.approx(200 / 3)
    with pytest.raises(ConfigError, match="results file not found"):
        merge_results([a, tmp_path / "missing.jsonl"])
    done = subprocess.run([sys.executable, "-m", "MoE.eval", "--summarise", str(a), str(b)], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0 and "| **all** (n=3) | **66.7** |" in done.stdout
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    done = subprocess.run([sys.executable, "-m", "MoE.eval", "--summarise", str(empty)], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip() == "python -m MoE.eval: error: no answered questions in the results"


def test_same_sql_counts_questions_answered_alike_in_two_runs(tmp_path):
    rec = lambda mode, index, sql: {"mode": mode, "index": index, "db_id": "zoo", "hardness": "easy", "match": True,
                                    "error": None, "seconds": 1.0, "tokens": {"prompt": 1, "completion": 1},
                                    "prediction": sql}
    first = [rec("moe", 0, "SELECT 1"), rec("moe", 1, "SELECT 2"), rec("moe", 2, "SELECT 3"), rec("plain_x3", 0, "SELECT a")]
    second = [rec("moe", 0, "SELECT 1"), rec("moe", 1, "SELECT  2"), rec("plain_x3", 0, "SELECT a")]
    assert same_sql(first, second) == {"moe": (1, 2), "plain_x3": (1, 1)}   # question 2 ran once only
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in first))
    b.write_text("".join(json.dumps(r) + "\n" for r in second))
    done = subprocess.run([sys.executable, "-m", "MoE.eval", "--summarise", str(a), "--same-as", str(b)], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 0 and "| moe | 1 (50.0%) | 2 |" in done.stdout
    done = subprocess.run([sys.executable, "-m", "MoE.eval", "--same-as", str(b)], cwd=REPO,
                          capture_output=True, text=True)
    assert done.returncode == 2 and done.stderr.strip().endswith("use them with --summarise")


def test_same_sql_pairs_an_ablation_with_the_mode_it_equals(tmp_path):
    rec = lambda mode, index, sql: {"mode": mode, "index": index, "db_id": "zoo", "hardness": "easy", "match": True,
                                    "error": None, "seconds": 1.0, "tokens": {"prompt": 1, "completion": 1},
                                    "prediction": sql}
    ablation = [rec("moe_x3:never_plan", 0, "SELECT 1"), rec("moe_x3:never_plan", 1, "SELECT 2")]
    shipped = [rec("moe_x3", 0, "SELECT 1"), rec("moe_x3", 1, "SELECT 3")]
    assert same_sql(ablation, shipped) == {}                      # by name, nothing pairs
    assert same_sql(ablation, shipped, {"moe_x3:never_plan": "moe_x3"}) == {"moe_x3:never_plan": (1, 2)}
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in ablation))
    b.write_text("".join(json.dumps(r) + "\n" for r in shipped))
    done = subprocess.run([sys.executable, "-m", "MoE.eval", "--summarise", str(a), "--same-as", str(b),
                           "--pair", "moe_x3:never_plan=moe_x3"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0 and "| moe_x3:never_plan | 1 (50.0%) | 2 |" in done.stdout
    done = subprocess.run([sys.executable, "-m", "MoE.eval", "--summarise", str(a), "--same-as", str(b),
                           "--pair", "moe_x3"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 2 and "expected MODE=OTHER" in done.stderr and "Traceback" not in done.stderr


def test_accuracy_by_confidence_level(dataset, tmp_path):
    rec = lambda index, match, level: {"mode": "moe", "index": index, "db_id": "zoo", "hardness": "easy",
                                       "match": match, "error": None, "seconds": 1.0, "confidence": level,
                                       "tokens": {"prompt": 1, "completion": 1}}
    records = [rec(0, True, "high"), rec(1, True, "high"), rec(2, False, "high"), rec(3, False, "low"),
               rec(4, True, "low"), rec(5, False, "none")]
    summary = summarise(records)["moe"]
    assert summary["by_confidence"] == {"high": (pytest.approx(200 / 3), 3), "low": (50.0, 2), "none": (0.0, 1)}
    table = format_summary(summarise(records))
    assert "| confidence high: EX (share of answers) | 66.7 (50%) |" in table
    assert "| confidence low: EX (share of answers) | 50.0 (33%) |" in table and "confidence medium" not in table
    settings = BenchmarkSettings(REPO / "MoE" / "sql_moe_orchestrator_config.yaml", tmp_path / "r.jsonl", ("moe",))
    runner, _ = scripted_runner(block("SELECT count(id) FROM animals"), KEEP)
    [record] = run_benchmark(dataset, [dataset.questions[0]], settings, runner=runner)
    assert record["confidence"] == "high" and record["match"]     # every MoE answer records its level


def test_an_ablation_runs_with_its_settings_and_its_own_label(dataset, tmp_path):
    out = tmp_path / "r.jsonl"
    settings = BenchmarkSettings(REPO / "MoE" / "sql_moe_orchestrator_config.yaml", out, ("moe",),
                                 overrides=("experts.validator_expert=false", "linking.enabled=false"),
                                 label="no_validator")
    runner, backend = scripted_runner(block("SELECT count(*) FROM animals"))     # the writer only: no validator
    records = run_benchmark(dataset, list(dataset.questions)[:1], settings, runner=runner)
    assert [(r["mode"], r["match"]) for r in records] == [("moe:no_validator", True)] and len(backend.requests) == 1
    assert list(load_done(out)) == [("moe:no_validator", 0)]                       # resumed under its label


@pytest.mark.parametrize("item", ["linking.enabled", "nosuch.key=1", "linking.nosuch=1", "linking=1"])
def test_bad_settings_name_the_setting(item):
    from MoE.eval.benchmark import with_overrides
    from MoE.sql.config import load_orchestrator_config
    with pytest.raises(ConfigError, match="--set"):
        with_overrides(load_orchestrator_config(REPO / "MoE" / "sql_moe_orchestrator_config.yaml"), [item])
