"""Question latency, side by side: single-shot, MoE x1 and MoE x3 on the same seeded Spider questions.

    python benchmarks/latency.py --backend llamacpp        # (a) llama.cpp, the packaged 1.5B model (the default runner)
    python benchmarks/latency.py --backend transformers    # (b) transformers + the decode engine on the CPU ('.[gguf]')
    python benchmarks/latency.py --backend server          # (c) the OpenAI-compatible backend against
                                                           #     python -m Qwen3.server over (b), which batches
    python benchmarks/latency.py --overhead                # the orchestrator's own work, no model
    python benchmarks/latency.py --backend transformers --variant plain_candidates   # the MoE modes configured
                                                           #     as one of benchmarks/ablations.py's variants
    python benchmarks/latency.py --backend transformers --batch-size 1 8   # every request decoded alone, then
                                                           #     up to 8 rows together: batching measured side by side

Per mode: wall seconds per question (p50, p95), prompt tokens per question and the share a prefix cache
served, EX. Every mode answers the same questions (a seeded sample stratified by database, --questions);
answers go to benchmarks/results/latency_<backend>[_<model>].jsonl (resumable, as `python -m MoE.eval`).
`--overhead` answers the questions with a model that replays the gold SQL at once (control flow
only), so each question's time is the orchestrator's own: linking, value grounding, checks, dry runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from MoE.eval.benchmark import BenchmarkSettings, database_config, run_benchmark  # noqa: E402
from MoE.eval.spider import load_spider  # noqa: E402
from MoE.sql.config import load_orchestrator_config  # noqa: E402
from MoE.sql.orchestrator import SQLMoEOrchestrator  # noqa: E402
from Qwen3 import Runner, load_config, load_runner  # noqa: E402
from ablations import VARIANTS  # noqa: E402  (benchmarks/: the configurations compared for issue 19)
from service_load import RoleBackend  # noqa: E402  (benchmarks/: the role-scripted model)

CONFIG = ROOT / "MoE" / "sql_moe_orchestrator_config.yaml"
MODES = ("single_shot", "moe", "moe_x3")


def runner_settings(backend: str, model: str | None = None, batch_size: int | None = None) -> dict:
    """The shipped runner, on the backend asked for (and with another model where one is named).
    `batch_size`: rows the transformers backend decodes together (1: each request alone)."""
    settings = load_orchestrator_config(CONFIG).runner_config().model_dump()
    settings["model"] = model or settings["model"]
    if backend == "transformers":
        settings.update(backend="transformers",
                        transformers=dict(settings["transformers"], engine="on", device="cpu", dtype="float32"))
        if batch_size is not None:
            settings["transformers"]["batch_size"] = batch_size
    return settings


class LocalServer:
    """python -m Qwen3.server on a free loopback port, for the OpenAI-compatible backend to call."""

    def __init__(self, settings: dict):
        self.config = Path(tempfile.mkdtemp()) / "runner.yaml"
        self.config.write_text(yaml.safe_dump(settings))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process = subprocess.Popen([sys.executable, "-m", "Qwen3.server", "--config", str(self.config),
                                         "--port", str(self.port)], cwd=ROOT)

    def wait(self, timeout_s: float = 600) -> str:
        import httpx

        url, deadline = f"http://127.0.0.1:{self.port}/v1", time.time() + timeout_s
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("the server exited before it answered")
            try:
                httpx.get(f"{url}/models", timeout=1)
                return url
            except httpx.HTTPError:
                time.sleep(1)
        raise SystemExit("the server did not come up")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def settings(mode: str, output: Path, variant: str | None) -> BenchmarkSettings:
    """The shipped config; for the MoE modes, with a --variant's settings when one is named."""
    varied = variant is not None and mode != "single_shot"
    return BenchmarkSettings(config=CONFIG, output=output, modes=(mode,),
                             overrides=VARIANTS[variant][1] if varied else (), label=variant if varied else None)


def percentile(values, q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else float("nan")


def table(records: list[dict], backend: str) -> list[str]:
    rows, modes = [], list(dict.fromkeys(r["mode"] for r in records))   # as run: moe_x3:LABEL for a --variant
    for mode in modes:
        mine = [r for r in records if r["mode"] == mode]
        seconds = [r["seconds"] for r in mine]
        prompt = sum(r["tokens"]["prompt"] for r in mine)
        reused = sum(r["tokens"].get("reused", 0) for r in mine)
        ex = 100 * sum(bool(r["match"]) for r in mine) / len(mine)
        rows.append(f"| {backend} | {mode.replace('_', '-')} | {len(mine)} | {percentile(seconds, 50):.1f} | "
                    f"{percentile(seconds, 95):.1f} | {prompt / len(mine):,.0f} | {reused / max(prompt, 1):.0%} | {ex:.1f} |")
    p50 = {m: percentile([r["seconds"] for r in records if r["mode"] == m], 50) for m in modes}
    if "single_shot" in p50:
        rows += [f"| {backend} | {mode.replace('_', '-')} / single-shot, p50 | | {p50[mode] / p50['single_shot']:.2f} | | | | |"
                 for mode in modes if mode.startswith("moe_x")]
    return rows


def repair_split(records: list[dict], backend: str) -> list[str]:
    """Mean seconds per question by whether any of its SQL went back to the sql_writer (the tail)."""
    lines = []
    for mode in dict.fromkeys(r["mode"] for r in records):
        mine = [r for r in records if r["mode"] == mode]
        repaired = [r["seconds"] for r in mine if r.get("repairs")]
        clean = [r["seconds"] for r in mine if not r.get("repairs")]
        lines.append(f"| {backend} | {mode.replace('_', '-')} | {len(clean)}: {_mean(clean)} | "
                     f"{len(repaired)}: {_mean(repaired)} |")
    return lines


def _mean(seconds: list[float]) -> str:
    return f"{sum(seconds) / len(seconds):.1f} s" if seconds else "-"


def breakdown(records: list[dict], backend: str) -> list[str]:
    """Mean seconds and generated tokens per question by expert. The sql_writer's column is the rest of
    the question's time (its calls, batched or not, with the checks and dry runs between them)."""
    rows = []
    for mode in dict.fromkeys(r["mode"] for r in records if r["mode"] != "single_shot"):
        mine = [r for r in records if r["mode"] == mode and "experts" in r]
        if not mine:
            continue
        cells = []
        for name in ("planner", "validator", "tie_break"):
            runs = [e for r in mine for e in r["experts"] if e["name"] == name]
            cells.append(f"{sum(e['seconds'] for e in runs) / len(mine):.1f} s, "
                         f"{sum(e['completion'] for e in runs) / len(mine):.0f} tok")
        others = sum(e["seconds"] for r in mine for e in r["experts"] if e["name"] != "sql_writer")
        written = sum(e["completion"] for r in mine for e in r["experts"] if e["name"] == "sql_writer")
        rest = (sum(r["seconds"] for r in mine) - others) / len(mine)
        rows.append(f"| {backend} | {mode.replace('_', '-')} | {cells[0]} | {rest:.1f} s, {written / len(mine):.0f} tok | "
                    f"{cells[1]} | {cells[2]} |")
    return rows


def overhead(dataset, questions) -> list[str]:
    gold = RoleBackend(delay_s=0, answers={q.question: q.gold for q in questions}, default="SELECT 1")
    runner = Runner(load_config({"generation": {"thinking": False}}), backend=gold)
    base, seconds, orchestrators = load_orchestrator_config(CONFIG), [], {}
    for q in questions:
        if q.db_id not in orchestrators:   # start-up (schema reading, value index) is not per question
            config = database_config(base, dataset.ddl(q.db_id), dataset.database_path(q.db_id))
            orchestrators[q.db_id] = SQLMoEOrchestrator(config, runner)
        started = time.perf_counter()
        orchestrators[q.db_id].run(q.question, extra_context=q.evidence)
        seconds.append(time.perf_counter() - started)
    for orchestrator in orchestrators.values():
        orchestrator.database.close()
    return [f"Orchestrator's own work per question (gold SQL replayed, no model), {len(seconds)} questions: "
            f"p50 {1000 * percentile(seconds, 50):.0f} ms, p95 {1000 * percentile(seconds, 95):.0f} ms, "
            f"max {1000 * max(seconds):.0f} ms."]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["llamacpp", "transformers", "server"], default="llamacpp")
    parser.add_argument("--overhead", action="store_true", help="only the orchestrator's own work (no model)")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "spider"))
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--model", help="another model than the shipped runner's (e.g. offline:qwen2.5-coder-0.5b)")
    parser.add_argument("--variant", choices=[v for v, (modes, _) in VARIANTS.items() if modes == ("moe_x3",)],
                        help="the MoE modes with one configuration of benchmarks/ablations.py (recorded as MODE:VARIANT)")
    parser.add_argument("--batch-size", type=int, nargs="+", help="with --backend transformers or server: rows "
                        "decoded together (transformers.batch_size; 1 = one request at a time, the unbatched "
                        "baseline); several sizes run in turn, each into its own _batch<N> answers file")
    parser.add_argument("--output", help="answers (JSONL; default benchmarks/results/latency_<backend>[_<model>].jsonl)")
    args = parser.parse_args()
    if args.batch_size is not None and (min(args.batch_size) < 1 or args.backend == "llamacpp"):
        parser.error("--batch-size takes positive numbers, with --backend transformers or server")
    dataset = load_spider(args.data)
    questions = dataset.sample(args.questions, args.seed)
    print(f"Command: `python benchmarks/latency.py {' '.join(sys.argv[1:])}`  ")
    print(f"Machine: {os.cpu_count()} cores ({platform.machine()}), Python {platform.python_version()}; "
          f"{time.strftime('%Y-%m-%d')}\n")
    if args.overhead:
        print("\n".join(overhead(dataset, questions)))
        return
    name = args.backend + (f"_{args.model.split(':')[-1]}" if args.model else "")
    output = Path(args.output or ROOT / "benchmarks" / "results" / f"latency_{name}.jsonl")
    runs, several = [], args.batch_size is not None and len(args.batch_size) > 1
    for size in args.batch_size or [None]:
        answers = output.with_name(f"{output.stem}_batch{size}{output.suffix}") if several else output
        label = args.backend + (f", batch {size}" if size is not None else "")
        runs.append((label, answer_all(args, dataset, questions, answers, size)))
    print("| backend | mode | questions | p50 s | p95 s | prompt tokens / question | served by a prefix cache | EX |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(row for label, records in runs for row in table(records, label)))
    if rows := [row for label, records in runs for row in breakdown(records, label)]:
        print("\nWhere a question's time goes (mean per question; seconds and generated tokens):\n")
        print("| backend | mode | planner | sql_writer (with checks) | validator | tie-break |")
        print("|---|---|---|---|---|---|")
        print("\n".join(rows))
    print("\nQuestions without and with a repair round (how many: mean seconds):\n")
    print("| backend | mode | no repair | a repair round |\n|---|---|---|---|")
    print("\n".join(row for label, records in runs for row in repair_split(records, label)))


def answer_all(args, dataset, questions, output: Path, batch_size: int | None) -> list[dict]:
    """Every mode over the questions, each mode on a fresh runner (and local server for --backend server)."""
    return [record for mode in args.modes for record in answer_mode(args, dataset, questions, output, batch_size, mode)]


def answer_mode(args, dataset, questions, output: Path, batch_size: int | None, mode: str) -> list[dict]:
    """One mode over every question on a runner of its own: its prefix cache holds only this mode's
    earlier prompts, as a user asking in turn gets - never the question's prompt that another mode just
    sent (single-shot's prompt is MoE x3's plain candidates' prompt)."""
    server = None
    if args.backend == "server":
        local = runner_settings("transformers", args.model, batch_size)
        server = LocalServer(local)
        runner = load_runner({"backend": "openai", "model": local["model"], "generation": local["generation"],
                              "openai": {"base_url": server.wait(), "api_key_env": None, "concurrency": 4}})
    else:
        runner = load_runner(runner_settings(args.backend, args.model, batch_size))
    try:
        return run_benchmark(dataset, questions, settings(mode, output, args.variant), runner=runner)
    finally:
        runner.close()
        if server is not None:
            server.close()


if __name__ == "__main__":
    main()
