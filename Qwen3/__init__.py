"""Qwen3 runner: chat with Qwen3 models locally (transformers, llama.cpp) or on any OpenAI-compatible server.

    from Qwen3 import load_runner
    with load_runner("Qwen3/qwen3_runner_config.yaml") as runner:
        print(runner.chat("What is 2 + 2? /no_think").text)
"""

from .completion import ChatRequest, Completion, Delta, Message, SamplingParams, Timings, Usage
from .config import RunnerConfig, load_config
from .errors import BackendError, ConfigError, ModelLoadError, RunnerError, StructuredOutputError
from .runner import Runner, load_runner

__all__ = [
    "BackendError", "ChatRequest", "Completion", "ConfigError", "Delta", "Message", "ModelLoadError",
    "Runner", "RunnerConfig", "RunnerError", "SamplingParams", "StructuredOutputError", "Timings",
    "Usage", "load_config", "load_runner",
]
