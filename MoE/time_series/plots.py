"""PNG plots: a forecast against what happened, and each expert's router weight over time."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np


def _figure(width: float, height: float):
    """A figure drawn by the Agg canvas directly: matplotlib's global backend (a notebook's inline plots)
    is left alone, and no pyplot state is kept."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def plot_forecast(history: np.ndarray, actual: np.ndarray, predicted: np.ndarray, path: str | Path,
                  title: str = "forecast") -> Path:
    """history (L,), actual (H,), predicted (H,) of one channel."""
    fig = _figure(9, 3.5)
    ax = fig.subplots()
    past = np.arange(-len(history), 0)
    future = np.arange(0, len(actual))
    ax.plot(past, history, color="0.4", label="history")
    ax.plot(future, actual, color="tab:blue", label="actual")
    ax.plot(future, predicted, color="tab:orange", linestyle="--", label="forecast")
    ax.axvline(0, color="0.7", linewidth=0.8)
    ax.set_title(title)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)


def plot_expert_weights(weights: np.ndarray, names: Sequence[str], path: str | Path,
                        title: str = "router weight per expert") -> Path:
    """weights (T, E): the router's weight for each expert, window by window."""
    fig = _figure(9, 3.5)
    ax = fig.subplots()
    ax.stackplot(np.arange(len(weights)), weights.T, labels=list(names), alpha=0.85)
    ax.set_ylim(0, 1)
    ax.set_xlabel("window")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)


def plot_dated_forecast(history: dict, forecast, date: str, path: str | Path, id_column: str | None = None,
                        levels: Sequence[float] = (0.8, 0.95), shown: int = 4) -> Path:
    """history {id: (dates, values)}; forecast: Forecaster.predict()'s frame. One panel per series (at most
    `shown`): the recent history, the forecast and its interval bands, against real dates."""
    ids = list(history)[:shown]
    fig = _figure(10, 3.2 * len(ids))
    axes = np.atleast_1d(fig.subplots(len(ids), 1, squeeze=False)[:, 0])
    for ax, key in zip(axes, ids):
        dates, values = history[key]
        part = forecast if id_column is None else forecast[forecast[id_column] == key]
        keep = max(4 * len(part), 60)
        ax.plot(dates[-keep:], values[-keep:], color="0.35", label="history")
        for level, alpha in zip(sorted(levels, reverse=True), (0.18, 0.32)):
            tag = round(level * 100)
            ax.fill_between(part[date], part[f"lo_{tag}"], part[f"hi_{tag}"], color="tab:orange", alpha=alpha,
                            linewidth=0, label=f"{tag}% interval")
        ax.plot(part[date], part["forecast"], color="tab:orange", label="forecast")
        ax.set_title(f"{key}" if key is not None else "forecast")
        ax.legend(loc="upper left", fontsize="small")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)
