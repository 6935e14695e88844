"""The backtest: the experts and strong baselines on the same held-out windows of every series.

Baselines: repeat-last, seasonal naive, a DLinear-style linear map (ridge, fitted on the training
windows) and statsforecast's AutoETS (chosen and fitted on each series' training part, run over every
window). Intervals: the experts' three kinds (conformal on the point
forecast, the pinball-trained quantile head as trained, and the head with a conformal correction), and
conformal intervals for every baseline, all calibrated on the validation windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from torch.utils.data import ConcatDataset

from . import baselines, metrics
from .intervals import ConformalIntervals

EXPERTS = "experts (this model)"
AUTO_ETS = "AutoETS (statsforecast, fitted per series)"
ETS_CALIBRATION_WINDOWS = 500   # per series: running ETS over the whole history per window is the slow part
INTERVAL_ROWS = {"conformal": "conformal", "quantile": "quantile head (pinball)",
                 "cqr": "quantile head + conformal (CQR)"}


@dataclass
class BacktestReport:
    """Errors on the held-out tail, every method on the same windows. MSE and MAE are in the scaled units
    (each series z-normalised by its training statistics, as the ETT protocol reports); MASE is unit-free.
    The experts get one row per kind of interval (their point forecast is the same in each)."""
    windows: int
    horizon: int
    levels: tuple[float, ...]
    rows: list[dict] = field(default_factory=list)
    router: dict = field(default_factory=dict)   # expert -> (mean weight, sd across windows); "entropy"
    notes: list[str] = field(default_factory=list)

    def to_markdown(self) -> str:
        cover = " | ".join(f"coverage {round(level * 100)}%" for level in self.levels)
        lines = [f"Backtest: {self.windows} windows of the test split, horizon {self.horizon}.", "",
                 f"| method | MSE | MAE | MASE | {cover} | mean interval width ({round(self.levels[0] * 100)}%) |",
                 "|---" * (5 + len(self.levels)) + "|"]
        for row in self.rows:
            cells = [f"{row['coverage'][lv]:.1%}" if row.get("coverage") else "-" for lv in self.levels]
            width = f"{row['width']:.3f}" if row.get("width") is not None else "-"
            lines.append(f"| {row['method']} | {row['mse']:.4f} | {row['mae']:.4f} | {row['mase']:.3f} | "
                         f"{' | '.join(cells)} | {width} |")
        if self.notes:
            lines += [""] + [f"{note}." for note in self.notes]
        if self.router:
            weights = ", ".join(f"{name} {mean:.2f} (sd {sd:.3f})" for name, (mean, sd) in self.router["experts"].items())
            lines += ["", f"Router weights over the test windows: {weights}; mean entropy "
                          f"{self.router['entropy']:.3f} of at most {self.router['max_entropy']:.3f} (equal weights)."]
        return "\n".join(lines) + "\n"


def run_backtest(forecaster) -> BacktestReport:
    """Every method on the test windows of a fitted Forecaster (forecast.py)."""
    f, cfg, season = forecaster, forecaster.config, forecaster.data.season
    borders, series = f._borders, {s.id: s for s in f.data.series}
    tests = {sid: f._windows(s, borders[sid][1] - f.seq_len, len(s.values), stride=f._test_stride(s))
             for sid, s in series.items()}
    validation = {sid: f._windows(s, borders[sid][0] - f.seq_len, borders[sid][1]) for sid, s in series.items()}
    first = {id(d): borders[sid][1] for sid, d in tests.items()} | {id(d): borders[sid][0] for sid, d in validation.items()}
    # AutoETS runs over the whole history for each window (the slow part): calibrated on at most
    # ETS_CALIBRATION_WINDOWS validation windows per series, evenly spaced
    ets_validation = {sid: f._windows(s, borders[sid][0] - f.seq_len, borders[sid][1],
                                      stride=math.ceil(len(validation[sid]) / ETS_CALIBRATION_WINDOWS))
                      for sid, s in series.items()}
    first |= {id(d): borders[sid][0] for sid, d in ets_validation.items()}
    arrays: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def windows_of(dataset) -> tuple[np.ndarray, np.ndarray]:   # each dataset's arrays, built once
        if id(dataset) not in arrays:
            arrays[id(dataset)] = f._target_windows(dataset)
        return arrays[id(dataset)]

    def origins(dataset) -> np.ndarray:   # the row each window forecasts from (its first target row)
        return first[id(dataset)] + np.asarray(dataset.starts)

    linear = baselines.LinearForecaster().fit(*f._target_windows(
        ConcatDataset([f._windows(s, 0, borders[sid][0]) for sid, s in series.items()])))
    history = {sid: f._scaled(s)[0][:, 0] for sid, s in series.items()}
    ets = {sid: baselines.auto_ets(history[sid][: borders[sid][0]], season) for sid in series}
    methods = {   # (series id, windows) -> forecasts; the experts' rows come from _expert_rows
        "repeat last": lambda sid, d: baselines.repeat_last(windows_of(d)[0], cfg.horizon),
        f"seasonal naive (season {season})": lambda sid, d: baselines.seasonal_naive(windows_of(d)[0], cfg.horizon, season),
        "linear (DLinear-style)": lambda sid, d: linear.predict(windows_of(d)[0]),
        AUTO_ETS: lambda sid, d: None if ets[sid] is None else ets[sid].predict(history[sid], origins(d), cfg.horizon),
    }
    report = BacktestReport(sum(len(d) for d in tests.values()), cfg.horizon, cfg.levels)
    report.router = f._router_weights(ConcatDataset(list(tests.values())))
    report.rows += _expert_rows(f, tests, windows_of)
    for name, method in methods.items():
        pieces = [(method(sid, d), windows_of(d)[1], f._mase_scale(sid)) for sid, d in tests.items()]
        if any(p[0] is None for p in pieces):
            report.rows.append({"method": name + ": not installed (pip install '.[forecast]')", "mse": math.nan,
                                "mae": math.nan, "mase": math.nan})
            continue
        forecast, actual, row = _errors(name, pieces)
        calibration = ets_validation if name == AUTO_ETS else validation
        errors = np.concatenate([np.abs(method(sid, d) - windows_of(d)[1]) for sid, d in calibration.items()])
        bands = ConformalIntervals.fit(errors, cfg.levels)
        row["coverage"] = {lv: metrics.coverage(*bands.bounds(forecast, lv), actual) for lv in cfg.levels}
        row["width"] = float(np.mean(2 * bands.half_widths[0]))
        report.rows.append(row)
    if all(m is not None for m in ets.values()):
        report.notes.append(f"AutoETS chose {', '.join(sorted({m.chosen for m in ets.values()}))}")
    return report


def _expert_rows(f, sets, windows_of) -> list[dict]:
    """One row per kind of interval, the one the forecaster uses first; the point errors are shared."""
    outputs = {sid: f._outputs(d) for sid, d in sets.items()}
    pieces = [(outputs[sid][0], windows_of(d)[1], f._mase_scale(sid)) for sid, d in sets.items()]
    forecast, actual, errors = _errors(EXPERTS, pieces)
    quantiles = np.concatenate([outputs[sid][1] for sid in sets])
    kinds = [f.config.intervals] + [k for k in INTERVAL_ROWS if k != f.config.intervals]
    rows = []
    for kind in kinds:
        bounds = {lv: f._bounds(forecast, quantiles, lv, kind) for lv in f.config.levels}
        lower, upper = bounds[f.config.levels[0]]
        rows.append(dict(errors, method=f"{EXPERTS}, {INTERVAL_ROWS[kind]} intervals",
                         coverage={lv: metrics.coverage(*b, actual) for lv, b in bounds.items()},
                         width=float(np.mean(upper - lower))))
    return rows


def _errors(name: str, pieces) -> tuple[np.ndarray, np.ndarray, dict]:
    forecast = np.concatenate([p[0] for p in pieces])
    actual = np.concatenate([p[1] for p in pieces])
    scaled_errors = np.concatenate([np.abs(p[0] - p[1]) / p[2] for p in pieces])
    return forecast, actual, {"method": name, "mse": metrics.mse(forecast, actual), "mae": metrics.mae(forecast, actual),
                              "mase": float(np.mean(scaled_errors))}
