"""The one-command forecasting path (Forecaster) on ETT and on a daily series shaped like a user's.

    python benchmarks/forecast.py --datasets ETTh1 ETTm1 --horizons 96 192 336 720 --epochs 5 --batch-size 896 --daily
    python benchmarks/forecast.py --datasets --daily          # only the daily series (seconds)

ETT: the seven channels as seven series of one long file (channel-independent, as the experts are), the
standard borders as split fractions of the protocol's rows (0.6 / 0.2 / 0.2 of the first 14,400 hourly or
57,600 15-minute rows), input 96, every test window: the MSE and MAE are the protocol's, comparable with
benchmarks/ett.py and the published table. `--daily`: the OT channel of ETTh1 and of ETTh2 (two
transformers) averaged per day (725 days each, the longest daily series the shared data holds), the
shape of a user's daily series, with the default split. Every method on the same windows,
with the coverage of the 80% / 95% intervals: the experts' three kinds (conformal on the point forecast,
the pinball-trained quantile head, the head with a conformal correction) and conformal ones for the
baselines. Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from MoE.time_series.forecast import ForecastConfig, Forecaster  # noqa: E402

PROTOCOL_ROWS = {"ETTh1": 14400, "ETTh2": 14400, "ETTm1": 57600}


def ett_long(path: Path, rows: int) -> pd.DataFrame:
    wide = pd.read_csv(path).iloc[:rows]
    return wide.melt(id_vars="date", var_name="channel", value_name="value")


def daily_ot(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, parse_dates=["date"])
    return frame.set_index("date")["OT"].resample("D").mean().reset_index().rename(columns={"OT": "value"})


def run(name: str, frame: pd.DataFrame, config: ForecastConfig, id_column: str | None) -> list[str]:
    started = time.perf_counter()
    forecaster = Forecaster(config).fit(frame, target="value", date="date", id_column=id_column)
    report = forecaster.backtest()
    seconds = time.perf_counter() - started
    rows = []
    for row in report.rows:
        cover = " | ".join(f"{row['coverage'][lv]:.1%}" if row.get("coverage") else "-" for lv in config.levels)
        width = f"{row['width']:.3f}" if row.get("width") is not None else "-"
        rows.append(f"| {name} | {config.horizon} | {row['method']} | {row['mse']:.4f} | {row['mae']:.4f} | "
                    f"{row['mase']:.3f} | {cover} | {width} |")
    rows.append(f"| {name} | {config.horizon} | ({report.windows} test windows, best epoch "
                f"{forecaster.training.best_epoch + 1}, {seconds:.0f} s) | | | | | | |")
    weights = ", ".join(f"{e} {m:.3f} (sd {sd:.4f})" for e, (m, sd) in report.router["experts"].items())
    for note in report.notes:
        print(f"{name}, horizon {config.horizon}: {note}", file=sys.stderr)
    print(f"{name}, horizon {config.horizon}, router weights over the test windows: {weights}; mean entropy "
          f"{report.router['entropy']:.4f} of at most {report.router['max_entropy']:.4f}", file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "ett"))
    parser.add_argument("--datasets", nargs="*", default=["ETTh1", "ETTm1"])
    parser.add_argument("--horizons", nargs="+", type=int, default=[96, 192, 336, 720])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=ForecastConfig.batch_size,
                        help="ETT's training batch, in windows of one series (896 = benchmarks/ett.py's 128 windows of "
                             "7 channels; the Forecaster's default suits short user series)")
    parser.add_argument("--daily", action="store_true", help="also the daily OT series (horizon 28)")
    args = parser.parse_args()
    data = Path(args.data)
    print(f"Command: `python benchmarks/forecast.py {' '.join(sys.argv[1:])}`  ")
    print(f"Machine: {os.cpu_count()} cores ({platform.machine()}), torch {torch.__version__}, Python "
          f"{platform.python_version()}; {time.strftime('%Y-%m-%d')}\n")
    print("| data | horizon | method | MSE | MAE | MASE | coverage 80% | coverage 95% | width 80% |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.datasets:
        frame = ett_long(data / f"{name}.csv", PROTOCOL_ROWS[name])
        for horizon in args.horizons:
            config = ForecastConfig(horizon=horizon, seq_len=96, split=(0.6, 0.2, 0.2), epochs=args.epochs,
                                    batch_size=args.batch_size, max_test_windows=10**9, progress=False)
            print("\n".join(run(name, frame, config, "channel")), flush=True)
    if args.daily:
        config = ForecastConfig(horizon=28, epochs=args.epochs, progress=False)
        for name in ("ETTh1", "ETTh2"):
            print("\n".join(run(f"{name} OT, daily", daily_ot(data / f"{name}.csv"), config, None)), flush=True)


if __name__ == "__main__":
    main()
