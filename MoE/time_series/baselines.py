"""Baselines every forecast is measured against, on the same windows: repeat-last, seasonal naive, a linear
model (DLinear-style: one linear map from the window to the horizon, fitted in closed form), and
statsforecast's AutoETS when that package is installed (the `forecast` extra).

The first three take windows (N, L) of one series' scaled values and return forecasts (N, H); AutoETS
takes the series' whole history and the rows to forecast from.
"""

from __future__ import annotations

import importlib.util

import numpy as np


def repeat_last(windows: np.ndarray, horizon: int) -> np.ndarray:
    return np.repeat(windows[:, -1:], horizon, axis=1)


def seasonal_naive(windows: np.ndarray, horizon: int, season: int) -> np.ndarray:
    """The last full season, repeated; repeat-last when the window is shorter than a season."""
    if season < 2 or season > windows.shape[1]:
        return repeat_last(windows, horizon)
    last = windows[:, -season:]
    return np.tile(last, (1, -(-horizon // season)))[:, :horizon]


class LinearForecaster:
    """Ridge regression from the window (minus its last value) to the horizon (minus the same value).

    DLinear splits the window into trend and remainder and maps each linearly; both maps are linear in
    the window, so one ridge fit covers that family, in closed form."""

    def __init__(self, ridge: float = 1.0):
        self.ridge = ridge
        self.weights: np.ndarray | None = None

    def fit(self, windows: np.ndarray, targets: np.ndarray) -> "LinearForecaster":
        x = windows - windows[:, -1:]
        y = targets - windows[:, -1:]
        x1 = np.hstack([x, np.ones((len(x), 1))])
        gram = x1.T @ x1 + self.ridge * np.eye(x1.shape[1])
        self.weights = np.linalg.solve(gram, x1.T @ y)
        return self

    def predict(self, windows: np.ndarray) -> np.ndarray:
        x = windows - windows[:, -1:]
        return np.hstack([x, np.ones((len(x), 1))]) @ self.weights + windows[:, -1:]


class AutoETSForecaster:
    """statsforecast's AutoETS, chosen and fitted once on a series' training values, then run forward with
    those parameters over the history up to each forecast origin (statsforecast's cross-validation
    without refits): one fit per series rather than one per window."""

    def __init__(self, season: int):
        from statsforecast.models import AutoETS
        self.model = AutoETS(season_length=season)

    def fit(self, train: np.ndarray) -> "AutoETSForecaster":
        self.model.fit(train.astype(np.float64))
        return self

    def predict(self, history: np.ndarray, origins, horizon: int) -> np.ndarray:
        """Forecasts (len(origins), horizon), each from history[:origin]. The whole history from the
        training start goes in: the fitted initial states (level, season phase) belong to that start."""
        history = history.astype(np.float64)
        return np.stack([self.model.forward(y=history[:origin], h=horizon)["mean"] for origin in origins])

    @property
    def chosen(self) -> str:
        """The model AutoETS selected, e.g. "ETS(A,Ad,N)"."""
        return self.model.model_["method"]


def auto_ets(train: np.ndarray, season: int) -> AutoETSForecaster | None:
    """AutoETS fitted on one series' training values; None when statsforecast is not installed. The
    season is dropped when the training part holds fewer than two of them."""
    if importlib.util.find_spec("statsforecast") is None:
        return None
    return AutoETSForecaster(season if 1 < season and 2 * season <= len(train) else 1).fit(train)
