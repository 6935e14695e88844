"""Prediction intervals: split conformal calibration of the point forecast, or a quantile head (with or
without a conformal correction, CQR).

On the validation windows (never trained on), the absolute error of the point forecast is collected
for each step ahead; the interval at level p is the forecast plus or minus the ceil((n + 1) p)-th
smallest of those errors. Under exchangeable errors that covers the truth with probability at least p,
and it needs nothing of the model: no quantile head, no retraining.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConformalIntervals:
    levels: tuple[float, ...]
    half_widths: np.ndarray          # (len(levels), H), in the scaled units of the errors it was fitted on

    @classmethod
    def fit(cls, errors: np.ndarray, levels: tuple[float, ...] = (0.8, 0.95)) -> "ConformalIntervals":
        """errors: (N, H) absolute errors of the point forecast on calibration windows."""
        if errors.ndim != 2 or len(errors) < 2:
            raise ValueError(f"conformal calibration needs at least 2 validation windows, got {len(errors)}")
        ordered = np.sort(errors, axis=0)
        n = len(errors)
        rows = [ordered[min(n - 1, math.ceil((n + 1) * level) - 1)] for level in levels]
        return cls(tuple(levels), np.stack(rows))

    def bounds(self, forecast: np.ndarray, level: float, scale: float | np.ndarray = 1.0):
        """(lower, upper) around forecast (..., H); `scale` turns the scaled widths into the forecast's units."""
        width = self.half_widths[self.levels.index(level)][: forecast.shape[-1]] * scale
        return forecast - width, forecast + width

    def state(self) -> dict:
        return {"levels": list(self.levels), "half_widths": self.half_widths.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> "ConformalIntervals":
        return cls(tuple(state["levels"]), np.asarray(state["half_widths"], dtype=np.float64))


def quantile_levels(levels: tuple[float, ...]) -> tuple[float, ...]:
    """The quantiles whose pairs bound the intervals: (0.8, 0.95) -> 0.1, 0.9, 0.025, 0.975."""
    return tuple(round(q, 6) for p in levels for q in ((1 - p) / 2, (1 + p) / 2))


@dataclass(frozen=True)
class QuantileIntervals:
    """Intervals from a quantile head (model.py, trained with the pinball loss): for level p, the forecast
    quantiles (1-p)/2 and (1+p)/2, each moved out (or in) by a correction per step ahead. Zero corrections:
    the head as trained. `fit`: conformalized quantile regression (CQR, Romano et al. 2019) on calibration
    windows - the correction is the ceil((n + 1) p)-th smallest of max(lower - y, y - upper)."""
    levels: tuple[float, ...]
    corrections: np.ndarray          # (len(levels), H)

    @classmethod
    def as_trained(cls, levels: tuple[float, ...], horizon: int) -> "QuantileIntervals":
        return cls(tuple(levels), np.zeros((len(levels), horizon)))

    @classmethod
    def fit(cls, quantiles: np.ndarray, actual: np.ndarray, levels: tuple[float, ...] = (0.8, 0.95)
            ) -> "QuantileIntervals":
        """quantiles: (N, H, 2 * len(levels)) in quantile_levels(levels) order; actual: (N, H)."""
        if len(actual) < 2:
            raise ValueError(f"conformal calibration needs at least 2 validation windows, got {len(actual)}")
        n, rows = len(actual), []
        for i, level in enumerate(levels):
            scores = np.sort(np.maximum(quantiles[..., 2 * i] - actual, actual - quantiles[..., 2 * i + 1]), axis=0)
            rows.append(scores[min(n - 1, math.ceil((n + 1) * level) - 1)])
        return cls(tuple(levels), np.stack(rows))

    def bounds(self, quantiles: np.ndarray, level: float):
        """(lower, upper) from quantiles (..., H, 2 * len(levels))."""
        i = self.levels.index(level)
        correction = self.corrections[i][: quantiles.shape[-2]]
        return quantiles[..., 2 * i] - correction, quantiles[..., 2 * i + 1] + correction

    def state(self) -> dict:
        return {"levels": list(self.levels), "corrections": self.corrections.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> "QuantileIntervals":
        return cls(tuple(state["levels"]), np.asarray(state["corrections"], dtype=np.float64))
