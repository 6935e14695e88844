"""Follow-up questions: the turns a question is answered with.

    conversation = Conversation(orchestrator)
    conversation.ask("Revenue per month in 2024")
    conversation.ask("only for the Books category")   # refines the last query

A follow-up goes to the experts with the last few turns (question, SQL, result columns) before it, so
"and only for 2023" is read as a change to the query before, not as a question of its own. Only turns
whose SQL passed the checks are kept: a failed answer is nothing to build on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from .orchestrator import SQLMoEOrchestrator
    from .result import OrchestrationResult


@dataclass(frozen=True)
class Turn:
    question: str
    sql: str
    columns: tuple[str, ...] = ()

    @classmethod
    def from_result(cls, result: "OrchestrationResult") -> "Turn | None":
        if not result.ok or not result.sql:
            return None
        return cls(result.question, result.sql, tuple(result.rows.columns) if result.rows is not None else ())


def history_prompt(turns: Sequence[Turn]) -> str:
    """The earlier turns as the experts read them; empty for a first question."""
    if not turns:
        return ""
    lines = ["Earlier in this conversation (oldest first):"]
    for i, turn in enumerate(turns, 1):
        lines.append(f"{i}. Question: {turn.question}\n   SQL: {' '.join(turn.sql.split())}")
        if turn.columns:
            lines.append(f"   Result columns: {', '.join(turn.columns)}")
    lines.append("The question below follows up on the last one: change that query only as the question asks "
                 "and keep the rest of it (its tables, filters and grouping).")
    return "\n".join(lines)


@dataclass
class Conversation:
    """Questions asked one after another of one orchestrator; `turns` keeps the answered ones."""

    orchestrator: "SQLMoEOrchestrator"
    max_turns: int = 3
    turns: list[Turn] = field(default_factory=list)

    def ask(self, question: str, extra_context: str | None = None, execute: bool = False,
            **callbacks) -> "OrchestrationResult":
        result = self.orchestrator.run(question, extra_context, execute=execute, history=self.recent(),
                                       **callbacks)
        self.add(result)
        return result

    def recent(self) -> list[Turn]:
        return self.turns[-self.max_turns:] if self.max_turns > 0 else []

    def add(self, result: "OrchestrationResult") -> None:
        turn = Turn.from_result(result)
        if turn is not None:
            self.turns.append(turn)
