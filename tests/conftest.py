import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from tiny_qwen3 import build_tiny_qwen3  # noqa: E402



@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_qwen3(tmp_path_factory.mktemp("tiny-qwen3"))


@pytest.fixture(scope="session")
def tiny_config(tiny_model_dir) -> dict:
    return {"backend": "transformers", "model": str(tiny_model_dir),
            "generation": {"thinking": False, "max_new_tokens": 24, "max_thinking_tokens": 12, "seed": 0,
                           "json_max_string_length": 12}}


@pytest.fixture(scope="session")
def tiny_runner(tiny_config):
    from Qwen3 import load_runner

    with load_runner(tiny_config) as runner:
        yield runner
