"""StockConsensusSystem: the main predictor's call, challenged by indicator experts in a debate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import PriceData
from .debate import DebateExpert, DebateResult, default_debate_experts, run_debate
from .indicators import indicator_table
from .predictor import StockPredictor


@dataclass
class StockConsensusSystem:
    predictor: StockPredictor
    experts: list[DebateExpert] | None = None
    tolerance: float = 0.002
    max_rounds: int = 6

    def __post_init__(self):
        self.experts = self.experts or default_debate_experts()

    def debate(self, prices: PriceData, at: int | None = None) -> DebateResult:
        """The debate over the next day's close, on the information of day `at` (default: the last day)."""
        at = len(prices) - 1 if at is None else at
        base = float(self.predictor.predict_prices(prices, [at])[0, 0])
        return self.debate_with(base, prices, at)

    def debate_with(self, base_price: float, prices: PriceData, at: int, table=None) -> DebateResult:
        table = indicator_table(prices.close) if table is None else table
        values = {k: float(v) for k, v in table.iloc[at].items() if np.isfinite(v)}
        return run_debate(base_price, float(prices.close.iloc[at]), values, self.experts, self.tolerance,
                          self.max_rounds)
