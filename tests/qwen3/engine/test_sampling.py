"""On-device sampling: the same filters as transformers' warpers, and draws that follow them."""

import pytest
import torch
from transformers import MinPLogitsWarper, TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from Qwen3.completion import SamplingParams
from Qwen3.engine.sampling import apply_presence_penalty, choose, filter_logits


@pytest.mark.parametrize("sampling", [
    SamplingParams(temperature=0.7, top_p=0.8, top_k=20),
    SamplingParams(temperature=1.3, top_p=1.0, top_k=0),
    SamplingParams(temperature=0.6, top_p=0.95, top_k=0, min_p=0.05),
    SamplingParams(temperature=1.0, top_p=0.5, top_k=5),
])
@pytest.mark.parametrize("vocab", [300, 151_936])   # a toy row, and Qwen3's vocabulary
def test_filters_keep_the_same_tokens_as_transformers(sampling, vocab):
    logits = torch.randn(4, vocab, generator=torch.Generator().manual_seed(1)) * 3
    warpers = [TemperatureLogitsWarper(sampling.temperature)]
    if sampling.top_k:
        warpers.append(TopKLogitsWarper(sampling.top_k))
    if sampling.top_p < 1.0:
        warpers.append(TopPLogitsWarper(sampling.top_p))
    if sampling.min_p:
        warpers.append(MinPLogitsWarper(sampling.min_p))
    expected = logits.clone()
    for warper in warpers:
        expected = warper(None, expected)
    ours = filter_logits(logits, sampling)
    assert torch.equal(torch.isinf(ours), torch.isinf(expected))
    assert torch.allclose(ours[~torch.isinf(ours)], expected[~torch.isinf(expected)])


def test_draws_follow_the_filtered_distribution():
    logits = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0, -3.0]]).repeat(20000, 1)
    sampling = SamplingParams(temperature=0.8, top_p=0.9, top_k=4)
    draws = choose(logits, sampling, torch.Generator().manual_seed(0))
    expected = filter_logits(logits[:1], sampling).softmax(-1)[0]
    observed = torch.bincount(draws, minlength=6).float() / len(draws)
    assert observed[4:].sum() == 0  # outside top-k never drawn
    # chi-square over the kept tokens, 3 degrees of freedom: 16.3 is the 0.1% critical value
    kept = expected > 0
    chi2 = (((observed - expected)[kept] ** 2) / expected[kept]).sum() * len(draws)
    assert chi2 < 16.3, (observed, expected)


def test_greedy_is_argmax_and_the_penalty_subtracts_once():
    logits = torch.tensor([[1.0, 3.0, 2.0]])
    assert choose(logits, SamplingParams(temperature=0)).tolist() == [1]
    seen = torch.tensor([[False, True, False]])
    assert apply_presence_penalty(logits, seen, 1.5).tolist() == [[1.0, 1.5, 2.0]]
    assert choose(apply_presence_penalty(logits, seen, 1.5), SamplingParams(temperature=0)).tolist() == [2]
