"""The answer to one question: the route, the experts' runs, the checked SQL, its rows, and how far to trust it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .confidence import Confidence
from .database import QueryResult
from .experts import ExpertRun
from .linking import LinkedSchema
from .router import RoutePlan
from .validator import ValidationReport
from .values import ValueMatch


@dataclass
class OrchestrationResult:
    question: str
    extra_context: str
    dialect: str
    plan: RoutePlan
    linked: LinkedSchema
    experts: list[ExpertRun] = field(default_factory=list)
    sql: str | None = None
    explanation: str = ""
    report: ValidationReport | None = None
    repair_rounds: int = 0
    repair_reasons: list[str] = field(default_factory=list)
    rows: QueryResult | None = None
    values: list[ValueMatch] = field(default_factory=list)
    examples: int = 0
    candidates: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    out_of_time: bool = False
    confidence: Confidence | None = None
    history: list[str] = field(default_factory=list)   # the earlier questions this one follows up on
    definitions: list = field(default_factory=list)   # Definition: the schema's comments that define its words
    # tokens of expert calls that gave no usable answer (they are in no ExpertRun, but were spent)
    failed_tokens: dict[str, int] = field(default_factory=lambda: {"prompt": 0, "completion": 0, "reused": 0})

    @property
    def ok(self) -> bool:
        return self.error is None and self.report is not None and self.report.ok

    @property
    def tokens(self) -> dict[str, int]:
        """Every token the question cost, the calls that gave no usable answer included."""
        return {"prompt": sum(e.prompt_tokens for e in self.experts) + self.failed_tokens["prompt"],
                "completion": sum(e.completion_tokens for e in self.experts) + self.failed_tokens["completion"],
                "reused": sum(e.reused_prompt_tokens for e in self.experts) + self.failed_tokens["reused"]}

    def to_dict(self) -> dict[str, Any]:
        report = self.report
        return {
            "question": self.question, "extra_context": self.extra_context, "dialect": self.dialect, "ok": self.ok,
            "plan": {"experts": list(self.plan.experts), "complexity": self.plan.complexity,
                     "reasons": list(self.plan.reasons)},
            "schema": {"tables_kept": len(self.linked.catalog.tables), "tables_total": self.linked.total_tables,
                       "columns_kept": self.linked.kept_columns, "columns_total": self.linked.total_columns},
            "experts": [asdict(e) for e in self.experts],
            "sql": self.sql, "explanation": self.explanation,
            "checks": None if report is None else {"passed": list(report.passed),
                                                   "issues": [str(i) for i in report.issues],
                                                   "warnings": [str(w) for w in report.warnings],
                                                   "dry_run_rows": report.dry_run_rows, "notes": list(report.notes)},
            "values": [str(v) for v in self.values], "examples": self.examples, "candidates": self.candidates,
            "repair_rounds": self.repair_rounds, "repair_reasons": self.repair_reasons,
            "rows": None if self.rows is None else {"columns": list(self.rows.columns),
                                                    "rows": [[_jsonable(v) for v in r] for r in self.rows.rows],
                                                    "truncated": self.rows.truncated},
            "history": list(self.history), "definitions": [str(d) for d in self.definitions], "notes": self.notes, "error": self.error, "seconds": round(self.seconds, 3), "tokens": self.tokens,
            "status": "ok" if self.ok else "failed",
            "confidence": None if self.confidence is None else {"level": self.confidence.level,
                                                                "reasons": list(self.confidence.reasons)},
        }


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
