"""Load time, speed and memory of the packaged offline models on this machine's CPU.

    python benchmarks/offline_model.py                       # both models, llama.cpp and transformers
    python benchmarks/offline_model.py --models qwen2.5-coder-1.5b --backends llamacpp

Each (model, backend) pair runs in a fresh subprocess so peak RSS is its own. The transformers
backend loading the same GGUF (dequantised to float32) is the baseline for the llama.cpp backend.
Prints a Markdown table; --write appends it to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = ("Schema: CREATE TABLE orders (order_id INTEGER PRIMARY KEY, order_date DATE, total_amount DECIMAL(12,2));\n"
            "Write one SQLite query for the total order amount per month in 2024. Answer with SQL only.")


def measure(model: str, backend: str, new_tokens: int) -> dict:
    import resource

    from Qwen3 import load_runner

    started = time.perf_counter()
    runner = load_runner({"backend": backend, "model": f"offline:{model}",
                          "generation": {"thinking": False, "max_new_tokens": new_tokens, "seed": 0},
                          "llamacpp": {"n_ctx": 2048}})
    load_s = time.perf_counter() - started
    runner.chat("Say hi.", temperature=0, max_new_tokens=4)  # warm-up
    c = runner.chat(QUESTION, temperature=0, stop=[])
    rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    return {"model": model, "backend": backend, "load_s": load_s, "first_token_s": c.timings.first_token_s,
            "tokens": c.usage.completion_tokens, "prompt_tokens": c.usage.prompt_tokens,
            "tokens_per_s": c.tokens_per_s, "total_s": c.timings.total_s, "peak_rss_gb": rss_gb,
            "answer": c.text}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"])
    parser.add_argument("--backends", nargs="+", default=["llamacpp", "transformers"])
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--write", action="store_true", help="append the table to docs/benchmarks.md")
    parser.add_argument("--one", nargs=2, metavar=("MODEL", "BACKEND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], args.one[1], args.new_tokens)))
        return
    rows = []
    for model in args.models:
        for backend in args.backends:
            out = subprocess.run([sys.executable, __file__, "--one", model, backend, "--new-tokens", str(args.new_tokens)],
                                 capture_output=True, text=True, cwd=ROOT)
            if out.returncode != 0:
                print(f"{model} / {backend} failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
                continue
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"done: {model} / {backend}", file=sys.stderr)
    table = render(rows, args)
    print(table)
    if args.write:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as f:
            f.write("\n" + table)


def render(rows: list[dict], args) -> str:
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else platform.processor()
    lines = [
        f"### Offline models on the CPU ({datetime.date.today().isoformat()})",
        "",
        f"Command: `python benchmarks/offline_model.py --models {' '.join(args.models)} --backends {' '.join(args.backends)}"
        f" --new-tokens {args.new_tokens}`  ",
        f"Machine: {os.cpu_count()} cores ({cpu}), torch {torch.__version__}, Python {platform.python_version()}; "
        f"greedy, one run each, after a 4-token warm-up. Prompt: a one-table SQL question.",
        "",
        "| model | backend | load (s) | first token (s) | tokens | decode tok/s | total (s) | peak RSS (GB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['model']} | {r['backend']} | {r['load_s']:.1f} | {r['first_token_s']:.2f} | {r['tokens']} | "
                     f"{r['tokens_per_s']:.1f} | {r['total_s']:.1f} | {r['peak_rss_gb']:.1f} |")
    lines.append("")
    for r in rows:
        lines.append(f"- {r['model']} / {r['backend']} answered: `{' '.join(r['answer'].split())[:160]}`")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
