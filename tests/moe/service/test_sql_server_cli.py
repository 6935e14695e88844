"""`python -m MoE.sql_server` as a user starts it: one-line errors with their own exit codes, then serving."""

import socket
import subprocess
import sys
import time

import httpx
import pytest
import yaml

from service_load import sample_config
from support import REPO, require_offline_model


def run(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "MoE.sql_server", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


def assert_one_line(done, code, message):
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr and message in lines[-1]


@pytest.mark.parametrize("args, code, message", [
    (["--port", "70000"], 2, "70000 is not a port"),
    (["--config", "missing.yaml"], 2, "config file not found: missing.yaml"),
    (["--max-waiting", "-1"], 2, "--max-waiting must be 0 or more"),
    (["--api-key-env", "QWEN3_NO_SUCH_VARIABLE"], 2, "that environment variable is empty"),
])
def test_bad_arguments_are_one_line(args, code, message):
    assert_one_line(run(*args), code, message)


def test_a_port_in_use_is_exit_5_before_anything_loads(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "c.yaml"   # a model that cannot load: the port must fail first
        config.write_text(yaml.safe_dump(dict(sample_config(None, str(tmp_path)),
                                              runner={"inline": {"backend": "transformers", "model": "/nonexistent"}})))
        done = run("--config", str(config), "--port", str(port), "--no-feedback")
    assert_one_line(done, 5, f"port {port} on 127.0.0.1 is already in use")


@pytest.mark.offline_model
def test_serves_the_page_and_api_with_the_packaged_model(tmp_path):
    require_offline_model("qwen2.5-coder-0.5b")
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(sample_config("offline:qwen2.5-coder-0.5b", str(tmp_path / "cache"))))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "MoE.sql_server", "--config", str(config), "--port", str(port)],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            assert server.poll() is None, server.stderr.read()
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert health["model"] == "offline:qwen2.5-coder-0.5b" and health["tables"] == 8
        assert "Ask your data" in httpx.get(f"http://127.0.0.1:{port}/").text
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    examples = tmp_path / "cache" / "feedback"
    assert f"at http://127.0.0.1:{port}/" in out and "approved answers go to" in out
    assert len(list(examples.glob("*/examples.jsonl"))) == 1   # one example file for this database
