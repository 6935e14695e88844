"""Execution accuracy on the shared Spider subset, single-shot beside the MoE; results to docs/benchmarks.md.

    python benchmarks/spider.py --sample 150 --seed 0 [--candidates 3 --candidate-questions 20] [--write-docs]

The run itself is `python -m MoE.eval` (same options, same resumable JSONL); this script adds the
candidate-selection comparison on a subset of the same questions and writes the tables, with the
model, the machine, the command and the date, to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from MoE.eval.__main__ import _progress_bar  # noqa: E402
from MoE.eval.benchmark import BenchmarkSettings, format_summary, run_benchmark, summarise  # noqa: E402
from MoE.eval.spider import load_spider  # noqa: E402
from MoE.sql.config import load_orchestrator_config  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "spider"))
    parser.add_argument("--config", default=str(REPO / "MoE" / "sql_moe_orchestrator_config.yaml"))
    parser.add_argument("--sample", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--candidates", type=int, default=1, help="N > 1: also the MoE with N candidates ...")
    parser.add_argument("--candidate-questions", type=int, default=20, help="... on this many of the questions")
    parser.add_argument("--output", default=str(REPO / "benchmarks" / "results" / "spider.jsonl"))
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    dataset = load_spider(args.data)
    questions = dataset.sample(args.sample, args.seed)
    settings = BenchmarkSettings(args.config, Path(args.output), ("single_shot", "moe"))
    records = run_benchmark(dataset, questions, settings, progress=_progress_bar)
    tables = [("Single-shot and the MoE on the same questions", format_summary(summarise(records)))]
    if args.candidates > 1:
        subset = questions[::max(len(questions) // args.candidate_questions, 1)][:args.candidate_questions]
        modes = ("single_shot", "moe", f"moe_x{args.candidates}")
        subset_records = run_benchmark(dataset, subset, BenchmarkSettings(args.config, Path(args.output), modes),
                                       progress=_progress_bar)
        tables.append((f"Candidate selection ({args.candidates} candidates) on {len(subset)} of those questions",
                       format_summary(summarise(subset_records))))
    for title, table in tables:
        print(f"\n{title}\n\n{table}")
    if args.write_docs:
        write_docs(args, tables)


def write_docs(args, tables) -> None:
    runner = load_orchestrator_config(args.config).runner_config()
    command = " ".join(["python benchmarks/spider.py"] + sys.argv[1:])
    with (REPO / "docs" / "benchmarks.md").open("a", encoding="utf-8") as out:
        out.write(f"\n### Spider execution accuracy ({datetime.date.today()})\n\n"
                  f"Command: `{command}`  \nMachine: {os.cpu_count()} cores, {platform.machine()}, Python "
                  f"{platform.python_version()}; model `{runner.model}` ({runner.backend}), greedy.  \n"
                  f"Questions: a sample of {args.sample} of the 547 shared dev questions, seed {args.seed}, "
                  f"stratified by database; every answer in `{Path(args.output).name}`.\n")
        for title, table in tables:
            out.write(f"\n{title}:\n\n{table}\n")


if __name__ == "__main__":
    main()
