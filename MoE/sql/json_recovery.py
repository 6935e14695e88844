"""Recover a JSON object from whatever a model wrote: thinking blocks, code fences, chatter.

Never raises on arbitrary text except ExpertOutputError, whose message says what was wrong.
"""

from __future__ import annotations

import json
import re
from typing import Any

from Qwen3.errors import RunnerError

_LEADING_THINK = re.compile(r"\s*<think>.*?</think>", re.DOTALL)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


class ExpertOutputError(RunnerError):
    """An expert's output held no usable JSON object."""


def recover_json(text: str) -> dict[str, Any]:
    """The first JSON object in `text` (after `</think>`, in a ```json fence, or anywhere)."""
    if not isinstance(text, str) or not text.strip():
        raise ExpertOutputError("the expert returned nothing")
    body = _LEADING_THINK.sub("", text, count=1) if text.lstrip().startswith("<think>") else text
    for candidate in [m.group(1) for m in _FENCE.finditer(body)] + [body]:
        value = _answer_object(candidate)
        if value is not None:
            return value
    raise ExpertOutputError(f"no JSON object in the expert's output (starts: {' '.join(text.split())[:80]!r})")


def _answer_object(text: str) -> dict[str, Any] | None:
    """The first object no bare "</think>" follows: one that is followed was written while thinking (opened
    in the prompt, so only its end is in the text); a "</think>" inside the object's own strings does not
    count. If every object is followed by one, the last."""
    found, start = None, 0
    while (hit := _first_object(text, start)) is not None:
        value, end = hit
        close = text.find("</think>", end)
        if close == -1:
            return value
        found, start = value, close + len("</think>")
    return found


def _first_object(text: str, start: int = 0) -> tuple[dict[str, Any], int] | None:
    """The first JSON object at or after `start`, and where it ends."""
    decoder = json.JSONDecoder()
    start = text.find("{", start)
    while start != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except (json.JSONDecodeError, RecursionError):
            value, end = _without_trailing_commas(text, start)
        if isinstance(value, dict):
            return value, end
        start = text.find("{", start + 1)
    return None


def _without_trailing_commas(text: str, start: int) -> tuple[Any, int]:
    end = text.rfind("}")
    if end <= start:
        return None, start
    cleaned = re.sub(r",\s*([}\]])", r"\1", text[start:end + 1])
    try:
        return json.loads(cleaned), end + 1
    except (json.JSONDecodeError, RecursionError):
        return None, start
