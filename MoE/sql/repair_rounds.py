"""Repair rounds: SQL that failed its checks goes back to the sql_writer with the errors, a bounded number of times.

Several pieces of SQL (the candidates) are repaired together: each round's sql_writer calls go to the
runner as one batch (`ask_all`), so a backend that batches rows or serves parallel requests answers them
at once. Each piece keeps its own rounds, seed and log, so its outcome is what it would be repaired alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .experts import ExpertCall, ExpertRun, build_messages, plain_repair_messages
from .json_recovery import ExpertOutputError
from .repair import needs_repair, repair_advice
from .validator import ValidationReport, normal_form


@dataclass
class Repairing:
    """One piece of SQL under repair and what its rounds did, kept apart from the others' so that the
    result lists them in the order a one-by-one repair would."""
    sql: str
    report: ValidationReport
    context: dict                    # the sql_writer's prompt arguments for the view that wrote the SQL
    label: str = ""                  # "candidate 2: " in the reasons and notes
    plain: list | None = None        # the plain prompt that wrote the SQL, when its repairs continue it
    rounds: int = 0
    warned: bool = False             # warnings get one round of their own; errors get every round
    stopped: bool = False
    experts: list[ExpertRun] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def record_into(self, result) -> None:
        """Add the rounds to an OrchestrationResult: their expert runs, reasons, notes and count."""
        result.experts += self.experts
        result.repair_reasons += self.reasons
        result.notes += self.notes
        result.repair_rounds += self.rounds


def repair_together(items: list[Repairing], *, ask_all: Callable[[list[ExpertCall]], list],
                    check: Callable[[str], ValidationReport], fix: Callable[[str, ValidationReport], tuple | None],
                    max_rounds: int, repairable: tuple[str, ...], dialect: str,
                    step: Callable[[str], None]) -> None:
    """Repair every item in place. `fix(sql, report)` is a mechanical fix, tried before the writer:
    (sql, report, what it did) or None. `ask_all(calls)` answers calls together, an answer or an
    ExpertOutputError each; it may raise ExpertOutputError for all of them (the time budget ran out)."""
    while asking := [(item, call) for item in items if (call := _next_call(item, fix, max_rounds, repairable, dialect))]:
        step("sql_writer (" + ", ".join(f"{item.label}repair {item.rounds}" for item, _ in asking) + ")")
        try:
            answers = ask_all([call for _, call in asking])
        except ExpertOutputError as exc:   # no call was made: the SQL each has stands
            answers = [exc] * len(asking)
        for (item, _), writer in zip(asking, answers):
            if isinstance(writer, ExpertOutputError):   # keep the SQL we have; the checks' verdict on it stands
                item.notes.append(f"{item.label}repair round {item.rounds} gave no usable SQL ({writer})")
                item.stopped = True
                continue
            item.experts.append(writer)
            if normal_form(writer.output["sql"], dialect) == normal_form(item.sql, dialect):
                item.reasons.append(f"{item.label}the sql_writer returned the SQL it was asked to fix; no further rounds")
                item.notes.append(f"{item.label}repair round {item.rounds} returned the same SQL; repairs stopped")
                item.stopped = True
                continue
            item.sql, item.report = writer.output["sql"], check(writer.output["sql"])


def _next_call(item: Repairing, fix, max_rounds: int, repairable: tuple[str, ...], dialect: str) -> ExpertCall | None:
    """The item's next round: mechanical fixes are applied here, on the spot; a round that needs the
    writer comes back as its call. None when the item needs no more rounds."""
    while not item.stopped and needs_repair(item.report, item.warned, repairable) and item.rounds < max_rounds:
        item.rounds += 1
        item.warned = item.warned or item.report.ok
        report = item.report
        feedback = [str(i) for i in report.issues or [w for w in report.warnings if w.stage in repairable]]
        fixed = fix(item.sql, report)
        if fixed is not None:
            item.sql, item.report, note = fixed
            item.reasons.append(f"{item.label}{'; '.join(feedback)} -> mechanical fix: {note}")
            continue
        item.reasons.append(f"{item.label}{'; '.join(feedback)} -> back to the sql_writer")
        feedback += repair_advice(item.sql, dialect, feedback)
        if item.plain is not None:
            return ExpertCall(plain_repair_messages(item.plain, item.sql, feedback), temperature=0.5,
                              seed=item.rounds + 1, sql_block=True)
        messages = build_messages("sql_writer", sql=item.sql, feedback=feedback, **item.context)
        return ExpertCall(messages, temperature=0.5, seed=item.rounds + 1, sql_block=None)
    return None
