"""Qwen3 chat conventions: the ChatML prompt, thinking on/off, and splitting thinking from the answer.

Qwen3 thinks inside `<think>...</think>` before answering. The hard switch is the chat template's
`enable_thinking`; the soft switches are `/think` and `/no_think` at the end of the latest user turn.
With thinking off, the template pre-fills an empty think block so the model answers at once.
"""

from __future__ import annotations

from typing import Sequence

from jinja2.sandbox import ImmutableSandboxedEnvironment

from .completion import Message

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
EMPTY_THINK_BLOCK = "<think>\n\n</think>\n\n"
IM_START, IM_END = "<|im_start|>", "<|im_end|>"
# Appended when a thought runs past max_thinking_tokens, so the model moves on to its answer.
FORCED_THINK_CLOSE = "\n\nI have to answer now.\n</think>\n\n"


def resolve_thinking(messages: Sequence[Message], requested: bool | None, default: bool) -> bool:
    """Explicit request beats the soft switch in the latest user turn, which beats the config default."""
    if requested is not None:
        return requested
    for message in reversed(messages):
        if message.role == "user":
            text = message.content.rstrip()
            if text.endswith("/no_think"):
                return False
            if text.endswith("/think"):
                return True
            break
    return default


def strip_thinking(content: str) -> str:
    """What Qwen3 keeps of an earlier assistant turn: the answer after its last `</think>`."""
    if THINK_CLOSE in content:
        return content.rsplit(THINK_CLOSE, 1)[1].lstrip("\n")
    return content


def render_qwen3(messages: Sequence[Message], enable_thinking: bool) -> str:
    """The Qwen3 ChatML prompt, ending with the assistant's generation prompt."""
    parts = []
    for message in messages:
        content = strip_thinking(message.content) if message.role == "assistant" else message.content
        parts.append(f"{IM_START}{message.role}\n{content}{IM_END}\n")
    parts.append(f"{IM_START}assistant\n")
    if not enable_thinking:
        parts.append(EMPTY_THINK_BLOCK)
    return "".join(parts)


def render_jinja(template: str, messages: Sequence[Message], enable_thinking: bool,
                 bos_token: str = "", eos_token: str = "") -> str:
    """Render a model's own chat template (e.g. from GGUF metadata) the way transformers does."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise_template_error
    return env.from_string(template).render(
        messages=[{"role": m.role, "content": m.content} for m in messages],
        add_generation_prompt=True,
        enable_thinking=enable_thinking,
        bos_token=bos_token,
        eos_token=eos_token,
    )


def _raise_template_error(message: str) -> None:
    raise ValueError(f"chat template error: {message}")


def split_thinking(text: str, thinking_enabled: bool) -> tuple[str | None, str]:
    """Split generated text on the last `</think>` into (thinking, answer).

    With thinking on and no `</think>` at all, the whole text is an unfinished thought.
    """
    if THINK_CLOSE in text:
        thought, answer = text.rsplit(THINK_CLOSE, 1)
        thought = thought.strip()
        if thought.startswith(THINK_OPEN):
            thought = thought[len(THINK_OPEN):].strip()
        return thought, answer.strip()
    if thinking_enabled:
        stripped = text.strip()
        if stripped.startswith(THINK_OPEN):
            return stripped[len(THINK_OPEN):].strip(), ""
    return None, text.strip()
