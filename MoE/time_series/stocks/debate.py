"""The consensus debate: a pure function of the main prediction and the indicator values.

Each indicator expert turns its indicator into a price proposal and compares it with the current
candidate price. It doubts aggressively: its doubt score is the relative gap plus a positive
`doubt_bias`, measured against a low `threshold`. Once it doubts, it holds that stance for
`hold_rounds` rounds while its indicator still points the other way. Each round the candidate moves
toward the doubting experts' proposals by `pull`. The debate ends when no expert doubts (the
candidate is within `tolerance` of every proposal), or after `max_rounds` with a forced consensus:
the average of every participant's proposal, the main model's included.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

INDICATORS = ("sma_gap", "momentum", "volatility", "rsi", "macd_hist")


@dataclass(frozen=True)
class DebateExpert:
    name: str
    indicator: Literal["sma_gap", "momentum", "volatility", "rsi", "macd_hist"]
    threshold: float = 0.002   # low: small disagreements already raise a doubt
    doubt_bias: float = 0.001  # positive: leans toward doubting
    hold_rounds: int = 3       # rounds a doubt is held while the indicator disagrees

    def __post_init__(self):
        if self.indicator not in INDICATORS:
            raise ValueError(f"debate expert {self.name!r}: indicator must be one of {', '.join(INDICATORS)}")
        if self.threshold < 0 or self.doubt_bias < 0 or self.hold_rounds < 1:
            raise ValueError(f"debate expert {self.name!r}: threshold, doubt_bias >= 0 and hold_rounds >= 1")


def default_debate_experts() -> list[DebateExpert]:
    return [DebateExpert("sma_expert", "sma_gap"), DebateExpert("momentum_expert", "momentum"),
            DebateExpert("volatility_expert", "volatility"), DebateExpert("rsi_expert", "rsi"),
            DebateExpert("macd_expert", "macd_hist")]


@dataclass(frozen=True)
class Stance:
    round: int
    expert: str
    indicator: str
    indicator_value: float
    stance: Literal["doubt", "agree"]
    proposal: float
    reason: str


@dataclass(frozen=True)
class DebateResult:
    final_price: float
    consensus: Literal["agreed", "forced"]
    rounds: int
    base_price: float
    last_price: float
    transcript: tuple[Stance, ...] = field(default=())

    def to_json(self) -> dict:
        return {**{k: v for k, v in asdict(self).items() if k != "transcript"},
                "transcript": [asdict(s) for s in self.transcript]}

    def explanation(self) -> str:
        move = self.final_price / self.last_price - 1
        doubters = sorted({s.expert for s in self.transcript if s.stance == "doubt"})
        how = (f"agreed after {self.rounds} round(s)" if self.consensus == "agreed"
               else f"forced consensus after {self.rounds} rounds of disagreement")
        who = f"; doubts came from {', '.join(doubters)}" if doubters else "; no expert doubted the call"
        return (f"Main model: {self.base_price:.2f}; consensus {self.final_price:.2f} ({move:+.2%} on "
                f"{self.last_price:.2f}), {how}{who}.")


def expert_view(expert: DebateExpert, value: float, last_price: float, base_return: float) -> tuple[float, str]:
    """The expert's expected next-day return from its indicator, and why."""
    if expert.indicator == "sma_gap":
        expected = -0.25 * value  # prices far from their 20-day average tend to drift back
        why = f"price is {value:+.2%} from its 20-day average"
    elif expert.indicator == "momentum":
        expected = 0.05 * value   # a little of the 10-day move carries on
        why = f"10-day momentum {value:+.2%}"
    elif expert.indicator == "volatility":
        cap = 1.5 * value         # a one-day move beyond 1.5 daily sigmas is implausible
        expected = max(-cap, min(cap, base_return))
        why = f"daily volatility {value:.2%} caps a move at {cap:.2%}"
    elif expert.indicator == "rsi":
        expected = 0.0005 * (50 - value) / 10  # overbought above 70, oversold below 30
        why = f"RSI {value:.0f} ({'overbought' if value > 70 else 'oversold' if value < 30 else 'neutral'})"
    else:
        expected = 2.0 * value
        why = f"MACD histogram {value:+.4f} of price"
    return expected, why


def run_debate(base_price: float, last_price: float, indicators: dict[str, float],
               experts: list[DebateExpert] | None = None, tolerance: float = 0.002, max_rounds: int = 6,
               pull: float = 0.5) -> DebateResult:
    if base_price <= 0 or last_price <= 0:
        raise ValueError("prices must be positive")
    if tolerance < 0 or max_rounds < 1 or not 0 < pull <= 1:
        raise ValueError("tolerance >= 0, max_rounds >= 1 and 0 < pull <= 1 are required")
    experts = experts or default_debate_experts()
    missing = [e.indicator for e in experts if e.indicator not in indicators]
    if missing:
        raise ValueError(f"indicator values missing for: {', '.join(missing)}")
    base_return = base_price / last_price - 1
    views = {e.name: expert_view(e, float(indicators[e.indicator]), last_price, base_return) for e in experts}
    proposals = {name: last_price * (1 + r) for name, (r, _) in views.items()}
    candidate, transcript, held = base_price, [], {e.name: 0 for e in experts}
    for round_ in range(1, max_rounds + 1):
        doubting = []
        for e in experts:
            proposal, (expected, why) = proposals[e.name], views[e.name]
            gap = abs(candidate - proposal) / last_price
            if gap > tolerance and gap + e.doubt_bias > e.threshold:
                doubt, held[e.name] = True, e.hold_rounds          # a fresh doubt
            elif held[e.name] > 0 and _opposed(expected, candidate / last_price - 1):
                doubt, held[e.name] = True, held[e.name] - 1       # holding its stance
                why += f" (holding its doubt, {held[e.name]} more round(s))"
            else:
                doubt, held[e.name] = False, 0
            if doubt:
                doubting.append(e.name)
            reason = f"{why}; proposes {proposal:.2f} vs candidate {candidate:.2f} (gap {gap:.2%})"
            transcript.append(Stance(round_, e.name, e.indicator, float(indicators[e.indicator]),
                                     "doubt" if doubt else "agree", round(proposal, 4), reason))
        if not doubting:
            return DebateResult(candidate, "agreed", round_, base_price, last_price, tuple(transcript))
        target = sum(proposals[n] for n in doubting) / len(doubting)
        candidate = candidate + pull * (target - candidate)
    forced = (base_price + sum(proposals.values())) / (1 + len(proposals))
    return DebateResult(forced, "forced", max_rounds, base_price, last_price, tuple(transcript))


def _opposed(expected: float, implied: float) -> bool:
    """The indicator points one way and the candidate price the other."""
    return expected * implied < 0
