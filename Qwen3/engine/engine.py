"""The decode engine: prefill once, then one token per step from a static cache, on the device.

    engine = DecodeEngine(model, end_token_ids=[eos])
    [result] = engine.generate([prompt_ids], SamplingParams(temperature=0), max_new_tokens=256)

A batch is left-padded into one StaticKVCache. Prompt tokens already seen (a shared schema and
system prompt) are copied from the PrefixCache rather than computed, and a prompt several rows share
(candidates sampled from one prompt) is computed once. Each decode step - forward,
presence penalty, sampling - stays on the device; on CUDA it is captured as a CUDA graph and replayed.
Caches, step buffers and graphs are kept per shape (batch, cache length; a few shapes, least recently
used dropped), so later calls of the same shape reuse them instead of allocating and capturing again.
A graph is reused only where it draws from no seeded generator (greedy, or unseeded sampling); a
seeded call captures its own. The host looks at the new tokens every `sync_every` steps (every step on
the CPU) to stream them and check for the end-of-turn token; rows that end early keep decoding junk until
the whole batch is done, which is cheaper than reshaping the batch. A logits hook (JSON grammar masks)
needs the host at every step and turns the graph off.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Literal, Sequence

import torch

from ..completion import SamplingParams
from .forward import Qwen3Forward
from .kv_cache import PrefixCache, StaticKVCache
from .sampling import RowSampler

# (last tokens (batch, 1), logits (batch, vocab)) -> logits; e.g. Qwen3.structured.JsonLogitsProcessor
LogitsHook = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
TokenCallback = Callable[[int, list[int]], None]


@dataclass(frozen=True)
class EngineSettings:
    prefix_cache_mb: int = 1024   # prompt prefixes kept for reuse; 0 turns reuse off
    # decode steps between looks from the host (stop checks, streaming); None: every step on the CPU, where a
    # look costs next to nothing and each step past a row's end costs a whole forward pass, and 8 on CUDA
    sync_every: int | None = None
    prefill_chunk: int = 1024     # prompt tokens per prefill pass (bounds the attention scores' memory)
    length_bucket: int = 256      # cache lengths are rounded up to a multiple, so graphs get reused
    cuda_graphs: bool = True
    kept_shapes: int = 4          # (batch, cache length) shapes whose cache and graphs are kept for reuse
    weight_major_steps: bool = True  # on the CPU, decode steps of 2-8 rows multiply W @ x.T (forward.py)


@dataclass(frozen=True)
class Generation:
    tokens: list[int]             # without the end token
    finish_reason: Literal["stop", "length"]
    first_token_s: float
    reused_prompt_tokens: int     # not computed for this row: from the prefix cache or an identical prompt in the batch


class DecodeEngine:
    def __init__(self, model, end_token_ids: Sequence[int], settings: EngineSettings = EngineSettings()):
        self.forward = Qwen3Forward(model, weight_major_steps=settings.weight_major_steps)
        self.end_token_ids = list(end_token_ids)
        self.settings = settings
        self.prefixes = PrefixCache(settings.prefix_cache_mb * 2**20) if settings.prefix_cache_mb else None
        self.device = self.forward.device
        self.sync_every = settings.sync_every or (1 if self.device.type == "cpu" else 8)
        self._shapes: OrderedDict[tuple[int, int], _Shape] = OrderedDict()

    @torch.inference_mode()
    def generate(self, prompts: Sequence[Sequence[int]], sampling: SamplingParams | Sequence[SamplingParams],
                 max_new_tokens: int, seed: int | None | Sequence[int | None] = None,
                 logits_hook: LogitsHook | None = None, on_tokens: TokenCallback | None = None,
                 stopped: Callable[[list[int]], bool] | None = None) -> list[Generation]:
        """Continue every prompt (token ids) by up to max_new_tokens. `sampling` and `seed` are for every
        row (one seed: one random stream for the batch), or one per row (a row then samples what it would
        alone, equal seeds included). `on_tokens(row, ids)` streams each
        row's new tokens; `stopped(ids)` may end a row early (stop strings), checked as tokens arrive."""
        if not prompts or any(len(p) == 0 for p in prompts):
            raise ValueError("every prompt needs at least one token")
        started = time.perf_counter()
        prompts = [tuple(p) for p in prompts]
        batch, longest = len(prompts), max(len(p) for p in prompts)
        bucket = self.settings.length_bucket
        shape = self._shape(batch, -(-(longest + max_new_tokens) // bucket) * bucket)
        cache = shape.cache
        cache.starts.copy_(torch.tensor([longest - len(p) for p in prompts]))
        tokens = torch.zeros(batch, longest, dtype=torch.long)
        for row, prompt in enumerate(prompts):
            tokens[row, longest - len(prompt):] = torch.tensor(prompt)
        tokens = tokens.to(self.device)
        first: dict[tuple[int, ...], int] = {}
        source = [first.setdefault(prompt, row) for row, prompt in enumerate(prompts)]  # first row of each prompt
        distinct = list(first.values())
        reused = self._reuse_prefixes(prompts, distinct, cache, longest)
        logits, reused = self._prefill_each_prompt_once(prompts, source, distinct, tokens, cache, reused, longest)
        self._remember(prompts, distinct, cache, longest)

        sampler = RowSampler(sampling if isinstance(sampling, Sequence) else [sampling] * batch,
                             seed if isinstance(seed, Sequence) else [seed] * batch, self.device,
                             one_stream=not isinstance(seed, Sequence))
        state = shape.state(max_new_tokens, self.forward.vocab_size)
        if logits_hook is not None:
            logits = logits_hook(tokens[:, -1:], logits)
        state.accept(sampler(logits, state.seen), 0)
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)  # once per call: the first token's time is real
        first_token_s = time.perf_counter() - started

        step = self._step_fn(shape, sampler, state, hooked=logits_hook is not None)
        watcher = _StopWatcher(batch, self.end_token_ids, on_tokens, stopped)
        for i in range(1, max_new_tokens):
            if logits_hook is not None:
                logits = self.forward(state.last[:, None], torch.tensor([longest + i - 1], device=self.device), cache,
                                      visible=longest + i)
                logits = logits_hook(state.last[:, None], logits[:, -1])
                state.accept(sampler(logits, state.seen), i)
            else:
                step(longest + i - 1, i)
            if (i + 1) % self.sync_every == 0 or logits_hook is not None:
                if watcher.update(state.generated[:, :i + 1]):
                    break
        else:
            watcher.update(state.generated)
        return [Generation(tokens, reason, first_token_s, r) for (tokens, reason), r in zip(watcher.results(), reused)]

    def _shape(self, batch: int, max_len: int) -> "_Shape":
        """The cache (and step buffers, graphs) of this shape, kept from an earlier call or new."""
        key = (batch, max_len)
        if key in self._shapes:
            self._shapes.move_to_end(key)
        else:
            self._shapes[key] = _Shape(self.forward.allocate(batch, max_len))
            while len(self._shapes) > max(1, self.settings.kept_shapes):
                self._shapes.popitem(last=False)
        return self._shapes[key]

    def _reuse_prefixes(self, prompts, rows: list[int], cache: StaticKVCache, longest: int) -> list[int]:
        """Copy the longest stored prefix of each given row's prompt into its cache row; the tokens copied, per row."""
        reused = []
        for row in rows:
            prompt = prompts[row]
            prefix, n = self.prefixes.longest(prompt) if self.prefixes is not None else (None, 0)
            n = min(n, len(prompt) - 1)  # the last prompt token is always computed: its logits are needed
            if prefix is not None and n > 0:
                start = longest - len(prompt)
                cache.keys[:, row, :, start:start + n] = prefix.keys[:, :, :n]
                cache.values[:, row, :, start:start + n] = prefix.values[:, :, :n]
            reused.append(max(n, 0))
        return reused

    def _prefill_each_prompt_once(self, prompts, source: list[int], distinct: list[int], tokens: torch.Tensor,
                                  cache: StaticKVCache, reused: list[int], longest: int
                                  ) -> tuple[torch.Tensor, list[int]]:
        """Prefill the `distinct` rows (one per prompt; `reused`: their tokens copied from the prefix cache);
        every other row copies the keys, values and logits of its prompt's row, `source[row]` (the MoE's
        candidates sample one prompt several times). Returns the last logits and the prompt tokens not
        computed, per row."""
        begin = longest - max(len(prompts[row]) - n for row, n in zip(distinct, reused))
        own = dict(zip(distinct, reused))
        per_row = [own.get(row, len(prompt)) for row, prompt in enumerate(prompts)]
        if len(distinct) == len(prompts):
            return self._prefill(tokens, cache, begin, longest), per_row
        rows = torch.tensor(distinct, device=self.device)
        part = StaticKVCache(cache.keys[:, rows, :, :longest], cache.values[:, rows, :, :longest],
                             cache.starts[rows])  # copies of the prompts' slots
        logits = self._prefill(tokens[rows], part, begin, longest)
        take = torch.tensor([distinct.index(s) for s in source], device=self.device)
        cache.keys[:, :, :, :longest] = part.keys[:, take]
        cache.values[:, :, :, :longest] = part.values[:, take]
        return logits[take], per_row

    def _prefill(self, tokens: torch.Tensor, cache: StaticKVCache, begin: int, end: int) -> torch.Tensor:
        """Compute slots begin..end-1 for every row (a row's reused prefix may be recomputed, harmlessly)."""
        logits = None
        for lo in range(begin, end, self.settings.prefill_chunk):
            hi = min(lo + self.settings.prefill_chunk, end)
            logits = self.forward(tokens[:, lo:hi], torch.arange(lo, hi, device=self.device), cache, visible=hi)
        return logits[:, -1]

    def _remember(self, prompts, rows: list[int], cache: StaticKVCache, longest: int) -> None:
        if self.prefixes is None:
            return
        for row in rows:
            start = longest - len(prompts[row])
            self.prefixes.add(prompts[row], cache.keys[:, row, :, start:longest], cache.values[:, row, :, start:longest])

    def _step_fn(self, shape: "_Shape", sampler: RowSampler, state: "_StepState",
                 hooked: bool) -> Callable[[int, int], None]:
        cache = shape.cache

        def eager(slot: int, index: int) -> None:
            logits = self.forward(state.last[:, None], torch.tensor([slot], device=self.device), cache,
                                  visible=slot + 1)[:, -1]
            state.accept(sampler(logits, state.seen), index)

        if hooked or self.device.type != "cuda" or not self.settings.cuda_graphs:
            return eager
        if sampler.seeded:   # a graph holds its generators' state: a seeded call captures its own
            return _CapturedStep(self.forward, cache, sampler, state).replay
        key = (state.generated.shape[1], sampler.samplings)
        if key not in shape.graphs:
            shape.graphs[key] = _CapturedStep(self.forward, cache, sampler, state)
        return shape.graphs[key].replay


class _Shape:
    """What calls of one (batch, cache length) shape share: the cache, step buffers per max_new_tokens,
    and the captured decode steps per (max_new_tokens, sampling)."""

    def __init__(self, cache: StaticKVCache):
        self.cache = cache
        self.states: dict[int, _StepState] = {}
        self.graphs: dict[tuple, _CapturedStep] = {}

    def state(self, max_new_tokens: int, vocab: int) -> "_StepState":
        """Zeroed step buffers (the same tensors each call, as a captured graph needs)."""
        if max_new_tokens not in self.states:
            self.states[max_new_tokens] = _StepState.start(self.cache.batch, vocab, max_new_tokens, self.cache.keys.device)
        state = self.states[max_new_tokens]
        for buffer in (state.generated, state.last, state.seen):
            buffer.zero_()
        return state


@dataclass
class _StepState:
    """What a step reads and writes, in fixed device buffers (so a captured graph can use them)."""

    generated: torch.Tensor   # (batch, max_new_tokens) long
    last: torch.Tensor        # (batch,) the most recent token of each row
    seen: torch.Tensor        # (batch, vocab) bool, for the presence penalty

    @classmethod
    def start(cls, batch: int, vocab: int, max_new_tokens: int, device) -> "_StepState":
        return cls(torch.zeros(batch, max_new_tokens, dtype=torch.long, device=device),
                   torch.zeros(batch, dtype=torch.long, device=device),
                   torch.zeros(batch, vocab, dtype=torch.bool, device=device))

    def accept(self, tokens: torch.Tensor, index: int | torch.Tensor) -> None:
        self.last.copy_(tokens)
        self.seen.scatter_(1, tokens[:, None], True)
        if isinstance(index, int):
            self.generated[:, index] = tokens
        else:
            self.generated.index_copy_(1, index, tokens[:, None])


class _CapturedStep:
    """One decode step captured as a CUDA graph; replay() sets the slot and output index, then replays."""

    def __init__(self, forward: Qwen3Forward, cache: StaticKVCache, sampler: RowSampler, state: _StepState):
        device = forward.device
        self.slot = torch.zeros(1, dtype=torch.long, device=device)
        self.index = torch.zeros(1, dtype=torch.long, device=device)

        def body() -> None:
            logits = forward(state.last[:, None], self.slot, cache)[:, -1]
            state.accept(sampler(logits, state.seen), self.index)

        # Warm-up and capture run the body on the real buffers, at the cache's last slot: the junk written
        # there is overwritten before any query can see it (the mask is causal); the step state is restored.
        saved = (state.generated.clone(), state.last.clone(), state.seen.clone())
        self.slot.fill_(cache.max_len - 1)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):  # CUDA graphs need a warm-up on a side stream
            body()
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        for generator in sampler.generators:
            if generator is not None:
                self.graph.register_generator_state(generator)
        with torch.cuda.graph(self.graph):
            body()
        for buffer, copy in zip((state.generated, state.last, state.seen), saved):
            buffer.copy_(copy)

    def replay(self, slot: int, index: int) -> None:
        self.slot.fill_(slot)
        self.index.fill_(index)
        self.graph.replay()


class _StopWatcher:
    """Looks at the generated tokens from the host: finds each row's end, streams what is new."""

    def __init__(self, batch: int, end_token_ids: Sequence[int], on_tokens: TokenCallback | None,
                 stopped: Callable[[list[int]], bool] | None = None):
        self.end_ids, self.on_tokens, self.stopped = set(end_token_ids), on_tokens, stopped
        self.tokens: list[list[int]] = [[] for _ in range(batch)]
        self.ended = [False] * batch
        self.read = 0   # columns of `generated` already taken (a row still going has taken every one)

    def update(self, generated: torch.Tensor) -> bool:
        """Take the rows' tokens so far (only the columns not read before cross to the host); True when
        every row has ended."""
        rows, self.read = generated[:, self.read:].tolist(), generated.shape[1]
        for row, new in enumerate(rows):
            if self.ended[row]:
                continue
            end = next((k for k, t in enumerate(new) if t in self.end_ids), None)
            if end is not None:
                new, self.ended[row] = new[:end], True
            self.tokens[row] += new
            if new and self.on_tokens is not None:
                self.on_tokens(row, new)
            if new and self.stopped is not None and self.stopped(self.tokens[row]):
                self.ended[row] = True
        return all(self.ended)

    def results(self) -> list[tuple[list[int], Literal["stop", "length"]]]:
        return [(t, "stop" if e else "length") for t, e in zip(self.tokens, self.ended)]
