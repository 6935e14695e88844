import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run(*args):
    return subprocess.run([sys.executable, "-m", "MoE.time_series", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_demo_prints_the_debate_and_writes_plots(tmp_path):
    result = run("--epochs", "1", "--horizon", "12", "--plots", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "debate log for the last test window" in result.stdout
    for expert in ("trend_expert", "seasonal_expert", "anomaly_expert"):
        assert expert in result.stdout
    assert "seasonal naive" in result.stdout
    assert (tmp_path / "forecast.png").stat().st_size > 1000 and (tmp_path / "expert_weights.png").is_file()


def test_bad_arguments_are_one_line():
    result = run("--epochs", "1", "--seq-len", "4")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "shorter than patch_len" in result.stderr
