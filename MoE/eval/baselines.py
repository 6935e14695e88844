"""Plain-prompt baselines the MoE must beat, in the same harness, on the same model.

    single_shot      one plain prompt, greedy
    plain_retry      the same, and when its SQL fails on the database the error goes back once
                     (execution feedback alone)
    plain_xN         N plain answers (the first greedy, the others sampled), executed, and the one
                     whose result most of them agree on (self-consistency alone; MoE/sql/candidates.py)
    plain_retry_xN   both

Every statement runs on the question's SQLite file opened read-only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from Qwen3 import Runner

from ..sql.candidates import result_signature
from ..sql.database import QueryResult
from ..sql.experts import plain_messages, split_sql_answer
from .scoring import Execution, run_sqlite

SAMPLE_TEMPERATURE = 0.8            # as the MoE's sampled candidates (experts.candidate_temperature)
RETRY = "That query failed on the database: {error}\nWrite the corrected query in a ```sql code block."
_PLAIN = re.compile(r"^(single_shot|plain(?P<retry>_retry)?(?:_x(?P<n>\d+))?)$")


@dataclass(frozen=True)
class PlainMode:
    samples: int = 1
    retry: bool = False


@dataclass
class PlainAnswer:
    sql: str
    tokens: dict[str, int] = field(default_factory=lambda: {"prompt": 0, "completion": 0, "reused": 0})
    retries: int = 0
    candidates: list[dict] = field(default_factory=list)   # with samples > 1: each answer's SQL and error


def plain_mode(mode: str) -> PlainMode | None:
    """single_shot, plain_retry, plain_x3, plain_retry_x3 -> their settings; None for other modes."""
    match = _PLAIN.match(mode)
    if match is None:
        return None
    return PlainMode(int(match.group("n") or 1), bool(match.group("retry")))


def plain_answer(runner: Runner, mode: PlainMode, ddl: str, question: str, database: str | Path,
                 evidence: str = "", max_new_tokens: int = 400, timeout_s: float = 30.0) -> PlainAnswer:
    answer, runs = PlainAnswer(""), []
    for k in range(mode.samples):
        messages = plain_messages("sqlite", ddl, question, evidence)
        temperature = 0.0 if k == 0 else SAMPLE_TEMPERATURE
        sql, text = _ask(runner, messages, temperature, k + 1, max_new_tokens, answer)
        run = run_sqlite(database, sql, timeout_s) if sql else Execution(None, "no SQL in the answer")
        if mode.retry and run.error is not None:
            messages += [{"role": "assistant", "content": text}, {"role": "user", "content": RETRY.format(error=run.error)}]
            sql, _ = _ask(runner, messages, temperature, k + 101, max_new_tokens, answer)
            run = run_sqlite(database, sql, timeout_s) if sql else Execution(None, "no SQL in the answer")
            answer.retries += 1
        runs.append((sql, run))
    answer.sql = _agreed(runs)
    if mode.samples > 1:
        answer.candidates = [{"sql": sql, "error": run.error} for sql, run in runs]
    return answer


def _ask(runner: Runner, messages, temperature: float, seed: int, max_new_tokens: int,
         answer: PlainAnswer) -> tuple[str, str]:
    completion = runner.chat(messages, thinking=False, temperature=temperature, seed=seed,
                             max_new_tokens=max_new_tokens)
    answer.tokens["prompt"] += completion.usage.prompt_tokens
    answer.tokens["completion"] += completion.usage.completion_tokens
    answer.tokens["reused"] += completion.usage.reused_prompt_tokens
    return split_sql_answer(completion.text)[0], completion.text


def _agreed(runs: list[tuple[str, Execution]]) -> str:
    """The SQL of the largest group of answers with equal results (non-empty results first, then the
    group with the earliest answer); the first answer when none ran."""
    groups: dict[tuple, list[int]] = {}
    for i, (_, run) in enumerate(runs):
        if run.error is None:
            result = QueryResult(tuple(str(c) for c in range(len(run.rows[0]) if run.rows else 0)), run.rows,
                                 False, 0.0)
            groups.setdefault(result_signature(result), []).append(i)
    if not groups:
        return runs[0][0]
    best = min(groups.values(), key=lambda g: (not runs[g[0]][1].rows, -len(g), g[0]))
    return runs[best[0]][0]
