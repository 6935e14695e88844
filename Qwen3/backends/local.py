"""Qwen3 chat over a local text generator, in two phases.

Phase 1 (thinking on): generate freely until `</think>` or `max_thinking_tokens`; a thought that
runs out of budget is closed for the model. Phase 2: generate the answer, under the JSON grammar
when a schema is given. So the grammar never constrains the thinking, and thinking is always capped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

from ..chat import FORCED_THINK_CLOSE, THINK_CLOSE, THINK_OPEN
from ..completion import ChatRequest, Completion, Delta, Timings, Usage
from ..errors import ContextOverflowError
from .base import DeltaCallback, TextGenerator, TextResult


@dataclass
class _Row:
    request: ChatRequest
    prompt: str
    thinking: str | None = None
    thinking_tokens: int = 0
    first_token_s: float | None = None
    reused_prompt_tokens: int | None = None   # from the thinking phase, which starts from the prompt


class LocalChatBackend:
    supports_json_schema = True

    def __init__(self, generator: TextGenerator):
        self.generator = generator
        self.model_name = generator.model_name

    def generate(self, requests: Sequence[ChatRequest], on_delta: DeltaCallback | None = None) -> list[Completion]:
        started = time.perf_counter()
        rows = [_Row(r, self.generator.render(r)) for r in requests]
        prompt_tokens = [self.generator.count_tokens(row.prompt) for row in rows]
        window = getattr(self.generator, "context_tokens", None)
        if window and max(prompt_tokens) >= window:
            raise ContextOverflowError(
                f"the prompt is {max(prompt_tokens):,} tokens, more than the model's context of {window:,} "
                f"({self.generator.context_setting}); shorten the question or the schema, or raise the context",
                max(prompt_tokens), window)

        thinking_rows = [i for i, row in enumerate(rows) if row.request.enable_thinking]
        mixed = self.generator.mixed_sampling
        for group in _groups(rows, thinking_rows, "thinking", mixed):
            self._think(rows, group, on_delta)

        answers: dict[int, TextResult] = {}
        for group in _groups(rows, range(len(rows)), "answer", mixed):
            answers.update(self._answer(rows, group, on_delta))

        total_s = time.perf_counter() - started
        completions = []
        for i, row in enumerate(rows):
            answer = answers[i]
            first = row.first_token_s if row.first_token_s is not None else answer.first_token_s
            completions.append(Completion(
                text=answer.text.strip(),
                thinking=row.thinking,
                finish_reason=answer.finish_reason,
                usage=Usage(prompt_tokens[i], row.thinking_tokens + answer.completion_tokens, row.thinking_tokens,
                            min(prompt_tokens[i], row.reused_prompt_tokens if row.reused_prompt_tokens is not None
                                else answer.reused_prompt_tokens)),
                timings=Timings(total_s=total_s, first_token_s=first),
                model=self.model_name,
            ))
        return completions

    def _think(self, rows: list[_Row], group: list[int], on_delta: DeltaCallback | None) -> None:
        first = rows[group[0]].request
        results = self.generator.generate_text(
            [rows[i].prompt for i in group], [rows[i].request.sampling for i in group], first.max_thinking_tokens,
            stop=[THINK_CLOSE], json_schema=None, seeds=[rows[i].request.seed for i in group],
            on_text=_relay(group, "thinking", on_delta, strip_prefix=THINK_OPEN))
        for i, result in zip(group, results):
            row = rows[i]
            closed = result.finish_reason == "stop"
            row.prompt += result.text + (f"{THINK_CLOSE}\n\n" if closed else FORCED_THINK_CLOSE)
            row.thinking = _strip_open_tag(result.text)
            row.thinking_tokens = result.completion_tokens
            row.first_token_s = result.first_token_s
            row.reused_prompt_tokens = result.reused_prompt_tokens

    def _answer(self, rows: list[_Row], group: list[int], on_delta: DeltaCallback | None) -> dict[int, TextResult]:
        first = rows[group[0]].request
        results = self.generator.generate_text(
            [rows[i].prompt for i in group], [rows[i].request.sampling for i in group], first.max_new_tokens,
            stop=list(first.stop), json_schema=dict(first.json_schema) if first.json_schema else None,
            seeds=[rows[i].request.seed for i in group], on_text=_relay(group, "answer", on_delta))
        return dict(zip(group, results))

    def close(self) -> None:
        self.generator.close()


def _groups(rows: list[_Row], indices: Sequence[int], phase: str, mixed_sampling: bool) -> list[list[int]]:
    """Rows that can share one batched generate call: same limits, stops and schema - and, unless the
    generator mixes them, the same sampling and seed, and never two seeded sampled rows: generate() draws
    one random stream for a call, and each such row must sample what it would alone."""
    groups: dict[tuple, list[int]] = {}
    for i in indices:
        r = rows[i].request
        limit = r.max_thinking_tokens if phase == "thinking" else r.max_new_tokens
        schema = None if phase == "thinking" else repr(r.json_schema)
        seed = None if r.sampling.greedy else r.seed   # greedy rows draw nothing: their seeds do not matter
        sampling = () if mixed_sampling else (r.sampling, seed, None if seed is None else i)
        key = (limit, r.stop if phase == "answer" else (), schema, sampling)
        groups.setdefault(key, []).append(i)
    return list(groups.values())


def _strip_open_tag(text: str) -> str:
    text = text.strip()
    return text[len(THINK_OPEN):].strip() if text.startswith(THINK_OPEN) else text


def _relay(group: list[int], channel: str, on_delta: DeltaCallback | None,
           strip_prefix: str = "") -> Callable[[int, str], None] | None:
    """Map a generator's (position in group, text) callbacks to the caller's (row, Delta)."""
    if on_delta is None:
        return None
    pending = {pos: "" for pos in range(len(group))} if strip_prefix else {}

    def relay(pos: int, text: str) -> None:
        if pos in pending:  # hold text back until we know whether it opens with the prefix
            buffered = pending[pos] + text
            head = buffered.lstrip()
            if len(head) < len(strip_prefix) and strip_prefix.startswith(head):
                pending[pos] = buffered
                return
            del pending[pos]
            text = head[len(strip_prefix):].lstrip("\n") if head.startswith(strip_prefix) else head
            if not text:
                return
        on_delta(group[pos], Delta(text=text, channel=channel))

    return relay
