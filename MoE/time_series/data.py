"""Data: synthetic series for the demo, windows for training, and the standard long-horizon protocol.

The protocol (Informer / Autoformer / PatchTST): split by row index, z-normalise every channel with
statistics of the training slice only, cut windows with stride 1, and keep every test window.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

# Row borders of the ETT benchmark splits for hourly data; 15-minute data uses four times these.
ETT_HOURLY_BORDERS = (8640, 11520, 14400)


def generate_synthetic_series(n_steps: int = 2400, n_channels: int = 3, period: int = 24, seed: int = 0) -> np.ndarray:
    """(n_steps, n_channels) float32: a drifting trend, a daily cycle, noise and rare spikes."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_steps)[:, None]
    trend = np.cumsum(rng.normal(0.02, 0.05, size=(n_steps, n_channels)), axis=0)
    amplitude = rng.uniform(0.5, 2.0, size=n_channels)
    phase = rng.uniform(0, 2 * np.pi, size=n_channels)
    seasonal = amplitude * np.sin(2 * np.pi * t / period + phase) + 0.3 * np.sin(4 * np.pi * t / period)
    noise = rng.normal(0, 0.2, size=(n_steps, n_channels))
    spikes = (rng.random((n_steps, n_channels)) < 0.005) * rng.normal(0, 3, size=(n_steps, n_channels))
    return (10 + trend + seasonal + noise + spikes).astype(np.float32)


def build_metadata(n_steps: int, period: int = 24, week: int = 168) -> np.ndarray:
    """(n_steps, 4) calendar features: sine and cosine of the position in the day and in the week."""
    t = np.arange(n_steps)
    day, weekday = 2 * np.pi * (t % period) / period, 2 * np.pi * (t % week) / week
    return np.stack([np.sin(day), np.cos(day), np.sin(weekday), np.cos(weekday)], axis=1).astype(np.float32)


# The seed's names for the two above; they keep working.
_generate_synthetic_series = generate_synthetic_series
_build_metadata = build_metadata


def calendar_metadata(timestamps) -> np.ndarray:
    """(n, 4) calendar features from real timestamps: hour of day and day of week, as sine and cosine."""
    import pandas as pd

    ts = pd.DatetimeIndex(timestamps)
    hour = 2 * np.pi * (ts.hour + ts.minute / 60) / 24
    weekday = 2 * np.pi * (ts.dayofweek + ts.hour / 24) / 7
    return np.stack([np.sin(hour), np.cos(hour), np.sin(weekday), np.cos(weekday)], axis=1).astype(np.float32)


class TimeSeriesWindowDataset(Dataset):
    """Sliding windows over a (time, channels) array: (window (L, C), target, metadata).

    The target is (H,) for one target channel given as an int, else (H, len(target_channels));
    metadata is the feature row at the window's last step, or an empty tensor. With `phases` (one int
    per row, e.g. from cycle_phases) each item also carries its first step's phase, for a model
    with a learned cycle: (window, target, metadata, phase).
    """

    def __init__(self, values, seq_len: int, horizon: int, target_channels: int | Sequence[int] | None = None,
                 metadata=None, stride: int = 1, phases=None):
        data = torch.as_tensor(np.asarray(values, dtype=np.float32))
        if data.dim() == 1:
            data = data.unsqueeze(-1)
        if data.dim() != 2:
            raise ValueError(f"values must be (time, channels), got shape {tuple(data.shape)}")
        bad = (~torch.isfinite(data)).nonzero()
        if len(bad):
            row, col = bad[0].tolist()
            raise ValueError(f"values contain NaN or infinity ({len(bad)} cells), first at row {row}, column {col}")
        if seq_len < 2 or horizon < 1 or stride < 1:
            raise ValueError("seq_len must be >= 2, horizon and stride >= 1")
        if seq_len + horizon > len(data):
            raise ValueError(f"window {seq_len} + horizon {horizon} is longer than the series ({len(data)} rows)")
        self.univariate = isinstance(target_channels, int)
        self.targets = [target_channels] if self.univariate else list(target_channels or range(data.shape[1]))
        if any(not 0 <= c < data.shape[1] for c in self.targets):
            raise ValueError(f"target_channels {self.targets} outside 0..{data.shape[1] - 1}")
        self.meta = None
        if metadata is not None:
            self.meta = torch.as_tensor(np.asarray(metadata, dtype=np.float32))
            if len(self.meta) != len(data):
                raise ValueError(f"metadata has {len(self.meta)} rows for {len(data)} rows of values")
            if not torch.isfinite(self.meta).all():
                raise ValueError("metadata contains NaN or infinite values")
        self.phases = None
        if phases is not None:
            self.phases = torch.as_tensor(np.asarray(phases, dtype=np.int64))
            if self.phases.shape != (len(data),):
                raise ValueError(f"phases must be one int per row ({len(data)}), got shape {tuple(self.phases.shape)}")
        self.data, self.seq_len, self.horizon, self.stride = data, seq_len, horizon, stride
        self.starts = range(0, len(data) - seq_len - horizon + 1, stride)

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index: int):
        start = self.starts[index]
        end = start + self.seq_len
        window = self.data[start:end]
        target = self.data[end:end + self.horizon, self.targets]
        meta = self.meta[end - 1] if self.meta is not None else torch.empty(0)
        item = window, (target[:, 0] if self.univariate else target), meta
        return item if self.phases is None else (*item, self.phases[start])


@dataclass(frozen=True)
class Normalizer:
    """Per-channel z-score with statistics from the training slice only."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, train: np.ndarray) -> "Normalizer":
        return cls(train.mean(axis=0), np.where(train.std(axis=0) < 1e-8, 1.0, train.std(axis=0)))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return ((values - self.mean) / self.std).astype(np.float32)

    def inverse(self, values: np.ndarray) -> np.ndarray:
        return values * self.std + self.mean

    def state(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}


@dataclass(frozen=True)
class Splits:
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    normalizer: Normalizer
    columns: tuple[str, ...]
    timestamps: tuple  # (train, val, test) timestamps, aligned with the arrays


def load_table(source, date_column: str = "date"):
    """A CSV or Parquet path, or a DataFrame, with a date column: returned sorted, dates checked."""
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    else:
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"data file not found: {path}")
        frame = pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path)
    if date_column not in frame.columns:
        raise ValueError(f"no date column '{date_column}' (columns: {', '.join(map(str, frame.columns))})")
    frame[date_column] = pd.to_datetime(frame[date_column])
    if not frame[date_column].is_monotonic_increasing:
        raise ValueError(f"dates in '{date_column}' are not increasing")
    return frame.reset_index(drop=True)


def standard_splits(frame, seq_len: int, date_column: str = "date", borders: Sequence[int] | None = None,
                    minutes_per_step: int | None = None) -> Splits:
    """The long-horizon protocol: row borders (ETT's by default), train-only z-normalisation.

    Validation and test slices start seq_len rows early, so their first window ends at the border.
    """
    if borders is None:
        step = minutes_per_step or int((frame[date_column].iloc[1] - frame[date_column].iloc[0]).total_seconds() // 60)
        scale = 4 if step == 15 else 1
        borders = tuple(b * scale for b in ETT_HOURLY_BORDERS)
    train_end, val_end, test_end = borders
    if test_end > len(frame):
        raise ValueError(f"the protocol needs {test_end} rows, the data has {len(frame)}")
    columns = tuple(c for c in frame.columns if c != date_column)
    values = frame[list(columns)].to_numpy(dtype=np.float64)
    normalizer = Normalizer.fit(values[:train_end])
    scaled = normalizer.transform(values)
    dates = frame[date_column].to_numpy()
    cuts = [(0, train_end), (train_end - seq_len, val_end), (val_end - seq_len, test_end)]
    arrays = [scaled[a:b] for a, b in cuts]
    return Splits(*arrays, normalizer, columns, tuple(dates[a:b] for a, b in cuts))
