"""The Runner: one way to talk to a Qwen3 model, wherever it runs.

It resolves each call (thinking mode, per-mode sampling defaults, limits, JSON schema) into a
ChatRequest, hands it to the configured backend, and checks JSON answers against their schema.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from .backends import Backend, create_backend
from .chat import resolve_thinking
from .completion import ChatRequest, Completion, Delta, Message, SamplingParams, coerce_messages
from .config import RunnerConfig, load_config
from .errors import StructuredOutputError
from .structured import harden_schema, check_schema, parse_json_output

Messages = Sequence[Message | Mapping[str, Any]] | str
_SAMPLING_KEYS = ("temperature", "top_p", "top_k", "min_p", "presence_penalty")


class Runner:
    """Chat with a Qwen3 model. Build one with `load_runner(...)`; close it (or use `with`) when done."""

    def __init__(self, config: RunnerConfig, backend: Backend | None = None):
        self.config = config
        self.backend = backend if backend is not None else create_backend(config)

    @property
    def model_name(self) -> str:
        return self.backend.model_name

    def request(self, messages: Messages, *, thinking: bool | None = None,
                json_schema: Mapping[str, Any] | None = None, max_new_tokens: int | None = None,
                max_thinking_tokens: int | None = None, stop: Sequence[str] | None = None,
                seed: int | None = None, **sampling: float | int | None) -> ChatRequest:
        """Resolve one call's options against the config into the request a backend receives."""
        unknown = set(sampling) - set(_SAMPLING_KEYS)
        if unknown:
            raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
        gen = self.config.generation
        msgs = coerce_messages(messages)
        enable_thinking = resolve_thinking(msgs, thinking, gen.thinking)
        mode = gen.sampling.thinking if enable_thinking else gen.sampling.non_thinking
        params = mode.model_dump()
        params.update({k: v for k, v in sampling.items() if v is not None})
        schema = None
        if json_schema is not None:
            schema = harden_schema(check_schema(json_schema), gen.json_max_string_length)
        return ChatRequest(
            messages=msgs, enable_thinking=enable_thinking, sampling=SamplingParams(**params),
            max_new_tokens=max_new_tokens or gen.max_new_tokens,
            max_thinking_tokens=max_thinking_tokens or gen.max_thinking_tokens,
            json_schema=schema, stop=tuple(stop if stop is not None else gen.stop),
            seed=seed if seed is not None else gen.seed)

    def chat(self, messages: Messages, **options: Any) -> Completion:
        """Answer one conversation. With json_schema=..., `completion.parsed` holds the validated value."""
        return self.chat_batch([messages], **options)[0]

    def chat_batch(self, conversations: Sequence[Messages], **options: Any) -> list[Completion]:
        """Answer several conversations together (one batched pass on local backends)."""
        return self.answer([self.request(c, **options) for c in conversations])

    def answer(self, requests: Sequence[ChatRequest], return_errors: bool = False) -> list[Completion]:
        """Answer prepared requests (from `request()`, each with its own options) in one backend call:
        local backends batch the rows that share their sampling settings, the OpenAI-compatible one sends
        them concurrently. With return_errors, a JSON answer that fails its schema comes back as its
        StructuredOutputError in the list (holding the completion) instead of failing the whole call."""
        answers = []
        for request, completion in zip(requests, self.backend.generate(list(requests))):
            try:
                answers.append(_checked(request, completion))
            except StructuredOutputError as exc:
                if not return_errors:
                    raise
                answers.append(exc)
        return answers

    def stream(self, messages: Messages, **options: Any) -> Iterator[Delta]:
        """Yield text as it is generated; the last Delta carries the finished Completion."""
        request = self.request(messages, **options)
        events: queue.Queue = queue.Queue()

        def work() -> None:
            try:
                done = self.backend.generate([request], on_delta=lambda _row, d: events.put(d))[0]
                events.put(Delta(completion=_checked(request, done)))
            except BaseException as exc:  # re-raised in the caller's thread
                events.put(exc)

        worker = threading.Thread(target=work, name="qwen3-runner-stream", daemon=True)
        worker.start()
        while True:
            item = events.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if item.completion is not None:
                break
        worker.join()

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _checked(request: ChatRequest, completion: Completion) -> Completion:
    if request.json_schema is None:
        return completion
    try:
        value = parse_json_output(completion.text, request.json_schema)
    except StructuredOutputError as exc:
        cut = " (the answer hit max_new_tokens)" if completion.finish_reason == "length" else ""
        raise StructuredOutputError(f"{exc}{cut}", completion=completion) from None
    return replace(completion, parsed=value)


def load_runner(config: str | Path | Mapping[str, Any] | RunnerConfig | None = None,
                backend: Backend | None = None, **overrides: Any) -> Runner:
    """A Runner from a YAML path, a dict or a RunnerConfig (top-level keys can be overridden)."""
    return Runner(load_config(config, **overrides), backend=backend)
