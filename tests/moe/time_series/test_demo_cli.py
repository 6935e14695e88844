import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def run(*args):
    return subprocess.run([sys.executable, "-m", "MoE.time_series", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_demo_prints_the_debate_and_writes_plots(tmp_path):
    result = run("--epochs", "1", "--horizon", "12", "--stock-epochs", "1", "--plots", str(tmp_path),
                 "--transcript-json", str(tmp_path / "debate.json"))
    assert result.returncode == 0, result.stderr
    assert "debate log for the last test window" in result.stdout
    for expert in ("trend_expert", "seasonal_expert", "anomaly_expert"):
        assert expert in result.stdout
    assert "seasonal naive" in result.stdout
    assert (tmp_path / "forecast.png").stat().st_size > 1000 and (tmp_path / "expert_weights.png").is_file()
    assert "stock debate on SYNTH" in result.stdout and "next-day price:" in result.stdout
    assert (tmp_path / "debate.png").is_file()
    transcript = json.loads((tmp_path / "debate.json").read_text())["transcript"]
    assert {"round", "expert", "indicator_value", "stance", "proposal", "reason"} <= set(transcript[0])


def test_stock_debate_on_a_real_ticker():
    data = ROOT.parent / "shared" / "data" / "stocks" / "stocks_bokeh_quandl_wiki.csv"
    if not data.is_file():
        pytest.skip("shared data missing")
    result = run("--skip-forecast", "--data", str(data), "--ticker", "MSFT", "--stock-epochs", "1")
    assert result.returncode == 0, result.stderr
    assert "stock debate on MSFT: 3270 days" in result.stdout and "Main model:" in result.stdout
    missing = run("--skip-forecast", "--data", str(data))
    assert missing.returncode == 2 and "pick one with --ticker" in missing.stderr


def test_bad_arguments_are_one_line():
    result = run("--epochs", "1", "--seq-len", "4")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "shorter than patch_len" in result.stderr
