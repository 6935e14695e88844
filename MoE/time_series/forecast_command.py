"""python -m MoE.time_series forecast --csv sales.csv --target revenue --horizon 28 --out forecast/

From a CSV to a dated forecast: infer the frequency, split by fraction, train the experts with early
stopping, backtest them against the baselines on the held-out tail, and write forecast.csv (future
dates, the forecast and its intervals in the original units), backtest.md, forecast.png and model.pt.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROGRAM = "python -m MoE.time_series forecast"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Forecast your own series from a CSV.")
    parser.add_argument("--csv", required=True, help="the data: a CSV (or Parquet) file, one row per date (and series)")
    parser.add_argument("--target", required=True, help="the column to forecast")
    parser.add_argument("--date-column", default="date")
    parser.add_argument("--id-column", help="the column naming each series, for a long file of several series")
    parser.add_argument("--horizon", type=int, default=28, help="steps to forecast (default 28)")
    parser.add_argument("--covariates", default="", help="columns known ahead (price,promo); the model reads "
                                                         "their values at the first forecast date from --future")
    parser.add_argument("--future", help="a CSV with the covariates at the first forecast date (and the id column)")
    parser.add_argument("--out", default="forecast", help="output folder (default: forecast/)")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seq-len", type=int, help="input window (default: 4 seasons or 4 horizons, at most 96)")
    parser.add_argument("--split", default="0.7,0.1,0.2", help="train,validation,test fractions (default 0.7,0.1,0.2)")
    parser.add_argument("--intervals", default="quantile", choices=("conformal", "quantile", "cqr"),
                        help="quantile (default): the pinball-trained quantile head; conformal: the point forecast "
                             "+- its validation errors; cqr: the head corrected on validation (all three are in "
                             "backtest.md)")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--seed", type=int, default=0)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        run(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"{PROGRAM}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        sys.exit(130)


def run(args) -> None:
    import pandas as pd

    from .forecast import ForecastConfig, Forecaster
    from .plots import plot_dated_forecast

    try:
        split = tuple(float(x) for x in args.split.split(","))
    except ValueError:
        raise ValueError(f"--split {args.split!r}: three fractions like 0.7,0.1,0.2") from None
    config = ForecastConfig(horizon=args.horizon, seq_len=args.seq_len, split=split, epochs=args.epochs,
                            intervals=args.intervals, device=args.device, seed=args.seed,
                            progress=sys.stderr.isatty())
    covariates = [c.strip() for c in args.covariates.split(",") if c.strip()]
    future = pd.read_csv(args.future) if args.future else None
    if covariates and future is None:
        raise ValueError(f"--covariates {','.join(covariates)} needs --future: their values at the first forecast date")
    forecaster = Forecaster(config)
    print(f"{PROGRAM}: reading {args.csv}", file=sys.stderr)
    forecaster.fit(args.csv, target=args.target, date=args.date_column, id_column=args.id_column, covariates=covariates)
    data, training = forecaster.data, forecaster.training
    print(f"{PROGRAM}: {len(data.series)} series, frequency {data.frequency}, window {forecaster.seq_len}, "
          f"best epoch {training.best_epoch + 1} of {len(training.history)} (validation MSE "
          f"{training.best_val_loss:.4f})", file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    forecast = forecaster.predict(future=future)
    forecast.to_csv(out / "forecast.csv", index=False)
    report = forecaster.backtest()
    (out / "backtest.md").write_text(f"# Backtest: {args.target} in {args.csv}\n\n{report.to_markdown()}\n"
                                     "MSE and MAE in the scaled units (each series z-normalised by its training "
                                     "statistics); MASE against the in-sample seasonal naive; the experts' intervals "
                                     "three ways (forecast.csv uses the first), the baselines' by conformal "
                                     "calibration on the validation split.\n")
    history = {s.id: (s.dates, s.values) for s in data.series}
    plot_dated_forecast(history, forecast, args.date_column, out / "forecast.png", args.id_column, config.levels)
    forecaster.save(out / "model.pt")
    print(report.to_markdown())
    print(f"wrote {out / 'forecast.csv'} ({len(forecast)} rows), {out / 'backtest.md'}, {out / 'forecast.png'}, "
          f"{out / 'model.pt'}")
