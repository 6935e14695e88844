"""`python -m Qwen3` as a user runs it: exit codes and one-line messages, never a traceback."""

import json
import subprocess
import sys

import pytest
import yaml


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "Qwen3", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


@pytest.fixture(scope="module")
def config_file(tiny_config, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "runner.yaml"
    path.write_text(yaml.safe_dump(tiny_config))
    return path


def assert_one_line_error(result, code, text):
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0], result.stderr


def test_streams_an_answer_and_a_summary(config_file):
    result = run("--config", str(config_file), "--prompt", "hello", "--temperature", "0")
    assert result.returncode == 0, result.stderr
    assert "tok/s" in result.stderr and "finish:" in result.stderr


def test_json_schema_and_json_output(config_file, tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}))
    result = run("--config", str(config_file), "--prompt", "ok?", "--json-schema", str(schema), "--json",
                 "--thinking", "--max-thinking-tokens", "4")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert isinstance(out["parsed"]["ok"], bool) and out["usage"]["thinking_tokens"] <= 4


def test_missing_config_file():
    assert_one_line_error(run("--config", "nope.yaml", "--prompt", "x"), 2, "config file not found: nope.yaml")


def test_bad_config_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("backend: transformers\ngeneration:\n  max_new_tokens: lots\n")
    assert_one_line_error(run("--config", str(bad), "--prompt", "x"), 2, "config key 'generation.max_new_tokens'")


def test_missing_model(tmp_path):
    cfg = tmp_path / "missing.yaml"
    cfg.write_text(f"backend: transformers\nmodel: {tmp_path / 'no-model'}\n")
    assert_one_line_error(run("--config", str(cfg), "--prompt", "x"), 3, "model path not found")


def test_missing_gguf_for_llamacpp(tmp_path):
    cfg = tmp_path / "gguf.yaml"
    cfg.write_text("backend: llamacpp\nmodel: ./nothing.gguf\n")
    assert_one_line_error(run("--config", str(cfg), "--prompt", "x"), 3, "GGUF file not found")


@pytest.mark.parametrize("content, message", [
    (None, "JSON schema file not found"),
    ("{not json", "is not valid JSON (line 1"),
    ('{"type": "strng"}', "invalid JSON schema"),
])
def test_bad_schema_file(config_file, tmp_path, content, message):
    path = tmp_path / "schema.json"
    if content is not None:
        path.write_text(content)
    assert_one_line_error(run("--config", str(config_file), "--prompt", "x", "--json-schema", str(path)), 2, message)


def test_a_prompt_over_the_context_is_one_line(config_file, tmp_path):
    prompt = tmp_path / "long.txt"
    prompt.write_text("one two " * 1900)   # past the tiny model's 4,096 positions
    result = run("--config", str(config_file), "--prompt", prompt.read_text())
    assert_one_line_error(result, 1, "more than the model's context")
