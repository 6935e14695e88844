"""Prediction intervals by split conformal calibration.

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
