"""Walk-forward backtest against the random walk, with a Diebold-Mariano test.

The predictor is trained on the first (1 - test_fraction) of the rows only; then, for every test day
t, the next close is predicted from rows up to t (no look-ahead) by the main predictor, by the
consensus, and by the random walk (tomorrow = today).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .data import PriceData
from .indicators import indicator_table
from .system import StockConsensusSystem


@dataclass(frozen=True)
class ModelScore:
    mae: float
    mape: float
    direction: float | None       # share of days with the right sign of the move (None for the random walk)
    dm_stat: float | None = None  # Diebold-Mariano vs the random walk on absolute errors; < 0: better
    dm_p: float | None = None


@dataclass(frozen=True)
class BacktestResult:
    ticker: str
    days: int
    majority_rate: float           # share of the more frequent direction in the test days
    predictor: ModelScore
    consensus: ModelScore
    random_walk: ModelScore
    forced_share: float            # share of debates that ended in a forced consensus


def diebold_mariano(model_errors: np.ndarray, benchmark_errors: np.ndarray, horizon: int = 1) -> tuple[float, float]:
    """DM statistic on the absolute-error loss differential, with a Newey-West variance; two-sided p-value."""
    d = np.abs(model_errors) - np.abs(benchmark_errors)
    n = len(d)
    centred = d - d.mean()
    variance = np.dot(centred, centred) / n
    for lag in range(1, horizon):
        variance += 2 * (1 - lag / horizon) * np.dot(centred[lag:], centred[:-lag]) / n
    if variance <= 0:
        return 0.0, 1.0
    stat = d.mean() / math.sqrt(variance / n)
    return float(stat), float(math.erfc(abs(stat) / math.sqrt(2)))


def walk_forward(system: StockConsensusSystem, prices: PriceData, test_fraction: float = 0.2,
                 epochs: int = 8) -> BacktestResult:
    close = prices.close.to_numpy()
    split = int(len(close) * (1 - test_fraction))
    system.predictor.fit(prices, end=split, epochs=epochs)
    positions = np.arange(split - 1, len(close) - 1)          # forecast close[t + 1] on day t
    base = system.predictor.predict_prices(prices, positions)[:, 0]
    table = indicator_table(prices.close)
    debates = [system.debate_with(float(b), prices, int(t), table) for b, t in zip(base, positions)]
    consensus = np.array([d.final_price for d in debates])
    today, actual = close[positions], close[positions + 1]
    up = actual > today
    rw_errors = actual - today

    def score(predicted: np.ndarray | None) -> ModelScore:
        if predicted is None:
            return ModelScore(float(np.mean(np.abs(rw_errors))), float(np.mean(np.abs(rw_errors / actual))), None)
        errors = actual - predicted
        stat, p = diebold_mariano(errors, rw_errors)
        return ModelScore(float(np.mean(np.abs(errors))), float(np.mean(np.abs(errors / actual))),
                          float(np.mean((predicted > today) == up)), stat, p)

    return BacktestResult(prices.ticker, len(positions), float(max(up.mean(), 1 - up.mean())), score(base),
                          score(consensus), score(None), float(np.mean([d.consensus == "forced" for d in debates])))
