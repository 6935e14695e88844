"""The runner's value types: what goes into a chat call and what comes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Sequence

Role = Literal["system", "user", "assistant"]
FinishReason = Literal["stop", "length"]
Channel = Literal["thinking", "answer"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str

    @staticmethod
    def coerce(message: "Message | Mapping[str, Any]") -> "Message":
        if isinstance(message, Message):
            return message
        role, content = message.get("role"), message.get("content")
        if role not in ("system", "user", "assistant"):
            raise ValueError(f"message role must be system, user or assistant, got {role!r}")
        if not isinstance(content, str):
            raise ValueError(f"message content must be a string, got {type(content).__name__}")
        return Message(role=role, content=content)


@dataclass(frozen=True)
class SamplingParams:
    """temperature 0 means greedy decoding; top_k 0 and min_p 0 mean 'off'."""

    temperature: float = 0.7
    top_p: float = 0.8
    top_k: int = 20
    min_p: float = 0.0
    presence_penalty: float = 0.0

    @property
    def greedy(self) -> bool:
        return self.temperature <= 0.0


@dataclass(frozen=True)
class ChatRequest:
    """One fully resolved chat call, as a backend sees it (defaults already applied)."""

    messages: tuple[Message, ...]
    enable_thinking: bool
    sampling: SamplingParams
    max_new_tokens: int
    max_thinking_tokens: int
    json_schema: Mapping[str, Any] | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    thinking_tokens: int = 0
    reused_prompt_tokens: int = 0   # prompt tokens a prefix cache served instead of computing them

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Timings:
    """Wall-clock seconds. first_token_s is the time to the first generated token."""

    total_s: float
    first_token_s: float | None = None

    def tokens_per_s(self, completion_tokens: int) -> float:
        decode_s = self.total_s - (self.first_token_s or 0.0)
        if completion_tokens <= 1 or decode_s <= 0:
            return 0.0
        return (completion_tokens - 1) / decode_s


@dataclass(frozen=True)
class Completion:
    """A finished answer. `text` is the answer alone; `thinking` holds what came before `</think>`."""

    text: str
    thinking: str | None
    finish_reason: FinishReason
    usage: Usage
    timings: Timings
    model: str = ""
    parsed: Any = field(default=None, compare=False)

    @property
    def tokens_per_s(self) -> float:
        return self.timings.tokens_per_s(self.usage.completion_tokens)


@dataclass(frozen=True)
class Delta:
    """A piece of streamed text; the last one of a stream carries the finished Completion."""

    text: str = ""
    channel: Channel = "answer"
    completion: Completion | None = None


def coerce_messages(messages: Sequence[Message | Mapping[str, Any]] | str) -> tuple[Message, ...]:
    if isinstance(messages, str):
        return (Message("user", messages),)
    out = tuple(Message.coerce(m) for m in messages)
    if not out:
        raise ValueError("messages must not be empty")
    return out
