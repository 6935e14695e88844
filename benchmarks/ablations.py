"""Is it the experts? Every baseline and every ablation of the MoE on the same questions, one command.

    python benchmarks/ablations.py --config benchmarks/configs/shipped_one_thread.yaml --shards 2 [--sample 150]
    python benchmarks/ablations.py --summarise
    python benchmarks/ablations.py [--variants ...] [--modes ...] --results benchmarks/results/rerun --same-as benchmarks/results
        (the same command again into another folder: how many questions get the same SQL twice)

Runs `python -m MoE.eval` for each variant and mode below, `--shards` processes at a time (one per core,
each with a one-thread runner), into benchmarks/results/ablation_<variant>_<mode>_<K>.jsonl (resumable).
Each shard of each mode is a process of its own, with its own model and prefix cache, so no mode finds
its schema prompt already cached because another mode just sent it for the same question. Then it prints
the merged table: EX, tokens and seconds per question, and each mode's paired gain over plain_x3.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# label -> (modes, --set overrides), in the order they run by default: the baselines, the shipped pipeline,
# the one-switch ablations, then the configurations added later (always_link, plain_candidates)
VARIANTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "baselines": (("single_shot", "plain_retry", "plain_x3", "plain_retry_x3"), ()),
    "shipped": (("moe", "moe_x3"), ()),
    "no_validator": (("moe_x3",), ("experts.validator_expert=false",)),
    "never_plan": (("moe_x3",), ("router.plan_threshold=99",)),
    "no_few_shot": (("moe_x3",), ("few_shot.count=0",)),
    "no_values": (("moe_x3",), ("values.enabled=false",)),
    "no_linking": (("moe_x3",), ("linking.enabled=false",)),
    "always_plan": (("moe_x3",), ("router.always_plan=true",)),
    # no_linking and no_few_shot change nothing where every schema is small and no examples file is set
    # (the shared Spider set): there, linking every schema is the switch that shows what linking does
    "always_link": (("moe_x3",), ("linking.full_schema_max_columns=0",)),
    # not an ablation: the orchestrator answering the way plain_retry_x3 does (plain-view candidates, each
    # repaired before the vote, ties to the greedy one, no validator expert), keeping the guard and the checks
    "plain_candidates": (("moe_x3",), ("experts.candidate_prompts=[plain]", "experts.repair_candidates=true",
                                       "experts.tie_break=plain", "experts.validator_expert=false")),
    # proposed defaults that must also pass the README demo (docs/benchmarks.md, the rule's points 5 and 6)
    "plain_advised": (("moe_x3",), ("experts.candidate_prompts=[plain]", "experts.repair_candidates=true",
                                    "experts.tie_break=plain", "experts.validator_expert=false",
                                    "experts.plain_advice=true")),
    "planned_and_plain": (("moe_x3",), ("experts.candidate_prompts=[planned, plain]", "experts.repair_candidates=true",
                                        "experts.tie_break=planned", "experts.validator_expert=false")),
    "plain_routed": (("moe_x3",), ("experts.candidate_prompts=[plain]", "experts.repair_candidates=true",
                                   "experts.tie_break=plain", "experts.validator_expert=false",
                                   "experts.several_measures_prompts=[planned]")),
    # plain_routed whose plain candidates are repaired as plain_retry_x3 repairs: the plain conversation continued
    "plain_conversation": (("moe_x3",), ("experts.candidate_prompts=[plain]", "experts.repair_candidates=true",
                                         "experts.tie_break=plain", "experts.validator_expert=false",
                                         "experts.several_measures_prompts=[planned]",
                                         "experts.plain_repairs=conversation")),
}


def commands(args) -> list[list[str]]:
    runs = []
    for label in args.variants:
        modes, overrides = VARIANTS[label]
        chosen = [m for m in modes if not args.modes or m in args.modes]
        for mode, k in ((mode, k) for mode in chosen for k in range(args.shards)):
            command = [sys.executable, "-m", "MoE.eval", "--data", args.data, "--config", args.config,
                       "--modes", mode, "--shard", f"{k}/{args.shards}",
                       "--output", str(args.results / f"ablation_{label}_{mode}_{k}.jsonl")]
            if args.sample:
                command += ["--sample", str(args.sample), "--seed", str(args.seed)]
            for item in overrides:
                command += ["--set", item]
            if overrides:
                command += ["--label", label]
            runs.append(command)
    return runs


def run_all(runs: list[list[str]], workers: int) -> None:
    """Each command in its own process, `workers` at a time, in order: a worker whose shard finished early
    starts the next command instead of waiting for the other shards (every process has its own model and
    prefix cache, so one mode never sees another's prompts)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        codes = list(pool.map(lambda command: subprocess.call(command, cwd=ROOT), runs))
    if any(codes):
        sys.exit("a run failed; rerun the same command to resume")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "benchmarks" / "configs" / "shipped_one_thread.yaml"))
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "spider"))
    parser.add_argument("--shards", type=int, default=2, help="processes at a time, one per core")
    parser.add_argument("--sample", type=int, help="a seeded sample of N questions (default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS),
                        help="only these (default: all, in the order listed)")
    parser.add_argument("--modes", nargs="+", help="only these modes of the chosen variants (default: all)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the folder of the result files")
    parser.add_argument("--same-as", type=Path, metavar="FOLDER",
                        help="also count the questions answered with the same SQL as in this folder's files")
    parser.add_argument("--summarise", action="store_true", help="no run: the table of the files written")
    args = parser.parse_args()
    if not args.summarise:
        run_all(commands(args), args.shards)
    files = sorted(str(p) for p in args.results.glob("ablation_*.jsonl"))
    if not files:
        sys.exit(f"no ablation results in {args.results} yet: run without --summarise first")
    command = [sys.executable, "-m", "MoE.eval", "--summarise", *files, "--baseline", "plain_x3"]
    if args.same_as:
        command += ["--same-as", *sorted(str(p) for p in args.same_as.glob("ablation_*.jsonl"))]
    sys.exit(subprocess.call(command, cwd=ROOT))


if __name__ == "__main__":
    main()
