"""What the checks say about one SQL statement: the stages it passed, the issue that failed it, its warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

WarningStage = Literal["fan_out", "unused_join", "join_filter", "same_row", "ungrounded", "definition"]
WARNING_STAGES: tuple[WarningStage, ...] = ("fan_out", "unused_join", "join_filter", "same_row", "ungrounded",
                                            "definition")
Stage = Literal["safety", "parse", "catalog", "joins", "dry_run", WarningStage]


@dataclass(frozen=True)
class Issue:
    stage: Stage
    message: str

    def __str__(self) -> str:
        return f"[{self.stage}] {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    sql: str                                   # the SQL as checked, pretty-printed in the target dialect
    issues: tuple[Issue, ...] = ()
    passed: tuple[Stage, ...] = ()
    dry_run_columns: tuple[str, ...] = ()
    dry_run_rows: int | None = None
    notes: tuple[str, ...] = field(default=())
    warnings: tuple[Issue, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.issues
