"""Walk-forward backtest against the random walk, with a Diebold-Mariano test.

The predictor is trained on the first (1 - test_fraction) of the rows; then, for every test day t, the
next close is predicted from rows up to t (no look-ahead) by the main predictor, by the consensus, and
by the random walk (tomorrow = today). With `refit_every` K, the predictor is trained again every K test
days on every row before the day it refits (an expanding window), so it never sees the days it predicts.
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
    refits: int = 1                # times the predictor was trained (1: once, before the test days)
    predicted: tuple[float, ...] = ()   # the main predictor's next close for each test day, in order


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


def refit_schedule(split: int, last: int, refit_every: int | None) -> list[tuple[int, int]]:
    """(train_end, first_day_after) blocks: the predictor trained on rows [0, train_end) predicts the days
    t in [train_end - 1, next block's start - 1), each from rows up to t."""
    starts = list(range(split, last + 1, refit_every)) if refit_every else [split]
    return [(start, (starts[i + 1] if i + 1 < len(starts) else last + 1)) for i, start in enumerate(starts)]


def walk_forward(system: StockConsensusSystem, prices: PriceData, test_fraction: float = 0.2,
                 epochs: int = 8, refit_every: int | None = None) -> BacktestResult:
    close = prices.close.to_numpy()
    split = int(len(close) * (1 - test_fraction))
    positions = np.arange(split - 1, len(close) - 1)          # forecast close[t + 1] on day t
    base = np.empty(len(positions))
    for train_end, block_end in refit_schedule(split, len(close) - 1, refit_every):
        system.predictor.fit(prices, end=train_end, epochs=epochs)   # rows [0, train_end): up to day train_end - 1
        days = np.arange(train_end - 1, block_end - 1)
        base[days - (split - 1)] = system.predictor.predict_prices(prices, days)[:, 0]
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
                          score(consensus), score(None), float(np.mean([d.consensus == "forced" for d in debates])),
                          len(refit_schedule(split, len(close) - 1, refit_every)), tuple(map(float, base)))
