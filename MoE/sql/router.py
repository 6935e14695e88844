"""The router: decides which experts run, in what order, and says why.

A question's complexity is scored from what it asks for (aggregation, time windows, ranking,
several entities, several parts). The planner runs when the score reaches the threshold; the
sql_writer and the validator always run. A trivial lookup ("list all customers") skips planning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .linking import LinkedSchema, words

SIGNALS: dict[str, tuple[str, ...]] = {
    "aggregation": ("total", "totals", "sum", "average", "avg", "count", "how many", "number of", "per", "each",
                    "monthly", "daily", "weekly", "yearly", "quarterly", "revenue", "mean", "median"),
    "ranking": ("top", "most", "least", "highest", "lowest", "best", "worst", "rank", "largest", "smallest"),
    "time window": ("in 20", "since", "between", "before", "after", "last year", "last month", "this year",
                    "quarter", "month", "week", "year"),
    "comparison": ("compare", "versus", " vs ", "ratio", "share", "percent", "growth", "change", "difference"),
    "several parts": (" and ", " as well as ", " along with ", " both ", " then "),
}


MEASURES = ("total", "totals", "sum", "average", "avg", "count", "how many", "number of", "revenue", "mean",
            "median", "maximum", "minimum", "max", "min")
_CONJUNCTION = re.compile(r"\b(?:and|as well as|along with)\b")


@dataclass(frozen=True)
class RoutePlan:
    experts: tuple[str, ...]
    complexity: int
    reasons: tuple[str, ...]
    several_measures: bool = False  # "revenue and refund totals": the sql_writer is told how to avoid fan-out

    def describe(self) -> str:
        why = "; ".join(self.reasons) if self.reasons else "a simple lookup"
        return f"{' -> '.join(self.experts)} (complexity {self.complexity}: {why})"


def route(question: str, linked: LinkedSchema, always_plan: bool = False, plan_threshold: int = 2,
          review: bool = True) -> RoutePlan:
    """The experts a question sees: the planner when it scores plan_threshold, the sql_writer, and the
    validator expert's review unless `review` is off (experts.validator_expert; the checks run either way)."""
    text = f" {question.lower()} "
    reasons, score = [], 0
    for signal, cues in SIGNALS.items():
        hits = [c.strip() for c in cues if c in text]
        if hits:
            score += 1
            reasons.append(f"{signal} ({', '.join(sorted(set(hits))[:3])})")
    mentioned = _mentioned_tables(question, linked)
    if len(mentioned) >= 2:
        score += 1
        reasons.append(f"{len(mentioned)} entities ({', '.join(mentioned[:4])})")
    plan = always_plan or score >= plan_threshold
    if always_plan and score < plan_threshold:
        reasons.append("planner forced by router.always_plan")
    experts = ("planner",) * plan + ("sql_writer",) + ("validator",) * review
    return RoutePlan(experts, score, tuple(reasons), several_measures(question))


def several_measures(question: str) -> bool:
    """Measures on both sides of a conjunction ("monthly revenue and refund totals"): totals that may come
    from different tables, where joining the tables before aggregating inflates them."""
    parts = _CONJUNCTION.split(question.lower())
    return sum(any(re.search(rf"\b{cue}\b", part) for cue in MEASURES) for part in parts) >= 2


def _mentioned_tables(question: str, linked: LinkedSchema) -> list[str]:
    asked = words(question)
    found = []
    for table in linked.catalog.tables:
        parts = words(" ".join(re.split(r"[_\s]+", table.name)))
        if parts & asked:
            found.append(table.name)
    return found
