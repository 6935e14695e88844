"""How sure is a gain? Two modes answered the same questions, so compare them question by question.

Only the questions where exactly one mode is right carry information: `wins` (the mode right, the
baseline wrong) and `losses`. The gain in EX points is (wins - losses) / n; its 95% interval is the
normal approximation for a difference of paired proportions, and the p-value is the exact two-sided
sign test on the discordant questions (McNemar's exact test).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class PairedGain:
    n: int            # questions both modes answered
    gain: float       # EX points, mode minus baseline
    low: float        # 95% interval, EX points
    high: float
    wins: int         # mode right, baseline wrong
    losses: int       # baseline right, mode wrong
    p_value: float    # exact two-sided sign test on wins against losses

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def paired_gain(baseline: dict[int, bool], mode: dict[int, bool]) -> PairedGain | None:
    """The gain of `mode` over `baseline` (question -> right?) on the questions both answered."""
    shared = sorted(set(baseline) & set(mode))
    n = len(shared)
    if n == 0:
        return None
    wins = sum(1 for q in shared if mode[q] and not baseline[q])
    losses = sum(1 for q in shared if baseline[q] and not mode[q])
    d = (wins - losses) / n
    spread = 1.96 * math.sqrt(max((wins + losses) / n - d * d, 0.0) / n)
    return PairedGain(n, 100 * d, 100 * (d - spread), 100 * (d + spread), wins, losses, sign_test(wins, losses))


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact binomial p-value of wins against losses under a fair coin."""
    k, m = min(wins, losses), wins + losses
    if m == 0:
        return 1.0
    tail = sum(math.comb(m, i) for i in range(k + 1)) / 2 ** m
    return min(1.0, 2 * tail)
