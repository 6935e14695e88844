import pytest

from Qwen3.chat import render_jinja, render_qwen3, resolve_thinking, split_thinking
from Qwen3.completion import Message, coerce_messages


def msgs(*pairs):
    return [Message(role, content) for role, content in pairs]


def test_render_thinking_on_leaves_the_think_block_to_the_model():
    assert render_qwen3(msgs(("user", "Hi")), enable_thinking=True) == \
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_render_thinking_off_prefills_an_empty_think_block():
    assert render_qwen3(msgs(("system", "S"), ("user", "Hi")), enable_thinking=False) == \
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"


def test_render_drops_thinking_from_earlier_assistant_turns():
    prompt = render_qwen3(msgs(("user", "a"), ("assistant", "<think>\nsecret\n</think>\n\nB"), ("user", "c")), True)
    assert "secret" not in prompt and "<|im_start|>assistant\nB<|im_end|>" in prompt


@pytest.mark.parametrize("last, requested, default, expected", [
    ("q", None, True, True),
    ("q", None, False, False),
    ("q /no_think", None, True, False),
    ("q /think  ", None, False, True),
    ("q /no_think", True, False, True),
    ("q /think", False, True, False),
])
def test_resolve_thinking(last, requested, default, expected):
    assert resolve_thinking(msgs(("user", last)), requested, default) is expected


def test_soft_switch_only_counts_in_the_latest_user_turn():
    conversation = msgs(("user", "a /no_think"), ("assistant", "x"), ("user", "b"))
    assert resolve_thinking(conversation, None, True) is True


@pytest.mark.parametrize("text, enabled, expected", [
    ("<think>\nplan\n</think>\n\nanswer", True, ("plan", "answer")),
    ("plan</think>answer", True, ("plan", "answer")),
    ("<think>a</think>b</think>\n\nfinal", True, ("a</think>b", "final")),
    ("<think>\nunfinished thought", True, ("unfinished thought", "")),
    ("plain answer", True, (None, "plain answer")),
    ("plain answer", False, (None, "plain answer")),
    ("<think>\n\n</think>\n\n42", False, ("", "42")),
])
def test_split_thinking_on_the_last_close_tag(text, enabled, expected):
    assert split_thinking(text, enabled) == expected


def test_render_jinja_passes_enable_thinking():
    template = ("{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
                "{% if add_generation_prompt %}[assistant]{% if not enable_thinking %}<nothink>{% endif %}{% endif %}")
    assert render_jinja(template, msgs(("user", "x")), enable_thinking=False) == "[user]x[assistant]<nothink>"
    assert render_jinja(template, msgs(("user", "x")), enable_thinking=True) == "[user]x[assistant]"


def test_coerce_messages():
    assert coerce_messages("hi") == (Message("user", "hi"),)
    assert coerce_messages([{"role": "system", "content": "s"}])[0].role == "system"
    with pytest.raises(ValueError, match="role"):
        coerce_messages([{"role": "tool", "content": "x"}])
    with pytest.raises(ValueError, match="empty"):
        coerce_messages([])
