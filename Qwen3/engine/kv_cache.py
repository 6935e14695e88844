"""The KV caches of the decode engine: one preallocated cache per batch, and reusable prompt prefixes.

StaticKVCache holds every layer's keys and values in two tensors allocated once, so a decode step
writes in place at a position held in a device tensor and a CUDA graph can replay it unchanged.
Rows are left-padded: every row writes at the same slot, and `starts[row]` marks where its tokens
begin (slots before it are padding and never attended to).

PrefixCache keeps the keys and values of prompts already prefilled, keyed by their token ids, so a
prompt that starts with the same tokens (the schema and system prompt that the SQL experts share)
copies them instead of computing them again. Memory is bounded; the least recently used go first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch


@dataclass
class StaticKVCache:
    keys: torch.Tensor      # (layers, batch, kv_heads, max_len, head_dim)
    values: torch.Tensor
    starts: torch.Tensor    # (batch,) long: the first slot of each row's tokens

    @classmethod
    def allocate(cls, layers: int, batch: int, kv_heads: int, max_len: int, head_dim: int,
                 dtype: torch.dtype, device: torch.device) -> "StaticKVCache":
        shape = (layers, batch, kv_heads, max_len, head_dim)
        return cls(torch.zeros(shape, dtype=dtype, device=device), torch.zeros(shape, dtype=dtype, device=device),
                   torch.zeros(batch, dtype=torch.long, device=device))

    @property
    def max_len(self) -> int:
        return self.keys.shape[3]

    @property
    def batch(self) -> int:
        return self.keys.shape[1]

    def write(self, layer: int, slots: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> None:
        """Store k, v of shape (batch, kv_heads, len(slots), head_dim) at the given slots."""
        self.keys[layer].index_copy_(2, slots, k)
        self.values[layer].index_copy_(2, slots, v)

    def attention_mask(self, slots: torch.Tensor, visible: int | None = None) -> torch.Tensor:
        """(batch, 1, len(slots), visible or max_len) bool: a query at slot s sees the row's slots start..s
        (`visible`: the slots after the latest query are left out; they are masked anyway).

        A padding query sees itself alone, so no row of the mask is empty (an empty one gives NaN,
        which would reach the cache and, times a zero weight, every later query)."""
        cache_slots = torch.arange(visible or self.max_len, device=slots.device)
        causal = cache_slots[None, :] <= slots[:, None]                      # (q, max_len)
        own = cache_slots[None, :] >= self.starts[:, None]                    # (batch, max_len)
        itself = cache_slots[None, :] == slots[:, None]
        return ((causal[None, :, :] & own[:, None, :]) | itself[None])[:, None]

    def positions(self, slots: torch.Tensor) -> torch.Tensor:
        """(batch, len(slots)) rotary positions: a row's first token is position 0."""
        return (slots[None, :] - self.starts[:, None]).clamp(min=0)


@dataclass(frozen=True)
class Prefix:
    tokens: tuple[int, ...]
    keys: torch.Tensor      # (layers, kv_heads, len, head_dim)
    values: torch.Tensor

    @property
    def nbytes(self) -> int:
        return 2 * self.keys.numel() * self.keys.element_size()


class PrefixCache:
    """Prefilled prompts by token content, within a memory budget (least recently used evicted)."""

    def __init__(self, budget_bytes: int, min_tokens: int = 16):
        self.budget_bytes, self.min_tokens = budget_bytes, min_tokens
        self._entries: OrderedDict[tuple[int, ...], Prefix] = OrderedDict()
        self.hits = self.misses = 0

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def longest(self, tokens: tuple[int, ...]) -> tuple[Prefix | None, int]:
        """The stored prompt sharing the longest common prefix with `tokens`, and that length."""
        best, best_len = None, 0
        for key, prefix in self._entries.items():
            n = _common_prefix(key, tokens)
            if n > best_len:
                best, best_len = prefix, n
        if best is None or best_len < self.min_tokens:
            self.misses += 1
            return None, 0
        self._entries.move_to_end(best.tokens)
        self.hits += 1
        return best, best_len

    def add(self, tokens: tuple[int, ...], keys: torch.Tensor, values: torch.Tensor) -> None:
        if len(tokens) < self.min_tokens:
            return
        prefix = Prefix(tokens, keys.clone(), values.clone())
        if prefix.nbytes > self.budget_bytes:
            return
        self._entries.pop(tokens, None)
        self._entries[tokens] = prefix
        while self.nbytes > self.budget_bytes:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


def _common_prefix(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n
