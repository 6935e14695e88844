"""llama.cpp's prompt-prefix cache: with `prefix_cache: exact` a request gives the same logits, and so the
same tokens, whatever request came before it (the packaged 0.5B model, small n_batch so chunks matter)."""

import numpy as np
import pytest

from Qwen3 import load_runner
from Qwen3.backends.llamacpp import LlamaCppGenerator
from Qwen3.config import load_config
from support import require_offline_model

SMALL = "offline:qwen2.5-coder-0.5b"
SCHEMA = " ".join(f"CREATE TABLE t{i} (id INT PRIMARY KEY, name TEXT, value REAL, t{i - 1}_id INT);"
                  for i in range(1, 12))


def settings(mode: str) -> dict:
    return {"backend": "llamacpp", "model": SMALL, "generation": {"thinking": False, "seed": 0},
            "llamacpp": {"n_ctx": 2048, "n_batch": 32, "n_threads": 1, "prefix_cache": mode}}


def first_logits(generator: LlamaCppGenerator, tokens: list[int]) -> np.ndarray:
    seen = []

    def keep_first(_ids, scores):
        if not seen:
            seen.append(scores.copy())
        return scores

    generator.keep_cached_prefix(tokens)
    generator.llm.create_completion(prompt=tokens, max_tokens=1, temperature=0, logits_processor=[keep_first])
    return seen[0]


@pytest.fixture(scope="module")
def exact():
    require_offline_model(SMALL.split(":")[1])
    generator = LlamaCppGenerator(load_config(settings("exact")))
    yield generator
    generator.close()


def test_the_same_prompt_gives_the_same_logits_after_any_predecessor(exact):
    prompt = exact.llm.tokenize(f"You write SQL. Schema: {SCHEMA} Question: names in t7 with value over 3".encode())
    exact.llm.reset()
    fresh = first_logits(exact, prompt)
    other = exact.llm.tokenize(b" and now something else entirely", add_bos=False)
    for k in (3, 8, 31, 32, 33, 50, 64, 100):              # tokens of the prompt not shared with the one before
        first_logits(exact, prompt[:len(prompt) - k] + other)
        assert np.array_equal(first_logits(exact, prompt), fresh), k
    first_logits(exact, prompt)                              # the very same prompt again: still exact
    assert np.array_equal(first_logits(exact, prompt), fresh)


@pytest.mark.parametrize("mode", ["exact", "reuse", "off"])
def test_what_each_mode_keeps_of_a_shared_prefix(mode, exact):
    generator = exact if mode == "exact" else LlamaCppGenerator(load_config(settings(mode)))
    try:
        tokens = generator.llm.tokenize(f"Schema: {SCHEMA}".encode())
        first_logits(generator, tokens)
        cached = generator.llm.n_tokens              # the prompt, and the sampled token if it was evaluated
        assert cached >= len(tokens)
        kept = generator.keep_cached_prefix(tokens[:80] + generator.llm.tokenize(b" other words", add_bos=False))
        # exact: the whole 32-token chunks of the 80 shared; reuse: all that is cached; off: nothing
        assert kept == {"exact": 64, "reuse": cached, "off": 0}[mode]
        assert generator.llm.n_tokens == kept
    finally:
        if generator is not exact:
            generator.close()


def test_a_request_answers_the_same_after_different_requests():
    require_offline_model(SMALL.split(":")[1])
    question = f"Schema: {SCHEMA}\nWrite SQL for: the names in t7 with value over 3."
    with load_runner(settings("exact")) as runner:
        alone = runner.chat(question, temperature=0, max_new_tokens=24).text
        runner.chat(f"Schema: {SCHEMA}\nWrite SQL for: count the rows of t2.", temperature=0, max_new_tokens=24)
        after_one = runner.chat(question, temperature=0, max_new_tokens=24).text
        runner.chat("Say hello.", temperature=0, max_new_tokens=8)
        after_other = runner.chat(question, temperature=0, max_new_tokens=24).text
    assert alone == after_one == after_other


def test_the_usage_says_how_many_prompt_tokens_the_cache_served():
    require_offline_model(SMALL.split(":")[1])
    with load_runner(settings("exact")) as runner:
        first = runner.chat(f"Schema: {SCHEMA}\nWrite SQL for: count the rows of t2.", temperature=0, max_new_tokens=8)
        second = runner.chat(f"Schema: {SCHEMA}\nWrite SQL for: the names in t7.", temperature=0, max_new_tokens=8)
        unrelated = runner.chat("Say hello.", temperature=0, max_new_tokens=8)
    assert first.usage.reused_prompt_tokens == 0
    # the shared schema, in whole 32-token chunks, short of where the two questions part
    assert 0 < second.usage.reused_prompt_tokens <= second.usage.prompt_tokens - 5
    assert second.usage.reused_prompt_tokens % 32 == 0
    assert unrelated.usage.reused_prompt_tokens < 32   # only the chat template's opening can be shared
