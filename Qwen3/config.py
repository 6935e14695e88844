"""RunnerConfig: the runner's settings, loaded from YAML or a dict and validated at load.

Every validation failure becomes one ConfigError line that names the key, e.g.
`config key 'generation.max_new_tokens': Input should be greater than 0`.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .completion import SamplingParams
from .errors import ConfigError

BackendName = Literal["transformers", "openai", "llamacpp"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SamplingConfig(_Section):
    temperature: float = Field(ge=0.0)
    top_p: float = Field(gt=0.0, le=1.0)
    top_k: int = Field(ge=0)
    min_p: float = Field(default=0.0, ge=0.0, le=1.0)
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)

    def to_params(self) -> SamplingParams:
        return SamplingParams(**self.model_dump())


class SamplingModes(_Section):
    """Qwen3 model card recommendations per mode; greedy decoding is discouraged in thinking mode."""

    thinking: SamplingConfig = SamplingConfig(temperature=0.6, top_p=0.95, top_k=20)
    non_thinking: SamplingConfig = SamplingConfig(temperature=0.7, top_p=0.8, top_k=20)


class GenerationConfig(_Section):
    thinking: bool = True
    max_new_tokens: int = Field(default=1024, gt=0)
    max_thinking_tokens: int = Field(default=2048, gt=0)
    json_max_string_length: int = Field(default=2000, gt=0)
    seed: int | None = None
    stop: list[str] = []
    sampling: SamplingModes = SamplingModes()


class TransformersConfig(_Section):
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    device: str = "auto"
    gguf_file: str | None = None
    trust_remote_code: bool = False
    batch_size: int = Field(default=8, gt=0)
    local_files_only: bool = False
    # The decode engine (static KV cache, prefix reuse, CUDA graphs): auto = on CUDA devices only
    engine: Literal["auto", "on", "off"] = "auto"
    prefix_cache_mb: int = Field(default=1024, ge=0)


class LlamaCppConfig(_Section):
    n_ctx: int = Field(default=4096, gt=0)
    n_threads: int | None = Field(default=None, gt=0)
    n_batch: int = Field(default=64, gt=0)   # small chunks: exact prefix reuse re-evaluates at most 63 tokens
    n_gpu_layers: int = 0
    # the KV cache of the prompt prefix a request shares with the one before: exact = reuse whole n_batch
    # chunks of it only, so the same request gives the same tokens whatever came before; reuse = all of it
    # (llama.cpp's own, a little faster, not repeatable); off = evaluate every prompt from the start
    prefix_cache: Literal["exact", "reuse", "off"] = "exact"


class OpenAIConfig(_Section):
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key_env: str | None = "OPENAI_API_KEY"
    timeout_s: float = Field(default=120.0, gt=0)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    backoff_s: float = Field(default=0.5, ge=0)
    concurrency: int = Field(default=4, gt=0)
    send_top_k: bool = True


class RunnerConfig(_Section):
    backend: BackendName = "transformers"
    model: str = "Qwen/Qwen3-8B"
    chat_template: Literal["auto", "qwen3"] = "auto"
    generation: GenerationConfig = GenerationConfig()
    transformers: TransformersConfig = TransformersConfig()
    llamacpp: LlamaCppConfig = LlamaCppConfig()
    openai: OpenAIConfig = OpenAIConfig()
    # Directory that relative model paths are resolved against (the config file's folder).
    base_dir: str = "."

    def resolve_path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else Path(self.base_dir) / path


def load_config(source: str | Path | Mapping[str, Any] | RunnerConfig | None = None,
                **overrides: Any) -> RunnerConfig:
    """Build a RunnerConfig from a YAML path, a dict, or an existing config, plus top-level overrides."""
    if isinstance(source, RunnerConfig):
        data: dict[str, Any] = source.model_dump()
    elif source is None:
        data = {}
    elif isinstance(source, Mapping):
        data = dict(source)
    else:
        data = read_yaml_mapping(Path(source))
        data.setdefault("base_dir", str(Path(source).resolve().parent))
    data.update(overrides)
    return validate_section(RunnerConfig, data)


def read_yaml_mapping(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ConfigError(f"config file {path} is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys, not a {type(data).__name__}")
    return data


def validate_section(model: type[BaseModel], data: Mapping[str, Any], prefix: str = ""):
    """Validate `data` against a pydantic model, turning the first error into a one-line ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, model, prefix)) from None


def describe_validation_error(exc: ValidationError, model: type[BaseModel], prefix: str = "") -> str:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    key = prefix + ".".join(loc)
    if error["type"] == "extra_forbidden":
        known = _known_keys(model, loc[:-1])
        close = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (known keys: {', '.join(sorted(known))})"
        return f"config key '{key}': unknown key{hint}"
    given = error.get("input")
    shown = "" if isinstance(given, (dict, list)) else f" (got {given!r})"
    return f"config key '{key}': {error['msg']}{shown}"


def _known_keys(model: type[BaseModel], path: list[str]) -> list[str]:
    current: Any = model
    for part in path:
        field = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if field is None or not hasattr(field.annotation, "model_fields"):
            return []
        current = field.annotation
    return list(current.model_fields)
