"""Run the orchestrator (or a single plain prompt to the same model) over a Spider-layout question set.

Every answered question is appended to a JSONL file at once, so an interrupted run resumes where it
stopped: questions already in the file (same mode) are skipped. One runner serves every database.
"""

from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from Qwen3 import Runner, load_runner
from Qwen3.config import validate_section
from Qwen3.errors import ConfigError

from ..sql.config import OrchestratorConfig, load_orchestrator_config
from ..sql.orchestrator import SQLMoEOrchestrator
from .baselines import plain_answer, plain_mode
from .paired import paired_gain
from .scoring import execution_accuracy, execution_match
from .spider import HARDNESS, Question, SpiderDataset

# single_shot, plain_retry, plain_xN, plain_retry_xN (baselines.py); moe, moe_xN (the MoE with N sql_writer
# candidates, self-consistency)
MODES = ("single_shot", "plain_retry", "plain_x3", "plain_retry_x3", "moe", "moe_x3")



@dataclass(frozen=True)
class BenchmarkSettings:
    config: str | Path                 # the orchestrator config whose runner and expert settings are used
    output: Path                       # JSONL of every answered question
    modes: tuple[str, ...] = ("moe",)
    timeout_s: float = 30.0            # per query, when scoring
    overrides: tuple[str, ...] = ()    # "section.key=value" changes to the config (YAML values), e.g. an ablation
    label: str | None = None           # recorded as "mode:label", so ablations of one mode sit side by side


CONFIDENCE_LEVELS = ("high", "medium", "low", "none")


def candidates_of(mode: str) -> int:
    """moe -> 1, moe_x3 -> 3."""
    return int(mode.split("_x", 1)[1]) if "_x" in mode else 1


def with_overrides(config: OrchestratorConfig, overrides: Iterable[str]) -> OrchestratorConfig:
    """The config with "section.key=value" settings applied (the value read as YAML: false, 3, [a, b])."""
    data = config.model_dump(by_alias=True)
    for item in overrides:
        path, sep, value = item.partition("=")
        keys = path.strip().split(".")
        if not sep or len(keys) != 2 or not isinstance(data.get(keys[0]), dict) or keys[1] not in data[keys[0]]:
            raise ConfigError(f"--set {item!r}: give section.key=value with a key of the orchestrator config "
                              "(e.g. linking.enabled=false)")
        data[keys[0]][keys[1]] = yaml.safe_load(value)
    return validate_section(OrchestratorConfig, data)


def check_mode(mode: str) -> str:
    if plain_mode(mode) is None and re.fullmatch(r"moe(_x[1-9])?", mode) is None:
        raise ConfigError(f"unknown mode {mode!r}: single_shot, plain_retry, plain_xN, plain_retry_xN, moe or moe_xN")
    return mode


def database_config(base: OrchestratorConfig, ddl: str, database: Path, candidates: int = 1) -> OrchestratorConfig:
    """The base config pointed at one SQLite database: its schema, its dialect, opened read-only."""
    data = base.model_dump(by_alias=True)
    data["experts"] = dict(data["experts"], candidates=candidates)
    data["schema"] = {"ddl": ddl, "dialect": "sqlite", "schema_file": None}
    data["dialect"] = "sqlite"
    data["database"] = dict(data["database"], kind="url", url=f"sqlite:///{database.resolve()}")
    return validate_section(OrchestratorConfig, data)


def load_done(path: Path) -> dict[tuple[str, int], dict[str, Any]]:
    """Records already written, by (mode, question index); a torn last line is ignored."""
    done = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
                done[(record["mode"], record["index"])] = record
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return done


def shard(questions: list[Question], spec: str) -> list[Question]:
    """The K-th of N interleaved parts ("K/N", K from 0): N processes, each with its own output file,
    share the questions between them; `merge_results` joins their files."""
    try:
        k, n = (int(part) for part in spec.split("/"))
    except ValueError:
        raise ConfigError(f"--shard takes K/N, e.g. 0/2 (got {spec!r})") from None
    if not 0 <= k < n:
        raise ConfigError(f"--shard {spec}: K must be at least 0 and below N")
    return questions[k::n]


def merge_results(paths: list[str | Path]) -> list[dict[str, Any]]:
    """The records of several result files (shards, or runs over other questions), one per (mode,
    question): the first file that answered a question wins."""
    merged: dict[tuple[str, int], dict[str, Any]] = {}
    for path in map(Path, paths):
        if not path.is_file():
            raise ConfigError(f"results file not found: {path}")
        for key, record in load_done(path).items():
            merged.setdefault(key, record)
    return list(merged.values())


def same_sql(first: list[dict[str, Any]], second: list[dict[str, Any]],
             pairs: dict[str, str] | None = None) -> dict[str, tuple[int, int]]:
    """Per mode, (questions whose final SQL is the same string in both runs, questions both answered):
    how repeatable a run is. `pairs` maps a mode of `first` to the mode of `second` it is compared with
    (an ablation such as "moe_x3:never_plan" that sends the same prompts as "moe_x3"); others pair by name."""
    pairs = pairs or {}
    answers = {(r["mode"], r["index"]): r["prediction"] for r in second}
    counts: dict[str, list[int]] = {}
    for r in first:
        if (key := (pairs.get(r["mode"], r["mode"]), r["index"])) in answers:
            count = counts.setdefault(r["mode"], [0, 0])
            count[0] += r["prediction"] == answers[key]
            count[1] += 1
    return {mode: (same, total) for mode, (same, total) in counts.items()}


def run_benchmark(dataset: SpiderDataset, questions: list[Question], settings: BenchmarkSettings,
                  runner: Runner | None = None, progress: Callable[[Iterable, int], Iterable] | None = None
                  ) -> list[dict[str, Any]]:
    """Answer and score every (mode, question) not yet in the output file; returns all records for them."""
    base = with_overrides(load_orchestrator_config(settings.config), settings.overrides)
    done = load_done(settings.output)
    named = {m: f"{m}:{settings.label}" if settings.label else m for m in settings.modes}
    todo = [(m, q) for q in questions for m in settings.modes if (named[m], q.index) not in done]
    records = [done[(named[m], q.index)] for q in questions for m in settings.modes if (named[m], q.index) in done]
    if not todo:
        return records
    own_runner = runner is None
    runner = runner or load_runner(base.runner_config())
    orchestrators: dict[tuple[str, str], SQLMoEOrchestrator] = {}
    settings.output.parent.mkdir(parents=True, exist_ok=True)
    try:
        with settings.output.open("a", encoding="utf-8") as out:
            for mode, question in (progress or (lambda it, _n: it))(todo, len(todo)):
                record = dict(_answer(mode, question, dataset, base, runner, orchestrators, settings.timeout_s),
                              mode=named[mode])
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                records.append(record)
    finally:
        for orchestrator in orchestrators.values():
            if orchestrator.database is not None:
                orchestrator.database.close()
        if own_runner:
            runner.close()
    return records


def _answer(mode: str, q: Question, dataset: SpiderDataset, base: OrchestratorConfig, runner: Runner,
            orchestrators: dict[tuple[str, str], SQLMoEOrchestrator], timeout_s: float) -> dict[str, Any]:
    started = time.perf_counter()
    db_path = dataset.database_path(q.db_id)
    rounds, notes, error, candidates, confidence, repairs, experts = 0, [], None, [], None, [], []
    if (plain := plain_mode(mode)) is not None:
        answer = plain_answer(runner, plain, dataset.ddl(q.db_id), q.question, db_path, q.evidence, timeout_s=timeout_s)
        sql, tokens, rounds, candidates = answer.sql, answer.tokens, answer.retries, answer.candidates
    else:
        key = (mode, q.db_id)
        if key not in orchestrators:
            config = database_config(base, dataset.ddl(q.db_id), db_path, candidates_of(mode))
            orchestrators[key] = SQLMoEOrchestrator(config, runner)
        result = orchestrators[key].run(q.question, extra_context=q.evidence)
        sql, tokens, rounds, notes, error = result.sql, result.tokens, result.repair_rounds, result.notes, result.error
        candidates, repairs = result.candidates, result.repair_reasons
        confidence = result.confidence.level if result.confidence is not None else None
        experts = [{"name": e.name, "seconds": round(e.seconds, 2), "completion": e.completion_tokens}
                   for e in result.experts]
    seconds = time.perf_counter() - started
    match, exec_error = execution_match(db_path, q.gold, sql, timeout_s)
    record = {"mode": mode, "index": q.index, "db_id": q.db_id, "hardness": q.hardness, "question": q.question,
              "gold": q.gold, "prediction": sql, "match": match, "error": error or exec_error, "rounds": rounds,
              "notes": notes, "tokens": tokens, "seconds": round(seconds, 2), "confidence": confidence,
              "repairs": repairs}
    if experts:  # where the time went: each expert call (a batch's calls each count from the batch's start)
        record["experts"] = experts
    if candidates:  # each candidate scored too: how often selection missed a right answer it had
        record["candidates"] = [dict(c, match=execution_match(db_path, q.gold, c["sql"], timeout_s)[0])
                                for c in candidates]
    return record


def summarise(records: list[dict[str, Any]], baseline: str | None = None) -> dict[str, Any]:
    """EX per mode: overall, by database and by hardness, with mean seconds and tokens per question, and
    each mode's paired gain over `baseline` (default: plain_x3 when it ran, else single_shot)."""
    summary: dict[str, Any] = {}
    order = {m: i for i, m in enumerate(MODES)}
    for mode in sorted({r["mode"] for r in records}, key=lambda m: (order.get(m, len(MODES)), m)):
        rows = [r for r in records if r["mode"] == mode]
        if not rows:
            continue
        by_db, by_level = defaultdict(list), defaultdict(list)
        for r in rows:
            by_db[r["db_id"]].append(r["match"])
            by_level[r["hardness"]].append(r["match"])
        levels = [h for h in HARDNESS if h in by_level] + sorted(set(by_level) - set(HARDNESS))
        summary[mode] = {
            "n": len(rows), "ex": execution_accuracy([r["match"] for r in rows]),
            "by_database": {db: (execution_accuracy(m), len(m)) for db, m in sorted(by_db.items())},
            "by_hardness": {h: (execution_accuracy(by_level[h]), len(by_level[h])) for h in levels},
            "seconds": sum(r["seconds"] for r in rows) / len(rows),
            "tokens": sum(r["tokens"]["prompt"] + r["tokens"]["completion"] for r in rows) / len(rows),
            "errors": sum(1 for r in rows if r["error"]),
        }
        levels_seen = [lv for lv in CONFIDENCE_LEVELS if any(r.get("confidence") == lv for r in rows)]
        if levels_seen:   # how often each confidence level is right, and how often it is given
            summary[mode]["by_confidence"] = {lv: (execution_accuracy([r["match"] for r in rows
                                                                       if r.get("confidence") == lv]),
                                                   sum(r.get("confidence") == lv for r in rows))
                                              for lv in levels_seen}
        if any("candidates" in r for r in rows):
            summary[mode]["any_candidate"] = execution_accuracy(
                [r["match"] or any(c["match"] for c in r.get("candidates", ())) for r in rows])
    baseline = baseline or ("plain_x3" if "plain_x3" in summary else "single_shot")
    if baseline in summary:  # each mode against the baseline, question by question
        right = {m: {r["index"]: bool(r["match"]) for r in records if r["mode"] == m} for m in summary}
        for mode in summary:
            gain = paired_gain(right[baseline], right[mode]) if mode != baseline else None
            if gain is not None:
                summary[mode]["gain"] = dict(gain.to_dict(), baseline=baseline)
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """A markdown table: one column per mode, rows for overall EX, hardness levels and databases."""
    modes = list(summary)
    head = "| | " + " | ".join(f"{m.replace('_', '-')} EX" for m in modes) + " |\n|---|" + "---|" * len(modes)
    counts = {summary[m]["n"] for m in modes}   # modes run on different questions say so in each cell
    lines = [head, "| **all** (n={}) | ".format(summary[modes[0]]["n"]) + " | ".join(
        f"**{summary[m]['ex']:.1f}**" + (f" (n={summary[m]['n']})" if len(counts) > 1 else "") for m in modes) + " |"]
    for key in ("by_hardness", "by_database"):
        names = list(summary[modes[0]][key])
        for name in names:
            cells = [summary[m][key].get(name, (0.0, 0)) for m in modes]
            lines.append(f"| {name} (n={cells[0][1]}) | " + " | ".join(f"{ex:.1f}" for ex, _ in cells) + " |")
    lines.append("| seconds per question | " + " | ".join(f"{summary[m]['seconds']:.1f}" for m in modes) + " |")
    lines.append("| tokens per question | " + " | ".join(f"{summary[m]['tokens']:.0f}" for m in modes) + " |")
    lines.append("| no SQL or SQL error | " + " | ".join(str(summary[m]["errors"]) for m in modes) + " |")
    if any("gain" in summary[m] for m in modes):
        cells = [summary[m].get("gain") for m in modes]
        baseline = next(g["baseline"] for g in cells if g).replace("_", "-")
        lines.append(f"| gain over {baseline}, EX points (95% interval) | " + " | ".join(
            f"{g['gain']:+.1f} ({g['low']:+.1f} to {g['high']:+.1f})" if g else "" for g in cells) + " |")
        lines.append(f"| questions won / lost against {baseline} (sign test p) | " + " | ".join(
            f"{g['wins']} / {g['losses']} (p {g['p_value']:.3f})" if g else "" for g in cells) + " |")
    for level in CONFIDENCE_LEVELS:
        if any(level in summary[m].get("by_confidence", {}) for m in modes):
            cells = [summary[m].get("by_confidence", {}).get(level) for m in modes]
            lines.append(f"| confidence {level}: EX (share of answers) | " + " | ".join(
                f"{ex:.1f} ({n / summary[m]['n']:.0%})" if (ex, n) != (None, None) and n else ""
                for m, (ex, n) in zip(modes, [c or (None, None) for c in cells])) + " |")
    if any("any_candidate" in summary[m] for m in modes):
        lines.append("| some candidate right (selection's ceiling) | " + " | ".join(
            f"{summary[m]['any_candidate']:.1f}" if "any_candidate" in summary[m] else "" for m in modes) + " |")
    return "\n".join(lines)
