"""python -m MoE.eval --data ../shared/data/spider [--sample 150 --seed 0] [--single-shot | --compare | --modes ...]

Execution accuracy of the SQL mixture of experts on a Spider-layout question set; every question
goes to a JSONL file (resumable), and the summary table is printed (and, with --markdown, saved).
`--shard K/N` runs one of N interleaved parts (one process per core, each with its own --output);
`--summarise FILE...` prints the table of result files already written, without a model; with
`--same-as FILE...` also how many questions a second run of the same command answered with the same SQL.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from Qwen3.cli_support import one_line_errors
from Qwen3.errors import ConfigError

from .benchmark import (BenchmarkSettings, check_mode, format_summary, merge_results, run_benchmark, same_sql, shard,
                        summarise)
from .spider import load_spider

PROGRAM = "python -m MoE.eval"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Execution accuracy on a Spider-layout dataset.")
    parser.add_argument("--data", default="../shared/data/spider", help="folder with tables.json, database/, questions")
    parser.add_argument("--questions", default="dev_questions.json", help="questions file inside --data")
    parser.add_argument("--config", default="MoE/sql_moe_orchestrator_config.yaml",
                        help="orchestrator config: its runner and expert settings are used")
    parser.add_argument("--sample", type=int, help="a seeded sample of N questions, stratified by database")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shard", metavar="K/N", help="only the K-th of N interleaved parts of the questions (K from 0)")
    parser.add_argument("--summarise", nargs="+", metavar="FILE",
                        help="no run: the summary of these result files (e.g. the shards' outputs), merged")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--single-shot", action="store_true", help="one plain prompt to the same model, no experts")
    mode.add_argument("--compare", action="store_true", help="single-shot and the MoE on the same questions")
    parser.add_argument("--candidates", type=int, default=1,
                        help="with N > 1, also (or, without --compare, only) the MoE with N sql_writer candidates")
    parser.add_argument("--modes", nargs="+", metavar="MODE",
                        help="exactly these modes: single_shot, plain_retry, plain_xN, plain_retry_xN (baselines), "
                             "moe, moe_xN (overrides --single-shot, --compare and --candidates)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="change one setting of --config for this run (repeatable), e.g. linking.enabled=false")
    parser.add_argument("--label", help="record the modes as MODE:LABEL (an ablation beside the unchanged mode)")
    parser.add_argument("--same-as", nargs="+", metavar="FILE",
                        help="with --summarise: also how many questions got the same SQL in these result "
                             "files (the same command run again)")
    parser.add_argument("--baseline", help="the mode every other is compared with, question by question "
                                           "(default: plain_x3 when it ran, else single_shot)")
    parser.add_argument("--pair", action="append", default=[], metavar="MODE=OTHER",
                        help="with --same-as: compare MODE's SQL with OTHER's in the --same-as files "
                             "(repeatable), e.g. moe_x3:never_plan=moe_x3 for an ablation that sends the same prompts")
    parser.add_argument("--output", default="benchmarks/results/spider.jsonl",
                        help="JSONL of every question; an existing file is resumed")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per query when scoring")
    parser.add_argument("--markdown", help="also write the summary table to this file")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    with one_line_errors(PROGRAM):
        if args.summarise:
            records = merge_results(args.summarise)
            _print_table(records, args.markdown, args.baseline)
            if args.same_as:
                _print_same_sql(same_sql(records, merge_results(args.same_as), _pairs(args.pair)))
            return
        if args.same_as or args.pair:
            raise ConfigError("--same-as and --pair compare result files: use them with --summarise")
        dataset = load_spider(args.data, args.questions)
        questions = dataset.sample(args.sample, args.seed)
        if args.shard:
            questions = shard(questions, args.shard)
        modes = ("single_shot", "moe") if args.compare else ("single_shot",) if args.single_shot else ("moe",)
        if args.candidates > 1:
            modes = tuple(m for m in modes if m != "moe" or args.compare) + (f"moe_x{args.candidates}",)
        if args.modes:
            modes = tuple(check_mode(m) for m in args.modes)
        settings = BenchmarkSettings(args.config, Path(args.output), modes, args.timeout, tuple(args.set), args.label)
        print(f"{len(questions)} questions x {len(modes)} mode(s) -> {settings.output}", file=sys.stderr)
        records = run_benchmark(dataset, questions, settings, progress=_progress_bar)
        _print_table(records, args.markdown, args.baseline)


def _print_table(records: list[dict], markdown: str | None, baseline: str | None = None) -> None:
    if not records:
        raise ConfigError("no answered questions in the results")
    table = format_summary(summarise(records, baseline))
    print(table)
    if markdown:
        Path(markdown).write_text(table + "\n", encoding="utf-8")


def _pairs(items: list[str]) -> dict[str, str]:
    pairs = {}
    for item in items:
        mode, sep, other = item.partition("=")
        if not sep or not mode or not other:
            raise ConfigError(f"--pair {item!r}: expected MODE=OTHER, e.g. moe_x3:never_plan=moe_x3")
        pairs[mode] = other
    return pairs


def _print_same_sql(counts: dict[str, tuple[int, int]]) -> None:
    if not counts:
        raise ConfigError("--same-as: no question answered in both runs")
    print("\n| mode | same SQL in both runs | questions in both |\n|---|---|---|")
    for mode, (same, total) in sorted(counts.items()):
        print(f"| {mode} | {same} ({same / total:.1%}) | {total} |")


def _progress_bar(items, total):
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    bar = tqdm(items, total=total, unit="q", file=sys.stderr, dynamic_ncols=True)
    return bar


if __name__ == "__main__":
    main()
