"""How far to trust an answer: a level and its reasons, from what the pipeline already knows.

The rule, fixed before it was measured (docs/sql-orchestrator.md repeats it):

- **none**  no SQL passed every check: the answer is a failure, whatever the explanation says.
- **low**   it passed, but something speaks against it: a warning left (fan-out, unused join, a filter
            the question does not ask for, ...), an empty result, candidates that disagree (the chosen
            result has no majority), two or more repair rounds by the writer, or the time budget ran out.
- **high**  it passed with nothing against it, the writer's first SQL (or a mechanical fix of it) stood,
            the result has rows, and with several candidates a majority agrees.
- **medium** everything else (one repair round by the writer, a revision by the validator expert).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["high", "medium", "low", "none"]


@dataclass(frozen=True)
class Confidence:
    level: Level
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.level}: " + "; ".join(self.reasons)


def assess(result) -> Confidence:
    """The confidence of an OrchestrationResult (read, not changed)."""
    report = result.report
    if not result.ok:
        failure = result.error or "; ".join(str(i) for i in report.issues) if report is not None else result.error
        return Confidence("none", (failure or "no SQL passed the checks",))
    rows = len(result.rows.rows) if result.rows is not None else report.dry_run_rows
    chosen = next((c for c in result.candidates if c["chosen"]), None)
    votes = (chosen["votes"], len(result.candidates)) if chosen is not None and len(result.candidates) > 1 else None
    writer_rounds = sum(r.endswith("back to the sql_writer") for r in result.repair_reasons)
    revised = any(n.startswith("validator expert revised the SQL") for n in result.notes)
    return rate(report.passed, [str(w) for w in report.warnings], rows, writer_rounds, votes, revised,
                result.out_of_time)


def rate(passed: tuple[str, ...], warnings: list[str], rows: int | None, writer_rounds: int,
         votes: tuple[int, int] | None, revised: bool, out_of_time: bool) -> Confidence:
    """The rule above, for SQL that passed every check. `rows`: rows the executed (or dry-run) query returned,
    None when unknown; `votes`: (agreeing candidates, candidates) when there were several."""
    against, support = [], [f"passed {', '.join(passed)}"]
    against += [f"warning {w}" for w in warnings]
    if rows == 0:
        against.append("the query returns no rows")
    elif rows:
        support.append("the query returns rows")
    if votes is not None:
        agree, total = votes
        (support if agree * 2 > total else against).append(f"{agree} of {total} candidates agree on the result")
    if writer_rounds >= 2:
        against.append(f"{writer_rounds} repair rounds were needed")
    if out_of_time:
        against.append("the time budget ran out before every step ran")
    if against:
        return Confidence("low", tuple(against))
    doubts = []
    if writer_rounds == 1:
        doubts.append("the first SQL failed a check and was rewritten once")
    if revised:
        doubts.append("the validator expert rewrote the SQL")
    if rows is None:
        doubts.append("the query was not run on a database")
    if doubts:
        return Confidence("medium", tuple(support + doubts))
    return Confidence("high", tuple(support + ["the first SQL stood"]))
