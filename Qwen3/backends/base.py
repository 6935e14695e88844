"""The one small protocol every backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal, Protocol, Sequence

from ..completion import ChatRequest, Completion, Delta, SamplingParams

# Called with (row index in the batch, piece of text) while a backend generates.
DeltaCallback = Callable[[int, Delta], None]


class Backend(Protocol):
    """Answers fully resolved chat requests. Thinking is already split off in what it returns."""

    model_name: str
    supports_json_schema: bool

    def generate(self, requests: Sequence[ChatRequest], on_delta: DeltaCallback | None = None) -> list[Completion]:
        ...

    def close(self) -> None:
        ...


@dataclass(frozen=True)
class TextResult:
    """What a local text generator returns for one prompt (stop strings already cut off)."""

    text: str
    finish_reason: Literal["stop", "length"]
    completion_tokens: int
    first_token_s: float | None = None
    reused_prompt_tokens: int = 0     # prompt tokens taken from a prefix cache


def cut_at_stop(text: str, stop: Sequence[str]) -> str | None:
    """`text` up to where its first stop string begins; None when it holds none."""
    cut = min((text.find(s) for s in stop if s in text), default=-1)
    return text[:cut] if cut >= 0 else None


class TextGenerator(Protocol):
    """A local model that continues raw prompts; LocalChatBackend builds Qwen3 chat on top of it.

    `samplings` and `seeds` hold one entry per prompt. A generator with `mixed_sampling` True answers
    rows that differ in them in one call, each row as it would alone; otherwise LocalChatBackend only
    puts rows with the same sampling and seed in one call."""

    model_name: str
    mixed_sampling: bool

    def render(self, request: ChatRequest) -> str:
        ...

    def count_tokens(self, text: str) -> int:
        ...

    def generate_text(self, prompts: Sequence[str], samplings: Sequence[SamplingParams], max_new_tokens: int,
                      stop: Sequence[str], json_schema: dict | None, seeds: Sequence[int | None],
                      on_text: Callable[[int, str], None] | None) -> list[TextResult]:
        ...

    def close(self) -> None:
        ...
