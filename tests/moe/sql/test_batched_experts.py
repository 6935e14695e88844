"""Expert calls sent together give what they give one by one, on a real (tiny, random) Qwen3."""

import pytest

from MoE.sql.experts import ExpertCall, build_messages, call_expert, call_experts
from Qwen3 import load_runner


@pytest.fixture(scope="module", params=["on", "off"], ids=["decode-engine", "hf-generate"])
def runner(request, tiny_config):
    config = dict(tiny_config, transformers={"engine": request.param})
    with load_runner(config) as runner:
        yield runner


def calls():
    def messages(question):
        return build_messages("sql_writer", "sqlite", "CREATE TABLE t (x INT, y TEXT)", question)
    return [ExpertCall(messages("How many rows?"), temperature=0.0, seed=1),
            ExpertCall(messages("List every y whose x is above two, longest first"), temperature=0.0, seed=2),
            ExpertCall(messages("How many rows?"), temperature=0.8, seed=3)]


def test_batched_candidates_equal_one_by_one(runner, monkeypatch):
    batches, generate_text = [], runner.backend.generator.generate_text

    def counted(prompts, *args, **kwargs):
        batches.append(len(prompts))
        return generate_text(prompts, *args, **kwargs)

    monkeypatch.setattr(runner.backend.generator, "generate_text", counted)
    together = call_experts(runner, "sql_writer", calls(), retries=1, max_new_tokens=96, thinking=False)
    # the engine decodes all three as one batch, each row with its own sampling and seed; generate() takes
    # one setting per call, so there the two greedy rows go together and the sampled one alone
    assert batches == ([3] if runner.backend.generator.mixed_sampling else [2, 1])
    monkeypatch.undo()
    alone = [call_expert(runner, "sql_writer", c.messages, 1, 96, False, c.temperature, c.seed) for c in calls()]
    assert [r.output for r in together] == [r.output for r in alone]
    assert [(r.attempts, r.prompt_tokens, r.completion_tokens) for r in together] == \
        [(r.attempts, r.prompt_tokens, r.completion_tokens) for r in alone]
    assert together[0].prompt_tokens != together[1].prompt_tokens   # different prompts: padding was needed
