"""Recover a JSON object from whatever a model wrote: thinking blocks, code fences, chatter.

Never raises on arbitrary text except ExpertOutputError, whose message says what was wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

from Qwen3.errors import RunnerError

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


class ExpertOutputError(RunnerError):
    """An expert's output held no usable JSON object."""


def recover_json(text: str) -> dict[str, Any]:
    """The first JSON object in `text` (after `</think>`, in a ```json fence, or anywhere)."""
    if not isinstance(text, str) or not text.strip():
        raise ExpertOutputError("the expert returned nothing")
    body = _THINK.sub("", text)
    if "</think>" in body:
        body = body.rsplit("</think>", 1)[1]
    candidates = [m.group(1) for m in _FENCE.finditer(body)] + [body]
    for candidate in candidates:
        value = _first_object(candidate)
        if value is not None:
            return value
    raise ExpertOutputError(f"no JSON object in the expert's output (starts: {' '.join(text.split())[:80]!r})")


def _first_object(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            value, _ = decoder.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            value = _without_trailing_commas(text, start)
        if isinstance(value, dict):
            return value
        start = text.find("{", start + 1)
    return None


def _without_trailing_commas(text: str, start: int) -> Any:
    end = text.rfind("}")
    if end <= start:
        return None
    cleaned = re.sub(r",\s*([}\]])", r"\1", text[start:end + 1])
    try:
        return json.loads(cleaned)
    except (json.JSONDecodeError, RecursionError):
        return None
