"""Peak memory of the default time-series MoE configuration, sequential against all experts at once.

    python benchmarks/ts_memory.py [--batch-size 32] [--seq-len 96] [--horizon 96] [--write]

Each variant trains for a few steps in a fresh process on ETTh1-shaped input (7 channels). On a GPU
it reports torch.cuda.max_memory_allocated; on the CPU the process's peak resident memory
(ru_maxrss, which includes the ~0.3 GB that importing torch costs), beside the bytes autograd saved
for one backward pass.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(sequential: bool, batch: int, seq_len: int, horizon: int, steps: int) -> dict:
    import resource

    import torch

    from MoE.time_series import RouterConfig, TimeSeriesMoE, default_experts

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = "fp16" if device.type == "cuda" else "fp32"
    model = TimeSeriesMoE(default_experts(), RouterConfig(precision=precision, sequential=sequential),
                          seq_len=seq_len, horizon=horizon, input_dim=7).to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.randn(batch, seq_len, 7, device=device), torch.randn(batch, horizon, 7, device=device)
    saved = 0

    def pack(t):
        nonlocal saved
        saved += t.numel() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model.loss(model(x), y).backward()
    optimizer.zero_grad(set_to_none=True)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    dtype = model.autocast_dtype(device)
    for _ in range(steps):
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = model.loss(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    peak = torch.cuda.max_memory_allocated() if device.type == "cuda" else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"sequential": sequential, "device": str(device), "params": sum(p.numel() for p in model.parameters()),
            "peak_bytes": peak, "saved_bytes": saved}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=96)
    parser.add_argument("--horizon", type=int, default=96)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--one", choices=["sequential", "parallel"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one == "sequential", args.batch_size, args.seq_len, args.horizon, args.steps)))
        return
    rows = []
    for variant in ("sequential", "parallel"):
        out = subprocess.run([sys.executable, __file__, "--one", variant, "--batch-size", str(args.batch_size),
                              "--seq-len", str(args.seq_len), "--horizon", str(args.horizon), "--steps",
                              str(args.steps)], capture_output=True, text=True, cwd=ROOT, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    label = "CUDA peak allocated" if rows[0]["device"].startswith("cuda") else "peak RSS of the process"
    lines = [f"### Default configuration memory ({datetime.date.today().isoformat()})", "",
             f"Command: `python benchmarks/ts_memory.py --batch-size {args.batch_size} --seq-len {args.seq_len} "
             f"--horizon {args.horizon}`  ",
             f"Machine: {rows[0]['device']}, {os.cpu_count()} cores, Python {platform.python_version()}; default "
             f"ExpertConfig x3 (d_model 64, 2 layers), {rows[0]['params']:,} parameters, 7 channels.", "",
             f"| execution | {label} (MB) | saved for backward per step (MB) |", "|---|---|---|"]
    for r in rows:
        name = "sequential (checkpointed)" if r["sequential"] else "all experts at once"
        lines.append(f"| {name} | {r['peak_bytes'] / 2**20:.0f} | {r['saved_bytes'] / 2**20:.0f} |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.write:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as f:
            f.write("\n" + table)


if __name__ == "__main__":
    main()
