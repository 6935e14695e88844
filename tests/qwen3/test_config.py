import pytest

from Qwen3.config import load_config
from Qwen3.errors import ConfigError


def test_defaults_follow_the_model_card():
    config = load_config({})
    assert config.backend == "transformers" and config.model == "Qwen/Qwen3-8B"
    thinking, plain = config.generation.sampling.thinking, config.generation.sampling.non_thinking
    assert (thinking.temperature, thinking.top_p, thinking.top_k) == (0.6, 0.95, 20)
    assert (plain.temperature, plain.top_p, plain.top_k) == (0.7, 0.8, 20)


@pytest.mark.parametrize("data, message", [
    ({"bakend": "openai"}, "config key 'bakend': unknown key (did you mean 'backend'?)"),
    ({"generation": {"max_new_tokns": 5}}, "config key 'generation.max_new_tokns': unknown key (did you mean 'max_new_tokens'?)"),
    ({"generation": {"max_new_tokens": "many"}}, "config key 'generation.max_new_tokens': Input should be a valid integer"),
    ({"generation": {"max_new_tokens": 0}}, "config key 'generation.max_new_tokens': Input should be greater than 0"),
    ({"backend": "tensorrt"}, "config key 'backend': Input should be 'transformers', 'openai' or 'llamacpp'"),
    ({"openai": {"timeout_s": -1}}, "config key 'openai.timeout_s': Input should be greater than 0"),
    ({"generation": {"sampling": {"thinking": {"top_p": 2}}}}, "config key 'generation.sampling.thinking"),
])
def test_errors_name_the_key(data, message):
    with pytest.raises(ConfigError) as info:
        load_config(data)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("backend: [unclosed\n")
    with pytest.raises(ConfigError, match=r"not valid YAML \(line"):
        load_config(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_config(listy)


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    file = tmp_path / "sub" / "runner.yaml"
    file.parent.mkdir()
    file.write_text("backend: llamacpp\nmodel: models/x.gguf\n")
    config = load_config(file)
    assert config.resolve_path(config.model) == tmp_path / "sub" / "models" / "x.gguf"


def test_overrides_and_shipped_files_validate():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    for file in [repo / "Qwen3" / "qwen3_runner_config.yaml", *(repo / "Qwen3" / "configs").glob("*.yaml")]:
        load_config(file)
    assert load_config(repo / "Qwen3" / "qwen3_runner_config.yaml", model="x").model == "x"
