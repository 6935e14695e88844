"""Next-token choice on the device: greedy, temperature, top-k, top-p, min-p and presence penalty.

Everything is a tensor operation with fixed shapes and no host synchronisation, so it runs inside
the captured decode step. The filters follow transformers' order (temperature, top-k, top-p, min-p)
so a seeded engine samples from the same distribution as generate() with the same settings.
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..completion import SamplingParams


def apply_presence_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """Subtract `penalty` from every token already generated in the row (`seen`: (batch, vocab) bool)."""
    return logits - seen.to(logits.dtype) * penalty if penalty else logits


def filter_logits(logits: torch.Tensor, sampling: SamplingParams) -> torch.Tensor:
    """Temperature-scaled logits with the tokens outside top-k / top-p / min-p set to -inf."""
    logits = logits / sampling.temperature
    descending = None
    if 0 < sampling.top_k < logits.shape[-1]:
        descending = torch.topk(logits, sampling.top_k, dim=-1).values
        logits = logits.masked_fill(logits < descending[..., -1:], float("-inf"))
    if sampling.top_p < 1.0:
        # After top-k every other logit is -inf, so the cut is found among the k kept ones: k values sorted
        # instead of the vocabulary (a few ms a row on the CPU). Tokens tied at the cut are all kept.
        if descending is None:
            descending = torch.sort(logits, dim=-1, descending=True).values
        logits = logits.masked_fill(logits < _top_p_floor(descending, sampling.top_p), float("-inf"))
    if sampling.min_p > 0.0:
        probs = logits.softmax(dim=-1)
        floor = probs.amax(dim=-1, keepdim=True) * sampling.min_p
        logits = logits.masked_fill(probs < floor, float("-inf"))
    return logits


def _top_p_floor(descending: torch.Tensor, top_p: float) -> torch.Tensor:
    """(batch, 1): the smallest logit the top-p filter keeps, from each row's logits sorted high to low: the
    fewest most likely tokens whose probabilities reach top_p (transformers' TopPLogitsWarper)."""
    ascending = descending.flip(-1)
    drop = ascending.softmax(dim=-1).cumsum(dim=-1) <= 1 - top_p
    drop[..., -1:] = False  # the most likely token always stays
    return ascending.masked_fill(drop, float("inf")).amin(dim=-1, keepdim=True)


def choose(logits: torch.Tensor, sampling: SamplingParams, generator: torch.Generator | None = None) -> torch.Tensor:
    """(batch,) next tokens from (batch, vocab) float logits."""
    if sampling.greedy:
        return logits.argmax(dim=-1)
    probs = filter_logits(logits, sampling).softmax(dim=-1)
    # The exponential race: argmax(p / E) with E ~ Exp(1) is a draw from p, without torch.multinomial's
    # host synchronisation on CUDA.
    noise = torch.empty_like(probs).exponential_(1.0, generator=generator)
    return (probs / noise).argmax(dim=-1)


class RowSampler:
    """Next tokens for a batch whose rows may sample differently: each row its own settings and seed.

    Each row draws from its own generator, so a row samples what it would alone - also when rows were
    given the same seed (two requests with seed 2 each get seed 2's draws). With `one_stream`, rows that
    share their settings and seed are sampled as one batch instead, one generator drawing for all of them,
    as generate() does with one seed for a batch; greedy and unseeded rows are sampled that way either way."""

    def __init__(self, samplings: Sequence[SamplingParams], seeds: Sequence[int | None], device: torch.device,
                 one_stream: bool = False):
        if len(samplings) != len(seeds):
            raise ValueError("one sampling setting and one seed per row")
        self.samplings = tuple(samplings)
        draws_alike = one_stream or len(seeds) == 1 or seeds[0] is None or self.samplings[0].greedy
        self.uniform = len(set(self.samplings)) == 1 and len(set(seeds)) == 1 and draws_alike
        rows = zip(self.samplings[:1], seeds[:1]) if self.uniform else zip(self.samplings, seeds)
        generators = [None if seed is None or sampling.greedy else torch.Generator(device=device).manual_seed(seed)
                      for sampling, seed in rows]   # a greedy row draws nothing
        self.generators: list[torch.Generator | None] = generators

    @property
    def seeded(self) -> bool:
        return any(g is not None for g in self.generators)

    def __call__(self, logits: torch.Tensor, seen: torch.Tensor) -> torch.Tensor:
        """(batch,) tokens from (batch, vocab) logits and the rows' generated-token masks."""
        if self.uniform:
            sampling = self.samplings[0]
            return choose(apply_presence_penalty(logits, seen, sampling.presence_penalty), sampling, self.generators[0])
        return torch.cat([choose(apply_presence_penalty(logits[i:i + 1], seen[i:i + 1], s.presence_penalty), s, g)
                          for i, (s, g) in enumerate(zip(self.samplings, self.generators))])
