"""Sixteen clients for a minute on loopback: every request answered or refused with 503, none hangs, the
server stays up and its memory bounded. The figures are benchmarks/service_load.py's (docs/benchmarks.md)."""

import pytest

from MoE.service import ServiceSettings, create_app
from MoE.sql import load_orchestrator
from service_load import LoopbackServer, load, rss_mb, sample_config, scripted_runner
from support import require_offline_model


def test_sixteen_clients_for_a_minute(tmp_path):
    with load_orchestrator(sample_config(None, str(tmp_path)), runner=scripted_runner(0.05)) as orchestrator:
        with LoopbackServer(create_app(orchestrator, settings=ServiceSettings(max_waiting=8))) as server:
            before = rss_mb()
            summary = load(server.url, clients=16, seconds=60, timeout_s=60)
            grown = rss_mb() - before
            import httpx
            assert httpx.get(f"{server.url}/healthz").json()["pending"] == 0
    assert summary["hung"] == 0
    assert set(summary["outcomes"]) == {"answered", "refused"}, summary   # no timeout, no error, no 500
    assert summary["outcomes"]["answered"] >= 60   # the line kept moving
    assert grown < 300, f"memory grew {grown:.0f} MB"


@pytest.mark.offline_model
def test_a_few_concurrent_questions_with_the_packaged_model(tmp_path):
    require_offline_model("qwen2.5-coder-0.5b")
    with load_orchestrator(sample_config("offline:qwen2.5-coder-0.5b", str(tmp_path))) as orchestrator:
        with LoopbackServer(create_app(orchestrator, settings=ServiceSettings(max_waiting=1))) as server:
            summary = load(server.url, clients=3, seconds=20, timeout_s=240)
    assert summary["hung"] == 0 and set(summary["outcomes"]) <= {"answered", "refused"}, summary
    assert summary["outcomes"]["answered"] >= 1 and summary["outcomes"].get("refused", 0) >= 1
