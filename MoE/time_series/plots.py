"""PNG plots: a forecast against what happened, and each expert's router weight over time."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_forecast(history: np.ndarray, actual: np.ndarray, predicted: np.ndarray, path: str | Path,
                  title: str = "forecast") -> Path:
    """history (L,), actual (H,), predicted (H,) of one channel."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.5))
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
    plt.close(fig)
    return Path(path)


def plot_expert_weights(weights: np.ndarray, names: Sequence[str], path: str | Path,
                        title: str = "router weight per expert") -> Path:
    """weights (T, E): the router's weight for each expert, window by window."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.stackplot(np.arange(len(weights)), weights.T, labels=list(names), alpha=0.85)
    ax.set_ylim(0, 1)
    ax.set_xlabel("window")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
