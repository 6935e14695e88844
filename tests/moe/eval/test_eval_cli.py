"""`python -m MoE.eval` end to end with the packaged 0.5B model on the shared Spider subset."""

import json
import subprocess
import sys

import yaml

from support import REPO, require_offline_model, shared_data


def test_packaged_model_runs_both_modes_and_resumes(tmp_path):
    require_offline_model("qwen2.5-coder-0.5b")
    config = {"runner": {"inline": {"backend": "llamacpp", "model": "offline:qwen2.5-coder-0.5b",
                                    "generation": {"thinking": False}, "llamacpp": {"n_ctx": 4096}}},
              "schema": {"ddl": "CREATE TABLE placeholder (x INT)"},   # each database's schema replaces it
              "experts": {"max_repair_rounds": 1, "json_retries": 1}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "r.jsonl"
    args = [sys.executable, "-m", "MoE.eval", "--data", str(shared_data("spider")), "--config", str(tmp_path / "c.yaml"),
            "--sample", "1", "--seed", "3", "--compare", "--output", str(out), "--markdown", str(tmp_path / "t.md")]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["mode"] for r in records) == ["moe", "single_shot"]
    for r in records:
        assert set(r) >= {"prediction", "gold", "match", "error", "rounds", "tokens", "seconds", "hardness", "db_id"}
        assert r["tokens"]["prompt"] > 0 and r["seconds"] > 0
    assert "| **all** (n=1) |" in done.stdout and (tmp_path / "t.md").read_text().startswith("| | single-shot EX")
    again = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and len(out.read_text().splitlines()) == 2   # nothing asked twice
