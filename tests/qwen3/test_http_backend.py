"""The OpenAI-compatible backend against real HTTP servers on loopback: our own server, and stub servers."""

import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import yaml

from Qwen3 import BackendError, load_runner

SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}, "sure": {"type": "boolean"}},
          "required": ["answer", "sure"]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_config(port: int, **openai) -> dict:
    settings = {"base_url": f"http://127.0.0.1:{port}/v1", "max_retries": 2, "backoff_s": 0.01,
                "timeout_s": 30, "api_key_env": "QWEN3_TEST_KEY"} | openai
    return {"backend": "openai", "model": "tiny", "openai": settings,
            "generation": {"thinking": False, "max_new_tokens": 16, "max_thinking_tokens": 6,
                           "json_max_string_length": 12}}


@pytest.fixture(scope="module")
def server(tiny_config, tmp_path_factory):
    """`python -m Qwen3.server` over the tiny model, on loopback, with a bearer token."""
    config_file = tmp_path_factory.mktemp("server") / "runner.yaml"
    config_file.write_text(yaml.safe_dump(tiny_config))
    port = free_port()
    env = {"QWEN3_SERVER_TOKEN": "s3cret", "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(
        [sys.executable, "-m", "Qwen3.server", "--config", str(config_file), "--port", str(port),
         "--api-key-env", "QWEN3_SERVER_TOKEN", "--max-request-bytes", "20000"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 90
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited: {process.stdout.read()}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": "Bearer s3cret"}, timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.3)
    yield port
    process.terminate()
    process.wait(timeout=20)


@pytest.fixture
def with_token(monkeypatch):
    monkeypatch.setenv("QWEN3_TEST_KEY", "s3cret")


def test_models_endpoint_and_auth(server):
    url = f"http://127.0.0.1:{server}/v1/models"
    assert httpx.get(url).status_code == 401
    listed = httpx.get(url, headers={"Authorization": "Bearer s3cret"}).json()
    assert listed["object"] == "list" and len(listed["data"]) == 1


def test_chat_through_the_server_matches_the_local_runner(server, with_token, tiny_runner):
    with load_runner(client_config(server)) as remote:
        c = remote.chat("What is 2 + 2?", temperature=0)
    local = tiny_runner.chat("What is 2 + 2?", temperature=0, max_new_tokens=16)
    assert c.text == local.text
    assert c.usage.completion_tokens == local.usage.completion_tokens and c.usage.prompt_tokens > 0


def test_thinking_comes_back_as_reasoning(server, with_token):
    with load_runner(client_config(server)) as remote:
        c = remote.chat("Think first.", thinking=True, temperature=0)
    assert c.thinking is not None and c.usage.thinking_tokens > 0


def test_streaming(server, with_token, tiny_runner):
    with load_runner(client_config(server)) as remote:
        deltas = list(remote.stream("Hello there", temperature=1.0, seed=5, thinking=True))
    final = deltas[-1].completion
    assert final is not None and final.timings.first_token_s is not None
    assert "".join(d.text for d in deltas[:-1] if d.channel == "answer").strip() == final.text
    assert "".join(d.text for d in deltas[:-1] if d.channel == "thinking").strip() == final.thinking
    assert final.thinking


def test_json_schema_over_http(server, with_token):
    with load_runner(client_config(server)) as remote:
        for seed in range(3):
            c = remote.chat("Answer in JSON.", json_schema=SCHEMA, temperature=1.0, seed=seed, max_new_tokens=60)
            assert set(c.parsed) == {"answer", "sure"} and len(c.parsed["answer"]) <= 12


def test_batch_runs_concurrently_and_keeps_order(server, with_token, tiny_runner):
    prompts = ["one", "two two", "three three three"]
    with load_runner(client_config(server, concurrency=3)) as remote:
        texts = [c.text for c in remote.chat_batch(prompts, temperature=0)]
    assert texts == [tiny_runner.chat(p, temperature=0, max_new_tokens=16).text for p in prompts]


def test_request_errors_are_not_retried(server, with_token):
    with load_runner(client_config(server)) as remote:
        with pytest.raises(BackendError, match="refused the request: HTTP 400: messages: "):
            remote.backend._post({"messages": []})


def test_oversized_request_gets_413(server):
    body = {"messages": [{"role": "user", "content": "x" * 30000}]}
    response = httpx.post(f"http://127.0.0.1:{server}/v1/chat/completions", json=body,
                          headers={"Authorization": "Bearer s3cret"})
    assert response.status_code == 413


def test_wrong_token_is_a_clear_error(server, monkeypatch):
    monkeypatch.setenv("QWEN3_TEST_KEY", "wrong")
    with load_runner(client_config(server)) as remote:
        with pytest.raises(BackendError, match="HTTP 401: missing or wrong bearer token"):
            remote.chat("hi")


AUTH = {"Authorization": "Bearer s3cret"}


def post_chat(port: int, body: dict) -> httpx.Response:
    return httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body, headers=AUTH, timeout=60)


def test_content_as_text_parts_is_the_joined_text(server):
    """What the official OpenAI clients send: content as a list of {"type": "text"} parts."""
    parts = {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is"},
                                                       {"type": "text", "text": "2 + 2?"}]}],
             "temperature": 0, "max_tokens": 8, "chat_template_kwargs": {"enable_thinking": False}}
    plain = dict(parts, messages=[{"role": "user", "content": "What is\n2 + 2?"}])
    answered = post_chat(server, parts)
    assert answered.status_code == 200, answered.text
    assert answered.json()["choices"][0]["message"]["content"] == post_chat(server, plain).json()["choices"][0]["message"]["content"]


def test_a_non_text_part_is_a_json_400(server):
    body = {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]}
    response = post_chat(server, body)
    assert response.status_code == 400 and "messages.0.content" in response.json()["error"]["message"]


def test_a_prompt_over_the_context_is_the_openai_error(server):
    """15,000 words of the tiny model's vocabulary are far past its 4,096 positions."""
    body = {"messages": [{"role": "user", "content": "one two " * 1900}], "max_tokens": 4}
    response = post_chat(server, body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "context_length_exceeded" and "context" in error["message"]


def test_a_failing_stream_sends_an_error_event_then_done(server):
    body = {"messages": [{"role": "user", "content": "one two " * 1900}], "max_tokens": 4, "stream": True}
    with httpx.stream("POST", f"http://127.0.0.1:{server}/v1/chat/completions", json=body, headers=AUTH,
                      timeout=60) as response:
        events = [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["error"]["code"] == "context_length_exceeded"


@pytest.mark.parametrize("port, code, message", [("70000", 2, "70000 is not a port"),
                                                 ("http", 2, "not a port number")])
def test_a_bad_port_is_one_line(tiny_config, tmp_path, port, code, message):
    config_file = tmp_path / "runner.yaml"
    config_file.write_text(yaml.safe_dump(tiny_config))
    done = subprocess.run([sys.executable, "-m", "Qwen3.server", "--config", str(config_file), "--port", port],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == code and message in done.stderr and "Traceback" not in done.stderr
    assert "serving" not in done.stdout


def test_a_port_in_use_is_exit_5_before_the_model_loads(server, tmp_path):
    config_file = tmp_path / "runner.yaml"
    config_file.write_text(yaml.safe_dump({"backend": "transformers", "model": "/nonexistent/model"}))
    done = subprocess.run([sys.executable, "-m", "Qwen3.server", "--config", str(config_file), "--port", str(server)],
                          capture_output=True, text=True, timeout=60)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 5, done.stderr   # not 3: the model was never tried
    assert len(lines) == 1 and f"port {server} on 127.0.0.1 is already in use" in lines[0]


class StubServer:
    """A tiny real HTTP server whose answers the test scripts: a list of (status, body, delay_s)."""

    def __init__(self, script):
        self.script, self.calls = list(script), 0
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                status, body, delay = stub.script[min(stub.calls, len(stub.script) - 1)]
                stub.calls += 1
                time.sleep(delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


OK = {"choices": [{"message": {"content": "<think>hm</think>\n\nfine"}, "finish_reason": "stop"}],
      "usage": {"prompt_tokens": 3, "completion_tokens": 4}}


def test_5xx_is_retried_then_succeeds():
    stub = StubServer([(500, {"error": {"message": "boom"}}, 0), (503, {}, 0), (200, OK, 0)])
    try:
        with load_runner(client_config(stub.port, max_retries=2)) as remote:
            c = remote.chat("hi", thinking=True)
        assert (c.thinking, c.text, stub.calls) == ("hm", "fine", 3)  # inline <think> split too
    finally:
        stub.close()


def test_persistent_5xx_fails_after_bounded_retries():
    stub = StubServer([(500, {"error": {"message": "boom"}}, 0)])
    try:
        with load_runner(client_config(stub.port, max_retries=2)) as remote:
            with pytest.raises(BackendError, match=r"failed after 3 attempt\(s\): HTTP 500: boom"):
                remote.chat("hi")
        assert stub.calls == 3
    finally:
        stub.close()


def test_timeout_is_retried_then_reported():
    stub = StubServer([(200, OK, 1.5)])
    try:
        with load_runner(client_config(stub.port, timeout_s=0.3, max_retries=1)) as remote:
            with pytest.raises(BackendError, match=r"failed after 2 attempt\(s\): timed out after 0.3s"):
                remote.chat("hi")
        assert stub.calls == 2
    finally:
        stub.close()


def test_server_down_is_a_clear_error():
    with load_runner(client_config(free_port(), max_retries=1)) as remote:
        with pytest.raises(BackendError, match=r"failed after 2 attempt\(s\): cannot connect"):
            remote.chat("hi")


def test_payload_carries_qwen3_options():
    with load_runner(client_config(1)) as remote:
        body = remote.backend.payload(remote.request("hi", thinking=True, json_schema=SCHEMA, stop=["\n"]), False)
    assert body["chat_template_kwargs"] == {"enable_thinking": True}
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.6, 0.95, 20)
    assert body["response_format"]["json_schema"]["schema"]["properties"]["answer"]["maxLength"] == 12
    assert body["max_tokens"] == 16 + 6 and body["stop"] == ["\n"]
