"""The packaged offline model: assembly, checksum, and a real answer through the same runner API."""

import pytest

from Qwen3 import ModelLoadError, load_runner, offline
from support import require_offline_model

SMALL = "qwen2.5-coder-0.5b"


def test_unknown_and_uninstalled_models_say_what_to_do(monkeypatch):
    with pytest.raises(ModelLoadError, match="unknown offline model 'nope'; known: qwen2.5-coder-0.5b"):
        offline.locate("offline:nope")
    ghost = offline.OfflineModel("ghost", "", "ghost.gguf", "no-such-dist-part", 2, "1.0", "0" * 64, 1, "ghost")
    monkeypatch.setitem(offline.CATALOG, "ghost", ghost)
    with pytest.raises(ModelLoadError, match=r"missing package no-such-dist-part1\); run: pip install '.\[ghost\]'"):
        offline.locate("ghost")


def test_assembles_once_and_verifies_the_checksum(tmp_path, monkeypatch):
    require_offline_model(SMALL)
    path = offline.locate(SMALL, directory=tmp_path)
    assert path.stat().st_size == offline.CATALOG[SMALL].size
    assert (tmp_path / (path.name + ".sha256")).read_text().strip() == offline.CATALOG[SMALL].sha256
    mtime = path.stat().st_mtime_ns
    assert offline.locate(SMALL, directory=tmp_path).stat().st_mtime_ns == mtime  # not rebuilt

    wrong = offline.CATALOG[SMALL].__class__(**{**offline.CATALOG[SMALL].__dict__, "sha256": "f" * 64})
    monkeypatch.setitem(offline.CATALOG, SMALL, wrong)
    with pytest.raises(ModelLoadError, match="sha256 of the joined chunks is"):
        offline.locate(SMALL, directory=tmp_path / "other")
    assert not list((tmp_path / "other").glob("*"))  # no partial file left behind


@pytest.fixture(scope="module")
def small_runner():
    require_offline_model(SMALL)
    with load_runner({"backend": "llamacpp", "model": f"offline:{SMALL}",
                      "generation": {"thinking": False, "max_new_tokens": 64, "seed": 0},
                      "llamacpp": {"n_ctx": 2048}}) as runner:
        yield runner


def test_real_answer_to_a_simple_question(small_runner):
    c = small_runner.chat("What is the capital of France? Answer with one word.", temperature=0)
    assert "paris" in c.text.lower()
    assert c.finish_reason == "stop" and c.usage.completion_tokens > 0 and c.usage.prompt_tokens > 10


def test_real_json_answer(small_runner):
    schema = {"type": "object", "properties": {"country": {"type": "string"}, "capital": {"type": "string"}},
              "required": ["country", "capital"]}
    c = small_runner.chat("Give the capital of Italy as JSON.", json_schema=schema, temperature=0)
    assert c.parsed["capital"].lower() == "rome"


def test_streaming_matches_chat(small_runner):
    deltas = list(small_runner.stream("Name one primary color.", temperature=0, max_new_tokens=20))
    assert "".join(d.text for d in deltas[:-1]).strip() == deltas[-1].completion.text
    assert deltas[-1].completion.text == small_runner.chat("Name one primary color.", temperature=0,
                                                           max_new_tokens=20).text


def test_thinking_budget_is_enforced_on_llamacpp(small_runner):
    c = small_runner.chat("Count to fifty.", thinking=True, temperature=0, max_thinking_tokens=8, max_new_tokens=8)
    assert c.usage.thinking_tokens <= 8 and c.thinking


def test_a_gguf_file_without_the_gguf_package_says_what_to_install(tmp_path, monkeypatch):
    import importlib.util

    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "gguf" else real(name, *a))
    with pytest.raises(ModelLoadError, match=r"model.gguf is a GGUF file: .*pip install '.\[gguf\]'"):
        load_runner({"backend": "transformers", "model": str(model)})
