"""Walk-forward backtest of the stock consensus against the random walk, on real daily prices.

    python benchmarks/stocks.py [--tickers AAPL IBM MSFT GOOG] [--epochs 8] [--refit-every 60] [--write]

Per ticker: the predictor trains on the first 80% of days (and with --refit-every K again every K test
days, on every day before the refit: an expanding window); then every close of the last 20% is
forecast on the day before by the main predictor, by the consensus debate, and by the random walk
(tomorrow = today). Reports MAE and MAPE, directional accuracy beside the majority-class rate, and a
Diebold-Mariano test of each model against the random walk (absolute errors; negative = better).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "stocks" / "stocks_bokeh_quandl_wiki.csv"


def main() -> None:
    from MoE.time_series.stocks import StockConsensusSystem, StockPredictor, load_prices
    from MoE.time_series.stocks.backtest import walk_forward

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickers", nargs="+", default=["AAPL", "IBM", "MSFT", "GOOG"])
    parser.add_argument("--data", default=str(DATA))
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--refit-every", type=int, default=None, metavar="K",
                        help="train again every K test days on all days before (default: train once)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    started, rows = time.perf_counter(), []
    for ticker in args.tickers:
        system = StockConsensusSystem(StockPredictor(seed=args.seed))
        rows.append(walk_forward(system, load_prices(args.data, ticker), epochs=args.epochs,
                                 refit_every=args.refit_every))
        print(f"done: {ticker}", flush=True)
    lines = [f"### Stock consensus, walk-forward on the last 20% ({datetime.date.today().isoformat()})", "",
             f"Command: `python benchmarks/stocks.py --tickers {' '.join(args.tickers)} --epochs {args.epochs}"
             f"{f' --refit-every {args.refit_every}' if args.refit_every else ''}`  ",
             f"Machine: {os.cpu_count()} cores, torch {torch.__version__}, Python {platform.python_version()}; "
             f"seed {args.seed}; total {(time.perf_counter() - started) / 60:.1f} min. Next-day adjusted close; DM: "
             "Diebold-Mariano on absolute errors against the random walk (negative: better than it).", "",
             "| ticker | days | refits | random walk MAE / MAPE | predictor MAE / MAPE | consensus MAE / MAPE | "
             "direction: predictor / consensus / majority | DM predictor (p) | DM consensus (p) | forced debates |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r.ticker} | {r.days} | {r.refits} | {r.random_walk.mae:.3f} / {r.random_walk.mape:.2%} | "
            f"{r.predictor.mae:.3f} / {r.predictor.mape:.2%} | {r.consensus.mae:.3f} / {r.consensus.mape:.2%} | "
            f"{r.predictor.direction:.1%} / {r.consensus.direction:.1%} / {r.majority_rate:.1%} | "
            f"{r.predictor.dm_stat:+.2f} ({r.predictor.dm_p:.3f}) | {r.consensus.dm_stat:+.2f} ({r.consensus.dm_p:.3f}) | "
            f"{r.forced_share:.0%} |")
    lines.append("")
    beats = [r.ticker for r in rows if r.consensus.dm_stat < 0 and r.consensus.dm_p < 0.05]
    worse = [r.ticker for r in rows if r.consensus.dm_stat > 0 and r.consensus.dm_p < 0.05]
    not_worse = [r.ticker for r in rows if r.consensus.mae <= r.predictor.mae]
    lines.append(f"Goal check: consensus beats the random walk with p < 0.05 on: {', '.join(beats) or 'none'}; "
                 f"significantly worse than it on: {', '.join(worse) or 'none'}; consensus no worse than the "
                 f"predictor alone (MAE) on {len(not_worse)}/{len(rows)} tickers ({', '.join(not_worse) or 'none'}).")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.write:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as f:
            f.write("\n" + table)


if __name__ == "__main__":
    main()
