"""Forecast your own series: fit on a table, predict dated values with intervals, backtest, save, load.

    forecaster = Forecaster(ForecastConfig(horizon=28)).fit(frame, target="revenue", date="date")
    forecaster.predict()        # DataFrame: [id], date, forecast, lo_80, hi_80, lo_95, hi_95 (original units)
    forecaster.backtest()       # the experts against repeat-last, seasonal naive, linear, AutoETS
    forecaster.save("model.pt"); Forecaster.load("model.pt")

Each series is split in time by fraction (train / validation / test) and scaled by its own training
statistics; one model is trained across all series (channel-independent), with early stopping on the
validation windows, which then calibrate the intervals (intervals.py). The trained model is kept for
the forecast, not refitted on all data: a refit has no validation split left to stop it or to calibrate
its intervals, and the backtest would no longer describe the model that forecasts.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import ConcatDataset, DataLoader

from . import metrics
from .backtest import BacktestReport, run_backtest
from .config import RouterConfig, default_experts
from .data import TimeSeriesWindowDataset, calendar_metadata
from .intervals import ConformalIntervals, QuantileIntervals, quantile_levels
from .model import TimeSeriesMoE
from .train import fine_tune
from .user_data import Series, SeriesSet, future_dates, read_table, series_set

FORMAT = "qwen3-moe-forecaster/2"   # 2: the quantile head and its intervals
INTERVALS = ("conformal", "quantile", "cqr")


@dataclass(frozen=True)
class ForecastConfig:
    horizon: int = 28
    seq_len: int | None = None              # default: 4 seasons or 4 horizons, at most 96, fitted to the data
    split: tuple[float, float, float] = (0.7, 0.1, 0.2)
    epochs: int = 20
    patience: int = 3
    lr: float = 1e-3
    batch_size: int = 64
    d_model: int = 32
    n_layers: int = 1
    levels: tuple[float, ...] = (0.8, 0.95)
    # quantile: the pinball-trained quantile head (the default: best calibrated on ETT and the daily series,
    # docs/benchmarks.md); conformal: the point forecast +- its validation errors; cqr: the head widened (or
    # narrowed) by its validation errors. The backtest reports all three.
    intervals: str = "quantile"
    max_test_windows: int = 200              # per series; the backtest's windows are spread evenly over the test slice
    device: str | None = None
    seed: int = 0
    progress: bool = True

    def __post_init__(self):
        checks = [(self.horizon >= 1, "horizon", "must be 1 or more"),
                  (self.seq_len is None or self.seq_len >= 2, "seq_len", "must be 2 or more"),
                  (len(self.split) == 3 and all(f > 0 for f in self.split) and abs(sum(self.split) - 1) < 1e-6,
                   "split", "must be three positive fractions (train, validation, test) adding up to 1"),
                  (self.epochs >= 1, "epochs", "must be 1 or more (an untrained model forecasts nothing)"),
                  (all(0 < level < 1 for level in self.levels), "levels", "must lie between 0 and 1"),
                  (self.intervals in INTERVALS, "intervals", f"must be one of {', '.join(INTERVALS)}"),
                  (self.batch_size >= 1 and self.lr > 0, "batch_size / lr", "must be positive")]
        for ok, key, message in checks:
            if not ok:
                raise ValueError(f"ForecastConfig.{key} {message}")


class Forecaster:
    def __init__(self, config: ForecastConfig = ForecastConfig()):
        self.config = config
        self.model: TimeSeriesMoE | None = None

    # ---- fitting ----
    def fit(self, data, target: str, date: str = "date", id_column: str | None = None,
            covariates: Sequence[str] = ()) -> "Forecaster":
        """`data`: a DataFrame or a CSV / Parquet path, long format when `id_column` names the series."""
        cfg = self.config
        self.data = series_set(read_table(data), target, date, id_column, covariates)
        self.names = {"target": target, "date": date, "id": id_column, "covariates": list(covariates)}
        self.seq_len = cfg.seq_len or self._default_seq_len()
        self._borders = {s.id: self._split_borders(s) for s in self.data.series}
        self._scales = {s.id: _scale_of(s, self._borders[s.id][0]) for s in self.data.series}
        torch.manual_seed(cfg.seed)
        device = torch.device(cfg.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = self._build_model("fp16" if device.type == "cuda" else "fp32")
        train = ConcatDataset([self._windows(s, 0, self._borders[s.id][0]) for s in self.data.series])
        val = self._validation_windows()
        self.training = fine_tune(self.model, DataLoader(train, batch_size=cfg.batch_size, shuffle=True),
                                  epochs=cfg.epochs, lr=cfg.lr, val_loader=DataLoader(val, batch_size=256),
                                  patience=cfg.patience, device=device, seed=cfg.seed, progress=cfg.progress)
        self.model.cpu().eval()
        _, actual, _ = self._arrays(val)
        point, quantiles = self._outputs(val)
        self.intervals = {"conformal": ConformalIntervals.fit(np.abs(point - actual), cfg.levels),
                          "quantile": QuantileIntervals.as_trained(cfg.levels, cfg.horizon),
                          "cqr": QuantileIntervals.fit(quantiles, actual, cfg.levels)}
        self._history = {s.id: s for s in self.data.series}
        return self

    # ---- forecasting ----
    def predict(self, horizon: int | None = None, future: pd.DataFrame | None = None) -> pd.DataFrame:
        """The next `horizon` steps (at most the trained horizon) after each series' last date, in the
        original units, with an interval per level. `future`: the covariates' values at the first
        forecast date (one row per series), needed when the model was fitted with covariates."""
        self._require_fitted()
        horizon = horizon or self.config.horizon
        if not 1 <= horizon <= self.config.horizon:
            raise ValueError(f"horizon {horizon}: this model forecasts 1 to {self.config.horizon} steps")
        frames = []
        for s in self._history.values():
            mean, std = self._scales[s.id]
            rows = self._model_input(s, len(s.values), self._next_covariates(s, future))
            point, quantiles = (a[0, :horizon] for a in self._outputs(rows))
            frame = {self.names["date"]: future_dates(s.dates[-1], self.data.frequency, horizon),
                     "forecast": point * std[0] + mean[0]}
            for level in self.config.levels:
                lower, upper = self._bounds(point, quantiles, level, self.config.intervals)
                frame[f"lo_{round(level * 100)}"], frame[f"hi_{round(level * 100)}"] = lower * std[0] + mean[0], \
                    upper * std[0] + mean[0]
            frame = pd.DataFrame(frame)
            if self.names["id"]:
                frame.insert(0, self.names["id"], s.id)
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def backtest(self) -> BacktestReport:
        """The experts and the baselines on the same test windows of every series (backtest.py)."""
        self._require_fitted()
        if not hasattr(self, "_borders"):
            raise ValueError("backtest() needs the training data: fit() the forecaster (a loaded one keeps only "
                             "the history it forecasts from)")
        return run_backtest(self)

    # ---- saving ----
    def save(self, path: str | Path) -> Path:
        """One file, written atomically; Forecaster.load reads it without unpickling code."""
        self._require_fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {"format": FORMAT, "config": {k: (list(v) if isinstance(v, tuple) else v)
                                              for k, v in asdict(self.config).items()},
                 "names": self.names, "frequency": self.data.frequency, "seq_len": self.seq_len,
                 "model": self.model.state_dict(),
                 "intervals": {kind: bands.state() for kind, bands in self.intervals.items()},
                 "series": [{"id": s.id, "dates": [str(d) for d in s.dates[-self.seq_len - 1:]],
                             "values": s.values[-self.seq_len - 1:].tolist(),
                             "covariates": s.covariates[-self.seq_len - 1:].tolist(),
                             "scale": [a.tolist() for a in self._scales[s.id]]} for s in self.data.series]}
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(handle)
        try:
            torch.save(state, temporary)
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Forecaster":
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"model file not found: {path}")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ValueError(f"{path} is not a saved forecaster ({type(exc).__name__})") from None
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            found = state.get("format") if isinstance(state, dict) else None
            raise ValueError(f"{path}: saved as format {found!r}; this version reads {FORMAT!r}")
        config = state["config"]
        self = cls(ForecastConfig(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in config.items()}))
        self.names, self.seq_len = state["names"], state["seq_len"]
        series = tuple(Series(s["id"], pd.DatetimeIndex(pd.to_datetime(s["dates"])), np.asarray(s["values"]),
                              np.asarray(s["covariates"]).reshape(len(s["values"]), -1)) for s in state["series"])
        self.data = SeriesSet(series, self.names["target"], tuple(self.names["covariates"]), state["frequency"])
        self._scales = {s["id"]: tuple(np.asarray(a) for a in s["scale"]) for s in state["series"]}
        self._history = {s.id: s for s in series}
        self.model = self._build_model("fp32")
        self.model.load_state_dict(state["model"])
        self.model.eval()
        self.intervals = {"conformal": ConformalIntervals.from_state(state["intervals"]["conformal"]),
                          **{k: QuantileIntervals.from_state(state["intervals"][k]) for k in ("quantile", "cqr")}}
        return self

    # ---- internals ----
    def _build_model(self, precision: str) -> TimeSeriesMoE:
        cfg, k = self.config, len(self.data.covariates)
        return TimeSeriesMoE(default_experts(d_model=cfg.d_model, n_layers=cfg.n_layers, d_ff=2 * cfg.d_model),
                             RouterConfig(precision=precision, metadata_dim=4 + k, quantiles=quantile_levels(cfg.levels)),
                             seq_len=self.seq_len, horizon=cfg.horizon, input_dim=1 + k, target_channels=0)

    def _validation_windows(self) -> ConcatDataset:
        return ConcatDataset([self._windows(s, self._borders[s.id][0] - self.seq_len, self._borders[s.id][1])
                              for s in self.data.series])

    def _bounds(self, point: np.ndarray, quantiles: np.ndarray, level: float, kind: str):
        """(lower, upper) in scaled units by one kind of interval."""
        if kind == "conformal":
            return self.intervals["conformal"].bounds(point, level)
        return self.intervals[kind].bounds(quantiles, level)

    def _default_seq_len(self) -> int:
        shortest = min(len(s.values) for s in self.data.series)
        wanted = min(96, max(4 * self.data.season, 4 * self.config.horizon, 16))
        fits = int(shortest * self.config.split[0]) - self.config.horizon - 1   # at least one training window
        return max(2, min(wanted, fits))

    def _split_borders(self, s: Series) -> tuple[int, int]:
        n, (train, val, _) = len(s.values), self.config.split
        train_end, val_end = round(n * train), round(n * (train + val))
        need = self.seq_len + self.config.horizon
        where = f"series {s.id!r}" if s.id is not None else "the series"
        if train_end < need + 1 or val_end - train_end < self.config.horizon + 1 or n - val_end < self.config.horizon:
            raise ValueError(f"{where} has {len(s.values)} rows: too few for a {self.seq_len}-step window, a "
                             f"{self.config.horizon}-step horizon and the split {self.config.split} (shorten the "
                             "horizon or seq_len, or give more history)")
        return train_end, val_end

    def _model_input(self, s: Series, end: int, next_covariates: np.ndarray):
        """The one window ending at row `end` (exclusive), as a dataset item batch for the model."""
        values, meta = self._scaled(s, extra=next_covariates)
        window = torch.as_tensor(values[end - self.seq_len:end], dtype=torch.float32)[None]
        return window, torch.zeros(1, self.config.horizon), torch.as_tensor(meta[end - 1], dtype=torch.float32)[None]

    def _scaled(self, s: Series, extra: np.ndarray | None = None):
        """(values (T, 1+K) scaled, metadata (T, 4+K)): row t's metadata describes step t+1, the first step
        it forecasts - its calendar and its (known ahead) covariates."""
        mean, std = self._scales[s.id]
        values = (np.column_stack([s.values, s.covariates]) - mean) / std
        covariates = values[:, 1:]
        after = future_dates(s.dates[-1], self.data.frequency, 1)
        calendar = calendar_metadata(s.dates[1:].append(after))
        ahead = np.vstack([covariates[1:], (extra - mean[1:]) / std[1:] if extra is not None else covariates[-1:]])
        return values.astype(np.float32), np.hstack([calendar, ahead]).astype(np.float32)

    def _windows(self, s: Series, start: int, end: int, stride: int = 1) -> TimeSeriesWindowDataset:
        values, meta = self._scaled(s)
        return TimeSeriesWindowDataset(values[max(0, start):end], self.seq_len, self.config.horizon, target_channels=0,
                                       metadata=meta[max(0, start):end], stride=stride)

    def _test_stride(self, s: Series) -> int:
        count = len(s.values) - self._borders[s.id][1] - self.config.horizon + 1
        return max(1, math.ceil(count / self.config.max_test_windows))

    def _next_covariates(self, s: Series, future: pd.DataFrame | None) -> np.ndarray | None:
        if not self.data.covariates:
            return None
        if future is None:
            raise ValueError(f"the model uses covariates {', '.join(self.data.covariates)}: pass their values at "
                             "the first forecast date (future=DataFrame, --future CSV)")
        rows = future if not self.names["id"] else future[future[self.names["id"]].astype(str) == s.id]
        missing = [c for c in self.data.covariates if c not in rows.columns]
        if missing or rows.empty:
            raise ValueError(f"future covariates for {s.id or 'the series'}: missing {missing or 'rows'}")
        return rows[list(self.data.covariates)].iloc[0].to_numpy(np.float64)

    @torch.no_grad()
    def _outputs(self, dataset) -> tuple[np.ndarray, np.ndarray]:
        """Point forecasts (N, H) and the quantile head's (N, H, 2 * levels), in scaled units, for every
        window of a dataset (or one prepared batch)."""
        self.model.eval()
        batches = [dataset] if isinstance(dataset, tuple) else DataLoader(dataset, batch_size=256)
        outputs = [self.model(w, m) for w, _, m in batches]
        return (np.concatenate([o.prediction.numpy() for o in outputs]),
                np.concatenate([o.quantiles.numpy() for o in outputs]))

    @torch.no_grad()
    def _router_weights(self, dataset) -> dict:
        """Does the router route? Each expert's mean weight and its spread across windows, and the entropy."""
        weights = torch.cat([self.model(w, m).weights for w, _, m in DataLoader(dataset, batch_size=256)]).numpy()
        entropy = -(weights * np.log(np.clip(weights, 1e-12, 1))).sum(axis=1)
        names = [e.name for e in self.model.expert_configs]
        return {"experts": {n: (float(weights[:, i].mean()), float(weights[:, i].std())) for i, n in enumerate(names)},
                "entropy": float(entropy.mean()), "max_entropy": float(np.log(len(names)))}

    @staticmethod
    def _arrays(dataset):
        window, target, meta = zip(*(dataset[i] for i in range(len(dataset))))
        return torch.stack(window).numpy(), torch.stack(target).numpy(), torch.stack(meta).numpy()

    def _target_windows(self, dataset) -> tuple[np.ndarray, np.ndarray]:
        windows, targets, _ = self._arrays(dataset)
        return windows[:, :, 0], targets

    def _mase_scale(self, series_id) -> float:
        s = self._history[series_id]
        mean, std = self._scales[series_id]
        train = (s.values[: self._borders[series_id][0]] - mean[0]) / std[0]
        return metrics.naive_scale(train, self.data.season)

    def _require_fitted(self) -> None:
        if self.model is None:
            raise ValueError("fit() the forecaster first (or Forecaster.load a saved one)")


def _scale_of(s: Series, train_end: int) -> tuple[np.ndarray, np.ndarray]:
    train = np.column_stack([s.values, s.covariates])[:train_end]
    std = train.std(axis=0)
    return train.mean(axis=0), np.where(std < 1e-8, 1.0, std)
