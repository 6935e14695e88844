"""The debate as a picture: recent prices, the main prediction, the consensus, and stances per round."""

from __future__ import annotations

from pathlib import Path

from ..plots import _figure
from .data import PriceData
from .debate import DebateResult


def plot_debate(prices: PriceData, result: DebateResult, path: str | Path, days: int = 60) -> Path:
    fig = _figure(9, 6)
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [2, 1]})
    recent = prices.close.iloc[-days:]
    top.plot(range(len(recent)), recent.to_numpy(), color="0.3", label=f"{prices.ticker} close")
    x = len(recent)
    top.scatter([x], [result.base_price], color="tab:orange", label="main model", zorder=3)
    top.scatter([x], [result.final_price], color="tab:green", marker="*", s=120, label=f"consensus ({result.consensus})",
                zorder=3)
    top.legend(loc="upper left")
    top.set_title("next-day proposal and consensus")
    experts = sorted({s.expert for s in result.transcript})
    for row, name in enumerate(experts):
        for s in (s for s in result.transcript if s.expert == name):
            bottom.scatter(s.round, row, color="tab:red" if s.stance == "doubt" else "tab:green", s=80)
    bottom.set_yticks(range(len(experts)), experts)
    bottom.set_xlabel("round (red: doubt, green: agree)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)
