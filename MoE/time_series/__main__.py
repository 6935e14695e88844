"""python -m MoE.time_series: the forecasting experts, then the stock consensus debate.
python -m MoE.time_series forecast --csv FILE --target COLUMN: your own series (forecast_command.py).

Part 1 fabricates a series, fine-tunes the experts and prints their debate log. Part 2 trains the
StockPredictor on prices (fabricated, or --data CSV with --ticker) and lets the indicator experts
challenge its call for the next day, printing the transcript, the price and the explanation.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from . import (RouterConfig, TimeSeriesMoE, TimeSeriesWindowDataset, build_metadata, generate_synthetic_series,
               default_experts, evaluate, fine_tune)

PROGRAM = "python -m MoE.time_series"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["forecast"]:   # your own CSV: python -m MoE.time_series forecast --csv ... (forecast_command.py)
        from .forecast_command import main as forecast

        return forecast(argv[1:])
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Demo of the time-series mixture of experts.")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seq-len", type=int, default=96)
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--device", default=None, help="cpu, cuda (default: cuda when available)")
    parser.add_argument("--plots", metavar="DIR", help="write forecast and expert-weight PNGs here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", help="daily OHLCV CSV for the stock debate (default: fabricated prices)")
    parser.add_argument("--ticker", help="which ticker of --data")
    parser.add_argument("--stock-epochs", type=int, default=6)
    parser.add_argument("--transcript-json", metavar="FILE", help="write the debate transcript as JSON")
    parser.add_argument("--skip-forecast", action="store_true", help="run only the stock debate")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.stock_epochs < 1:
        parser.error("--epochs and --stock-epochs must be 1 or more: an untrained model forecasts nothing")
    try:
        if not args.skip_forecast:
            run(args)
        run_stocks(args)
    except (ValueError, FileNotFoundError) as exc:
        print(f"{PROGRAM}: error: {exc}", file=sys.stderr)
        sys.exit(2)


def run(args) -> None:
    torch.manual_seed(args.seed)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    series = generate_synthetic_series(n_steps=2400, n_channels=3, seed=args.seed)
    metadata = build_metadata(len(series))
    cut = int(len(series) * 0.8)
    train = TimeSeriesWindowDataset(series[:cut], args.seq_len, args.horizon, target_channels=0, metadata=metadata[:cut])
    test = TimeSeriesWindowDataset(series[cut - args.seq_len:], args.seq_len, args.horizon, target_channels=0,
                                   metadata=metadata[cut - args.seq_len:])
    precision = "fp16" if device.type == "cuda" else "fp32"
    model = TimeSeriesMoE(default_experts(d_model=32, n_layers=1, d_ff=64),
                          RouterConfig(precision=precision, metadata_dim=metadata.shape[1]),
                          seq_len=args.seq_len, horizon=args.horizon, input_dim=series.shape[1], target_channels=0)
    print(f"{PROGRAM}: {len(train)} training windows, {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"device {device}, experts: {', '.join(e.name for e in model.expert_configs)}")
    result = fine_tune(model, DataLoader(train, batch_size=64, shuffle=True), epochs=args.epochs, device=device,
                       val_loader=DataLoader(test, batch_size=256), seed=args.seed)
    for entry in result.history:
        print(f"epoch {entry['epoch'] + 1}: train loss {entry['train_loss']:.4f}, test loss "
              f"{entry.get('val_loss', float('nan')):.4f}, {entry['samples_per_s']:.0f} windows/s")
    naive = _seasonal_naive_mse(test, period=24)
    scores = evaluate(model, DataLoader(test, batch_size=256), device)
    print(f"test MSE {scores['mse']:.4f} (seasonal naive {naive:.4f}), MAE {scores['mae']:.4f}")

    window, target, meta = test[len(test) - 1]
    model.eval()
    with torch.no_grad():
        out = model(window.unsqueeze(0).to(device), meta.unsqueeze(0).to(device))
    print("\ndebate log for the last test window:")
    for entry in model.debate_log(out):
        print(f"- {entry['expert']} ({entry['component']}): weight {entry['weight']:.3f}, "
              f"proposes {entry['proposal_first_step'][0]:.3f} next (actual {float(target[0]):.3f})")
        for q in entry["questions"][:2]:
            print(f"    asks \"{q['prompt']}\" (answer strength {q['embedding_norm']:.2f})")
    print(f"mixture forecast for the next step: {float(out.prediction[0, 0]):.3f}")
    if args.plots:
        _plots(model, test, out, window, target, Path(args.plots), device)


def run_stocks(args) -> None:
    from .stocks import StockConsensusSystem, StockPredictor, fabricate_prices, load_prices

    prices = load_prices(args.data, args.ticker) if args.data else fabricate_prices(seed=args.seed)
    print(f"\nstock debate on {prices.ticker}: {len(prices)} days, last close {prices.close.iloc[-1]:.2f} "
          f"on {prices.dates[-1].date()}")
    predictor = StockPredictor(device=args.device, seed=args.seed)
    predictor.fit(prices, epochs=args.stock_epochs)
    system = StockConsensusSystem(predictor)
    result = system.debate(prices)
    for round_ in range(1, result.rounds + 1):
        print(f"round {round_}:")
        for s in (s for s in result.transcript if s.round == round_):
            print(f"  {s.expert:<17} {s.stance:<5} {s.reason}")
    print(f"next-day price: {result.final_price:.2f} ({result.consensus})")
    print(result.explanation())
    if args.transcript_json:
        Path(args.transcript_json).write_text(json.dumps(result.to_json(), indent=2))
    if args.plots:
        from .stocks.plots import plot_debate

        Path(args.plots).mkdir(parents=True, exist_ok=True)
        print(json.dumps({"plots": [str(plot_debate(prices, result, Path(args.plots) / "debate.png"))]}))


def _seasonal_naive_mse(dataset: TimeSeriesWindowDataset, period: int) -> float:
    errors = []
    for window, target, _ in dataset:
        repeats = -(-dataset.horizon // period)
        guess = window[-period:, dataset.targets[0]].repeat(repeats)[: dataset.horizon]
        errors.append(torch.mean((guess - target) ** 2))
    return float(torch.stack(errors).mean())


def _plots(model, dataset, out, window, target, folder: Path, device) -> None:
    from .plots import plot_expert_weights, plot_forecast

    folder.mkdir(parents=True, exist_ok=True)
    plot_forecast(window[:, 0].numpy(), target.numpy(), out.prediction[0].cpu().numpy(), folder / "forecast.png")
    weights = []
    with torch.no_grad():
        for batch in DataLoader(dataset, batch_size=256):
            weights.append(model(batch[0].to(device), batch[2].to(device)).weights.cpu())
    plot_expert_weights(torch.cat(weights).numpy(), [e.name for e in model.expert_configs], folder / "expert_weights.png")
    print(json.dumps({"plots": [str(folder / "forecast.png"), str(folder / "expert_weights.png")]}))


if __name__ == "__main__":
    main()
