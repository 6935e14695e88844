"""Forecast errors: MSE, MAE, MASE (scaled by the in-sample seasonal-naive error) and interval coverage."""

from __future__ import annotations

import numpy as np


def mse(forecast: np.ndarray, actual: np.ndarray) -> float:
    return float(np.mean((forecast - actual) ** 2))


def mae(forecast: np.ndarray, actual: np.ndarray) -> float:
    return float(np.mean(np.abs(forecast - actual)))


def naive_scale(history: np.ndarray, season: int) -> float:
    """The mean absolute error of the seasonal naive forecast in the training data: MASE's denominator."""
    lag = season if 1 < season < len(history) else 1
    scale = float(np.mean(np.abs(history[lag:] - history[:-lag])))
    return scale if scale > 0 else 1.0


def coverage(lower: np.ndarray, upper: np.ndarray, actual: np.ndarray) -> float:
    return float(np.mean((actual >= lower) & (actual <= upper)))
