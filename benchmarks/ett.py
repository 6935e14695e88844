"""ETT long-horizon benchmark for the time-series MoE, with the naive baselines computed in the same run.

    python benchmarks/ett.py --datasets ETTh1 ETTh2 ETTm1 --horizons 96 192 336 720 --write
    python benchmarks/ett.py --datasets ETTh1 --horizons 96 --variants moe one_expert all_at_once

Protocol of ../shared/data/README.md: row splits, train-only z-normalisation, stride-1 windows, every
test window kept, all 7 channels in and out, MSE and MAE on the normalised values. Early stopping on
the validation split. "peak memory" is the CUDA peak on a GPU; on the CPU it is the bytes autograd
saves for backward in one training step of batch 128 (the activations sequential execution avoids).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "ett"
PUBLISHED = {  # (MSE, MAE), input 96, averaged over the four horizons; and H=96 alone
    "ETTh1": {"DLinear": ((.386, .400), (.456, .452)), "PatchTST": ((.414, .419), (.469, .454))},
    "ETTm1": {"DLinear": ((.345, .372), (.403, .407)), "PatchTST": ((.329, .367), (.387, .400))},
}
PUBLISHED_LONG = {  # the same, with long inputs (../shared/data/README.md)
    "ETTh1": {"PatchTST/64 (input 512)": ((.370, .400), (.413, .434)), "DLinear (input 336)": ((.375, .399), (.423, .437))},
    "ETTm1": {"PatchTST/64 (input 512)": ((.293, .346), (.353, .382)), "DLinear (input 336)": ((.299, .343), (.357, .379))},
}


def naive_scores(dataset, period: int) -> dict[str, tuple[float, float]]:
    sums = {"repeat last": [0.0, 0.0], "seasonal naive": [0.0, 0.0]}
    for window, target, *_ in DataLoader(dataset, batch_size=1024):
        guesses = {"repeat last": window[:, -1:].expand_as(target),
                   "seasonal naive": window[:, -period:].repeat(1, -(-dataset.horizon // period), 1)[:, :dataset.horizon]}
        for name, guess in guesses.items():
            sums[name][0] += float(((guess - target) ** 2).sum())
            sums[name][1] += float((guess - target).abs().sum())
    count = len(dataset) * dataset.horizon * dataset.data.shape[1]
    return {k: (v[0] / count, v[1] / count) for k, v in sums.items()}


def build(variant: str, horizon: int, seq_len: int, args, cycle_length: int = 0):
    from MoE.time_series import ExpertConfig, RouterConfig, TimeSeriesMoE, default_experts

    size = dict(d_model=args.d_model, n_heads=4, n_layers=args.layers, d_ff=2 * args.d_model, dropout=args.dropout,
                num_questions=8)
    experts = [ExpertConfig("raw_expert", "raw", **size)] if variant == "one_expert" else default_experts(**size)
    precision = "bf16" if torch.cuda.is_available() else "fp32"
    router = RouterConfig(precision=precision, sequential=variant != "all_at_once", cycle_length=cycle_length)
    return TimeSeriesMoE(experts, router, seq_len=seq_len, horizon=horizon, input_dim=7)


def activation_bytes(model, loader) -> int:
    total = 0

    def pack(t):
        nonlocal total
        total += t.numel() * t.element_size()
        return t

    window, target, _, *phase = next(iter(loader))
    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model.loss(model(window, None, *phase), target).backward()
    model.zero_grad(set_to_none=True)
    return total


def run_one(dataset: str, horizon: int, variant: str, args) -> dict:
    from MoE.time_series import TimeSeriesWindowDataset, cycle_phases, evaluate, fine_tune, load_table, standard_splits

    torch.manual_seed(args.seed)
    splits = standard_splits(load_table(DATA / f"{dataset}.csv"), seq_len=args.seq_len)
    period = 24 * (4 if dataset.startswith("ETTm") else 1)  # steps per day
    cycle = period if args.cycle else 0
    train, val, test = (TimeSeriesWindowDataset(s, args.seq_len, horizon, phases=cycle_phases(t, cycle) if cycle else None)
                        for s, t in zip((splits.train, splits.val, splits.test), splits.timestamps))
    model = build(variant, horizon, args.seq_len, args, cycle)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    loader = DataLoader(train, batch_size=args.batch_size, shuffle=True)
    memory = activation_bytes(model, loader) if device == "cpu" else None
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    result = fine_tune(model, loader, epochs=args.epochs, lr=args.lr, patience=args.patience, device=device,
                       lr_schedule=args.lr_schedule, loss=args.loss, val_loader=DataLoader(val, batch_size=512), progress=False, seed=args.seed)
    if device == "cuda":
        memory = torch.cuda.max_memory_allocated()
    scores = evaluate(model, DataLoader(test, batch_size=512), device)
    epoch_s = sum(h["seconds"] for h in result.history) / len(result.history)
    return {"dataset": dataset, "horizon": horizon, "variant": variant, "mse": scores["mse"], "mae": scores["mae"],
            "epochs": len(result.history), "epoch_s": epoch_s, "memory": memory, "test_windows": len(test),
            "val_mse": result.best_val_loss,
            "naive": naive_scores(test, period)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["ETTh1", "ETTh2", "ETTm1"])
    parser.add_argument("--horizons", nargs="+", type=int, default=[96, 192, 336, 720])
    parser.add_argument("--variants", nargs="+", default=["moe"], choices=["moe", "one_expert", "all_at_once"])
    parser.add_argument("--seq-len", type=int, default=96)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--lr-schedule", default="constant", choices=["constant", "halve", "cosine"])
    parser.add_argument("--loss", default="mse", choices=["mse", "mae", "huber"], help="training loss")
    parser.add_argument("--d-model", type=int, default=32)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--cycle", action="store_true", help="learn a daily cycle (RouterConfig.cycle_length)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    rows = []
    for dataset in args.datasets:
        for horizon in args.horizons:
            for variant in args.variants:
                rows.append(run_one(dataset, horizon, variant, args))
                r = rows[-1]
                print(f"{dataset} H{horizon} {variant}: MSE {r['mse']:.3f} MAE {r['mae']:.3f} val {r['val_mse']:.3f} "
                      f"({r['epochs']} epochs, {r['epoch_s']:.0f} s/epoch)", flush=True)
    table = render(rows, args, time.perf_counter() - started)
    print(table)
    if args.write:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as f:
            f.write("\n" + table)


def render(rows, args, seconds: float) -> str:
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU, {os.cpu_count()} cores"
    memory_label = "CUDA peak (MB)" if torch.cuda.is_available() else "saved activations per step (MB)"
    command = (f"python benchmarks/ett.py --datasets {' '.join(args.datasets)} --horizons "
               f"{' '.join(map(str, args.horizons))} --variants {' '.join(args.variants)} --epochs {args.epochs} "
               f"--d-model {args.d_model} --layers {args.layers} --dropout {args.dropout} --lr {args.lr} "
               f"--lr-schedule {args.lr_schedule} --loss {args.loss} --seq-len {args.seq_len}" + " --cycle" * args.cycle)
    lines = [f"### ETT, input {args.seq_len} ({datetime.date.today().isoformat()})", "",
             f"Command: `{command}`  ",
             f"Machine: {device}, torch {torch.__version__}, Python {platform.python_version()}; "
             f"seed {args.seed}, batch {args.batch_size}, lr {args.lr} ({args.lr_schedule}), {args.loss} loss, "
             f"{'learned daily cycle, ' if args.cycle else ''}early stopping (patience {args.patience}); "
             f"total {seconds / 60:.0f} min.", "",
             f"| data | H | model | MSE | MAE | validation MSE | repeat last | seasonal naive | epochs | s/epoch | {memory_label} |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        rl, sn = r["naive"]["repeat last"], r["naive"]["seasonal naive"]
        lines.append(f"| {r['dataset']} | {r['horizon']} | {r['variant']} | {r['mse']:.3f} | {r['mae']:.3f} | {r['val_mse']:.3f} | "
                     f"{rl[0]:.3f}/{rl[1]:.3f} | {sn[0]:.3f}/{sn[1]:.3f} | {r['epochs']} | {r['epoch_s']:.0f} | "
                     f"{r['memory'] / 2**20:.0f} |")
    for dataset in args.datasets:
        mine = [r for r in rows if r["dataset"] == dataset and r["variant"] == "moe"]
        if len(mine) == 4:
            mse, mae, val = (sum(r[k] for r in mine) / 4 for k in ("mse", "mae", "val_mse"))
            lines.append(f"| {dataset} | avg | moe | {mse:.3f} | {mae:.3f} | {val:.3f} | | | | | |")
    lines.append("")
    published = PUBLISHED if args.seq_len == 96 else PUBLISHED_LONG
    for dataset, models in published.items():
        if dataset in args.datasets:
            lines.append(f"Published for {dataset} (input {'96' if args.seq_len == 96 else 'as noted'}; H96 / average): " + "; ".join(
                f"{name} {h96[0]:.3f}/{h96[1]:.3f} / {avg[0]:.3f}/{avg[1]:.3f}" for name, (h96, avg) in models.items()))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
