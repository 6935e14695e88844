"""What the `ungrounded` warning's repair round does to execution accuracy, paired on the same questions.

    python benchmarks/grounding_ex.py --recorded R0.jsonl R1.jsonl --shard K/2     # one process per core
    python benchmarks/grounding_ex.py --recorded R0.jsonl R1.jsonl --summarise

`--recorded`: a finished `python -m MoE.eval` run of the shipped pipeline (mode `moe`). The warning can
only change a question on which the pipeline spent a repair round (a warning always gets one when
max_repair_rounds > 0), so only those questions are answered again, twice, on this commit: with the
shipped config ("on") and with `ungrounded` left out of `experts.repair_warnings` ("off": still
reported, still lowering the confidence, no round). The other questions keep their recorded answers in
both arms. Results go to benchmarks/results/grounding_{on,off}_K.jsonl (resumable).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from MoE.eval.benchmark import BenchmarkSettings, merge_results, run_benchmark, shard  # noqa: E402
from MoE.eval.paired import paired_gain  # noqa: E402
from MoE.eval.spider import load_spider  # noqa: E402

ARMS = {"on": ROOT / "benchmarks/configs/shipped_one_thread.yaml",
        "off": ROOT / "benchmarks/configs/ungrounded_not_repaired_one_thread.yaml"}
RESULTS = ROOT / "benchmarks/results"


def repaired(records: list[dict]) -> list[int]:
    """The questions on which the recorded run spent a repair round."""
    return sorted(r["index"] for r in records if r["mode"] == "moe" and r["rounds"] > 0)


def run(args, recorded: list[dict]) -> None:
    dataset = load_spider(args.data)
    wanted = set(repaired(recorded))
    questions = shard([q for q in dataset.questions if q.index in wanted], args.shard)
    k = args.shard.split("/")[0]
    for arm, config in ARMS.items():
        print(f"{arm}: {len(questions)} questions", file=sys.stderr)
        run_benchmark(dataset, questions, BenchmarkSettings(config, RESULTS / f"grounding_{arm}_{k}.jsonl"))


def summarise(recorded: list[dict]) -> str:
    kept = {r["index"]: r["match"] for r in recorded if r["mode"] == "moe"}
    rerun = repaired(recorded)
    arms = {arm: {r["index"]: r for r in merge_results(sorted(RESULTS.glob(f"grounding_{arm}_*.jsonl")))}
            for arm in ARMS}
    missing = [i for i in rerun if any(i not in arms[a] for a in ARMS)]
    if missing:
        return f"not finished: {len(missing)} of the {len(rerun)} questions still to answer in an arm"
    right = {arm: {i: arms[arm][i]["match"] for i in rerun} for arm in ARMS}
    total = {arm: sum(kept.values()) - sum(kept[i] for i in rerun) + sum(right[arm].values()) for arm in ARMS}
    fired = [i for i in rerun if any("[ungrounded]" in reason for reason in arms["on"][i].get("repairs", []))]
    gain = paired_gain(right["off"], right["on"])
    n = len(kept)
    lines = [f"questions: {n} recorded, {len(rerun)} answered again in each arm; the `ungrounded` warning "
             f"sent a repair round on {len(fired)} of them (on arm)",
             "", "| arm | right of the rerun | EX of all recorded |", "|---|---|---|"]
    lines += [f"| {arm} | {sum(right[arm].values())} / {len(rerun)} | {total[arm]} ({100 * total[arm] / n:.1f}) |"
              for arm in ARMS]
    lines += ["", f"on against off: won {gain.wins}, lost {gain.losses}"]
    changed = [i for i in fired if right["on"][i] != right["off"][i]]
    lines.append(f"of the questions with an ungrounded round: {len(changed)} changed outcome "
                 f"({sum(right['on'][i] for i in changed)} to right)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recorded", nargs="+", required=True, help="result files of the shipped pipeline")
    parser.add_argument("--data", default=str(ROOT.parent / "shared/data/spider"))
    parser.add_argument("--shard", default="0/1", metavar="K/N")
    parser.add_argument("--summarise", action="store_true", help="no run: the paired table of the arms")
    args = parser.parse_args()
    recorded = merge_results(args.recorded)
    if args.summarise:
        print(summarise(recorded))
    else:
        run(args, recorded)


if __name__ == "__main__":
    main()
