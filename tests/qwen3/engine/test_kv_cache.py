"""The static cache's masks and positions, and the prefix cache's lookup and memory budget."""

import torch

from Qwen3.engine.kv_cache import PrefixCache, StaticKVCache


def test_left_padded_rows_see_only_their_own_earlier_slots():
    cache = StaticKVCache.allocate(layers=1, batch=2, kv_heads=1, max_len=6, head_dim=2, dtype=torch.float32,
                                   device=torch.device("cpu"))
    cache.starts.copy_(torch.tensor([0, 2]))  # row 1 has two padding slots
    mask = cache.attention_mask(torch.tensor([3]))[:, 0, 0]
    assert mask.tolist() == [[True, True, True, True, False, False], [False, False, True, True, False, False]]
    assert cache.positions(torch.tensor([2, 3])).tolist() == [[2, 3], [0, 1]]
    pad_query = cache.attention_mask(torch.tensor([1]))[1, 0, 0]
    assert pad_query.tolist() == [False, True, False, False, False, False]  # itself only: never an empty row


def entry(n):
    return torch.zeros(2, 1, n, 4), torch.zeros(2, 1, n, 4)


def test_longest_common_prefix_wins_and_short_ones_do_not_count():
    prefixes = PrefixCache(budget_bytes=1 << 20, min_tokens=3)
    prefixes.add((1, 2, 3, 4, 5), *entry(5))
    prefixes.add((1, 2, 3, 9), *entry(4))
    prefix, n = prefixes.longest((1, 2, 3, 4, 7))
    assert prefix.tokens == (1, 2, 3, 4, 5) and n == 4
    assert prefixes.longest((1, 2, 8)) == (None, 0)  # 2 shared tokens < min_tokens
    prefixes.add((1, 2), *entry(2))                   # too short to keep
    assert len(prefixes) == 2


def test_the_budget_evicts_the_least_recently_used():
    one = 2 * 2 * 1 * 10 * 4 * 4  # keys and values of a 10-token entry, float32
    prefixes = PrefixCache(budget_bytes=2 * one, min_tokens=1)
    prefixes.add(tuple(range(10)), *entry(10))
    prefixes.add(tuple(range(100, 110)), *entry(10))
    prefixes.longest(tuple(range(10)))                 # touch the first: the second is now the oldest
    prefixes.add(tuple(range(200, 210)), *entry(10))
    assert prefixes.nbytes <= 2 * one
    assert prefixes.longest(tuple(range(100, 110)))[0] is None
    assert prefixes.longest(tuple(range(10)))[0] is not None
