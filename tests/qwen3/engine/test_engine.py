"""The decode engine against transformers' generate() on a real (tiny, random) Qwen3, on the CPU."""

import pytest
import torch

from Qwen3.completion import SamplingParams
from Qwen3.engine import DecodeEngine, EngineSettings, UnsupportedModel

GREEDY = SamplingParams(temperature=0)
SHARED = "SELECT name, SUM(amount) AS total FROM orders GROUP BY name ORDER BY total DESC; " * 2
PROMPTS = [SHARED + "SELECT name FROM orders", SHARED + "The quick brown fox jumps over", "What"]


def reference(model, tokenizer, prompts, new_tokens, **options):
    batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    out = model.generate(**batch, max_new_tokens=new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=None, **options)
    return [row[batch["input_ids"].shape[1]:].tolist() for row in out]


@pytest.mark.parametrize("prompts", [PROMPTS[:1], PROMPTS[1:2], PROMPTS], ids=["one", "another", "batch of 3"])
def test_greedy_tokens_equal_generate(lively_model, encode, prompts):
    model, tokenizer = lively_model
    engine = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(prefix_cache_mb=0))
    got = [g.tokens for g in engine.generate([encode(p) for p in prompts], GREEDY, max_new_tokens=24)]
    assert got == reference(model, tokenizer, prompts, 24)
    assert len(set(got[0])) > 3  # the tokens vary, so the comparison means something


def test_a_reused_prefix_gives_the_same_tokens(lively_model, encode):
    model, _ = lively_model
    engine = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(prefill_chunk=16))
    cold = engine.generate([encode(PROMPTS[0])], GREEDY, max_new_tokens=16)[0]
    warm = engine.generate([encode(PROMPTS[1]), encode(PROMPTS[2])], GREEDY, max_new_tokens=16)
    assert cold.reused_prompt_tokens == 0
    shared = len(encode(SHARED))
    assert shared - 2 <= warm[0].reused_prompt_tokens < len(encode(PROMPTS[1]))  # the shared part only
    assert warm[1].reused_prompt_tokens == 0                                     # too short to share
    fresh = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(prefix_cache_mb=0))
    assert [g.tokens for g in warm] == [g.tokens for g in fresh.generate([encode(PROMPTS[1]), encode(PROMPTS[2])],
                                                                          GREEDY, max_new_tokens=16)]
    assert engine.prefixes.hits == 1


def test_rows_stop_on_their_own_end_token_and_stream(lively_model, encode):
    model, tokenizer = lively_model
    free = reference(model, tokenizer, PROMPTS, 20)
    end = free[0][5]  # a token the first row writes at step 5 becomes "end of turn"
    streamed: dict[int, list[int]] = {0: [], 1: [], 2: []}
    engine = DecodeEngine(model, end_token_ids=[end], settings=EngineSettings(sync_every=3))
    got = engine.generate([encode(p) for p in PROMPTS], GREEDY, max_new_tokens=20,
                          on_tokens=lambda row, ids: streamed[row].extend(ids))
    for row, generation in enumerate(got):
        cut = free[row].index(end) if end in free[row] else None
        assert generation.tokens == free[row][:cut]
        assert generation.finish_reason == ("stop" if cut is not None else "length")
        assert streamed[row] == generation.tokens


def test_stop_predicate_ends_a_row_early(lively_model, encode):
    model, _ = lively_model
    engine = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(sync_every=1))
    [row] = engine.generate([encode(PROMPTS[0])], GREEDY, max_new_tokens=20, stopped=lambda ids: len(ids) >= 4)
    assert len(row.tokens) == 4 and row.finish_reason == "stop"


@pytest.mark.parametrize("sync_every, steps", [(None, 3), (8, 7)])
def test_on_the_cpu_the_host_looks_at_every_step_by_default(lively_model, encode, monkeypatch, sync_every, steps):
    from Qwen3.engine.forward import Qwen3Forward

    model, _ = lively_model
    engine = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(sync_every=sync_every))
    calls, forward = [], Qwen3Forward.__call__
    monkeypatch.setattr(Qwen3Forward, "__call__", lambda self, *a, **k: calls.append(1) or forward(self, *a, **k))
    [row] = engine.generate([encode(PROMPTS[0])], GREEDY, max_new_tokens=20, stopped=lambda ids: len(ids) >= 4)
    # the prefill gives the first token and a step each the next ones; looking every 8 steps, the host
    # sees the stop only after step 7 (the runner cuts the text at the stop string)
    assert len(calls) == 1 + steps and len(row.tokens) == 1 + steps


def test_presence_penalty_pushes_away_from_repeats(lively_model, encode):
    model, _ = lively_model
    engine = DecodeEngine(model, end_token_ids=[])
    [plain] = engine.generate([encode("What")], GREEDY, max_new_tokens=30)
    [penalised] = engine.generate([encode("What")], SamplingParams(temperature=0, presence_penalty=2.0),
                                  max_new_tokens=30)
    assert len(set(plain.tokens)) < 30  # it does repeat without the penalty ...
    [strict] = engine.generate([encode("What")], SamplingParams(temperature=1e-4, top_k=0, top_p=1.0,
                                                                presence_penalty=1e4), max_new_tokens=30, seed=0)
    assert len(set(strict.tokens)) == 30  # ... and never with an overwhelming one
    assert penalised.tokens != plain.tokens


def test_seeded_sampling_repeats_and_varies_with_the_seed(lively_model, encode):
    model, _ = lively_model
    engine = DecodeEngine(model, end_token_ids=[])
    sampling = SamplingParams(temperature=1.0, top_p=0.95, top_k=50)
    runs = [engine.generate([encode("What")], sampling, max_new_tokens=12, seed=s)[0].tokens for s in (1, 1, 2)]
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_json_grammar_hook_constrains_every_token(tiny_model_dir):
    from Qwen3 import load_runner

    config = {"backend": "transformers", "model": str(tiny_model_dir), "transformers": {"engine": "on"},
              "generation": {"thinking": False, "max_new_tokens": 48, "json_max_string_length": 8}}
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}
    with load_runner(config) as runner:
        assert runner.backend.generator.engine is not None
        completion = runner.chat("Answer in JSON.", json_schema=schema, temperature=0.8, seed=3)
    assert isinstance(completion.parsed["ok"], bool)


def test_runner_with_the_engine_answers_as_with_generate(tiny_config):
    from Qwen3 import load_runner

    question = [{"role": "user", "content": "What is 2 + 2?"}]
    answers = []
    for engine in ("off", "on"):
        with load_runner({**tiny_config, "transformers": {"engine": engine}}) as runner:
            answers.append([c.text for c in runner.chat_batch([question, question[:0] + [
                {"role": "user", "content": "Name a colour, please, in one word."}]], temperature=0)])
    assert answers[0] == answers[1]


def test_models_the_engine_cannot_run_are_refused():
    from transformers import GPT2Config, GPT2LMHeadModel

    tiny_gpt2 = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=50))
    with pytest.raises(UnsupportedModel, match="runs Qwen3"):
        DecodeEngine(tiny_gpt2, end_token_ids=[0])


def test_an_empty_prompt_is_an_error(lively_model):
    with pytest.raises(ValueError, match="at least one token"):
        DecodeEngine(lively_model[0], end_token_ids=[]).generate([[]], GREEDY, max_new_tokens=4)


def test_a_shape_kept_from_an_earlier_call_gives_the_same_tokens(lively_model, encode):
    """The second call of a shape reuses the first's cache and buffers (their junk is never read)."""
    model, tokenizer = lively_model
    engine = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(prefix_cache_mb=0, kept_shapes=2))
    first = engine.generate([encode(p) for p in PROMPTS[:2]], GREEDY, max_new_tokens=24)
    cache = engine._shapes[(2, 256)].cache
    second = engine.generate([encode(p) for p in (PROMPTS[2], PROMPTS[1])], GREEDY, max_new_tokens=24)
    assert engine._shapes[(2, 256)].cache is cache                      # the same tensors, no new allocation
    assert [g.tokens for g in second] == reference(model, tokenizer, [PROMPTS[2], PROMPTS[1]], 24)
    assert [g.tokens for g in first] != [g.tokens for g in second]
    engine.generate([encode("a")], GREEDY, max_new_tokens=4)
    engine.generate([encode("a")] * 3, GREEDY, max_new_tokens=4)
    assert list(engine._shapes) == [(1, 256), (3, 256)]                # at most kept_shapes, least recent dropped


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
def test_a_cuda_graph_is_captured_once_per_shape_and_reused(lively_model, encode):
    model, tokenizer = lively_model
    engine = DecodeEngine(model.to("cuda"), end_token_ids=[], settings=EngineSettings(prefix_cache_mb=0))
    try:
        runs = [engine.generate([encode(p) for p in prompts], GREEDY, max_new_tokens=24)
                for prompts in (PROMPTS[:2], PROMPTS[1:3], PROMPTS[:2])]
        graphs = engine._shapes[(2, 256)].graphs
        assert len(graphs) == 1                                          # captured by the first call only
        assert [g.tokens for g in runs[0]] == [g.tokens for g in runs[2]]
        eager = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(prefix_cache_mb=0, cuda_graphs=False))
        assert [g.tokens for g in runs[1]] == [g.tokens for g in eager.generate([encode(p) for p in PROMPTS[1:3]],
                                                                                GREEDY, max_new_tokens=24)]
    finally:
        model.to("cpu")


def test_rows_with_their_own_sampling_and_seed_sample_as_they_would_alone(lively_model, encode):
    model, _ = lively_model
    engine = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(prefix_cache_mb=0))
    hot, warm = SamplingParams(temperature=1.0, top_p=1.0, top_k=0), SamplingParams(temperature=0.7, top_p=0.9, top_k=0)
    rows = [(PROMPTS[0], GREEDY, 1), (PROMPTS[1], hot, 7), (PROMPTS[2], warm, 9), (PROMPTS[1], hot, 8)]
    together = engine.generate([encode(p) for p, _, _ in rows], [s for _, s, _ in rows], max_new_tokens=16,
                               seed=[seed for _, _, seed in rows])
    alone = [engine.generate([encode(p)], s, max_new_tokens=16, seed=seed)[0] for p, s, seed in rows]
    assert [g.tokens for g in together] == [g.tokens for g in alone]
    assert together[1].tokens != together[3].tokens        # same prompt and settings, another seed


def test_rows_given_the_same_seed_each_sample_as_they_would_alone(lively_model, encode):
    model, _ = lively_model
    engine = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(prefix_cache_mb=0))
    hot = SamplingParams(temperature=1.0, top_p=1.0, top_k=0)
    prompts = [encode(PROMPTS[1]), encode(PROMPTS[1])]
    alone = engine.generate(prompts[:1], hot, max_new_tokens=16, seed=2)[0].tokens
    per_row = engine.generate(prompts, [hot, hot], max_new_tokens=16, seed=[2, 2])
    assert [g.tokens for g in per_row] == [alone, alone]     # two requests with seed 2: seed 2's draws each
    one_stream = engine.generate(prompts, hot, max_new_tokens=16, seed=2)   # one seed for the batch
    assert one_stream[0].tokens != one_stream[1].tokens    # one stream draws on for the second row


def test_a_prompt_several_rows_share_is_prefilled_once(lively_model, encode, monkeypatch):
    """The MoE's candidates: one prompt, a greedy row and sampled ones. Each distinct prompt is computed
    once, and every row decodes what it would alone."""
    from Qwen3.engine.forward import Qwen3Forward

    model, _ = lively_model
    engine = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(prefix_cache_mb=0))
    prefilled, forward = [], Qwen3Forward.__call__

    def counting(self, tokens, *args, **kwargs):
        prefilled.append(tuple(tokens.shape))
        return forward(self, tokens, *args, **kwargs)

    monkeypatch.setattr(Qwen3Forward, "__call__", counting)
    hot = SamplingParams(temperature=1.0, top_p=0.9, top_k=20)
    rows = [(PROMPTS[0], GREEDY, None), (PROMPTS[1], GREEDY, None), (PROMPTS[0], hot, 3), (PROMPTS[0], hot, 4),
            (PROMPTS[1], hot, 5)]
    together = engine.generate([encode(p) for p, _, _ in rows], [s for _, s, _ in rows], max_new_tokens=16,
                               seed=[seed for _, _, seed in rows])
    longest = max(len(encode(p)) for p in PROMPTS[:2])
    assert prefilled[0] == (2, longest)                       # two distinct prompts, not five rows
    assert [g.reused_prompt_tokens for g in together] == [0, 0] + [len(encode(p)) for p, _, _ in rows[2:]]
    monkeypatch.undo()
    alone = [engine.generate([encode(p)], s, max_new_tokens=16, seed=seed)[0] for p, s, seed in rows]
    assert [g.tokens for g in together] == [g.tokens for g in alone]
    assert len({tuple(g.tokens) for g in together}) == 5     # five different continuations, all checked
