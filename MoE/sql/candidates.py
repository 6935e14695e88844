"""Candidate selection by self-consistency: several SQL candidates, executed, chosen by agreeing results.

Candidates whose result sets are equal (rows as a multiset, columns in any order) form a group; the
largest group wins, a non-empty result before an empty one. When the two largest groups are the same
size the validator expert breaks the tie. Only candidates that passed every check are executed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .database import QueryResult
from .validator import ValidationReport


@dataclass(frozen=True)
class Candidate:
    sql: str
    report: ValidationReport
    result: QueryResult | None = None   # None: failed its checks or its execution
    prompt: str = "planned"             # which sql_writer prompt wrote it (ExpertsConfig.candidate_prompts)

    @property
    def usable(self) -> bool:
        return self.report.ok and self.result is not None


def result_signature(result: QueryResult) -> tuple:
    """Equal for equal result sets, whatever the row order and the column order."""
    rows = Counter(tuple(sorted((_canonical(v) for v in row), key=repr)) for row in result.rows)
    return len(result.columns), tuple(sorted(rows.items(), key=repr))


def _canonical(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def agreement_groups(candidates: list[Candidate]) -> list[list[int]]:
    """Indices of usable candidates grouped by result set, best first (see `rank`), then the group
    holding the earliest candidate."""
    groups: dict[tuple, list[int]] = {}
    for i, c in enumerate(candidates):
        if c.usable:
            groups.setdefault(result_signature(c.result), []).append(i)
    return sorted(groups.values(), key=lambda g: (rank(g, candidates), g[0]))


def rank(group: list[int], candidates: list[Candidate]) -> tuple:
    """Lower is better: non-empty results, then more members. (Ranking groups whose every member drew
    a warning last was tried and lost: the chosen candidate's repair round fixes many of them.)"""
    return (not candidates[group[0]].result.rows, -len(group))


def tied(groups: list[list[int]], candidates: list[Candidate]) -> list[list[int]]:
    """The groups that share the winning rank (more than one means a tie for the validator to break)."""
    if not groups:
        return []
    best = rank(groups[0], candidates)
    return [g for g in groups if rank(g, candidates) == best]


def preferred(top: list[list[int]], candidates: list[Candidate], view: str) -> int | None:
    """Among tied groups, the first candidate written from `view` (the greedy one), or None."""
    members = sorted(i for group in top for i in group if candidates[i].prompt == view)
    return members[0] if members else None


@dataclass(frozen=True)
class Vote:
    """The outcome of the vote: the chosen candidate, or `tie` (the groups' first members) for the validator."""
    chosen: int
    votes: dict[int, int]               # candidate -> size of its agreement group (0: did not run)
    tie: list[int]                      # candidates the validator expert must choose between, else empty
    how: str                            # e.g. "2 of 3 agree"


def vote(candidates: list[Candidate], tie_break: str) -> Vote:
    """Choose by agreeing results; a tie goes to the `tie_break` view's candidate, or - "validator" or no
    candidate of that view - to the validator expert (Vote.tie)."""
    groups = agreement_groups(candidates)
    votes = {i: len(g) for g in groups for i in g}
    chosen = groups[0][0] if groups else 0
    top = tied(groups, candidates)
    if len(top) <= 1:
        return Vote(chosen, votes, [], f"{votes.get(chosen, 0)} of {len(candidates)} agree")
    by_view = preferred(top, candidates, tie_break) if tie_break != "validator" else None
    if by_view is not None:
        return Vote(by_view, votes, [], f"a tie, went to the {tie_break} candidate")
    return Vote(chosen, votes, [g[0] for g in top], "validator broke a tie")


def candidate_report(candidates: list[Candidate], chosen: int, votes: dict[int, int]) -> list[dict]:
    """The per-candidate report a result carries."""
    return [{"sql": c.sql, "prompt": c.prompt, "ok": c.report.ok, "rows": None if c.result is None else len(c.result.rows),
             "warnings": sorted({w.stage for w in c.report.warnings}), "votes": votes.get(i, 0),
             "chosen": i == chosen} for i, c in enumerate(candidates)]


def preview(result: QueryResult, rows: int = 3) -> str:
    shown = "; ".join(", ".join(str(v) for v in row) for row in result.rows[:rows])
    more = f" ... ({len(result.rows)} rows{'+' if result.truncated else ''})" if len(result.rows) > rows else ""
    return f"columns {', '.join(result.columns)}: {shown or '(no rows)'}{more}"
