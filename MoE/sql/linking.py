"""Schema linking: show the experts only the tables a question needs; validate against the full catalog.

Tables are scored by the question's words against their names, column names and comments; the
best ones are kept and joined up along foreign keys (tables on the shortest key path between two
kept tables are kept too). Small schemas go to the experts whole.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from .catalog import Catalog

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an the of for in on by to and or with from per each all what which who how many much list show "
                  "give me is are was were be their its total number".split())


@dataclass(frozen=True)
class LinkedSchema:
    catalog: Catalog           # what the experts see
    total_tables: int
    total_columns: int
    scores: tuple[tuple[str, float], ...] = ()
    whole: bool = False

    @property
    def kept_columns(self) -> int:
        return self.catalog.column_count

    def summary(self) -> str:
        how = "whole schema" if self.whole else "linked"
        return (f"{how}: {len(self.catalog.tables)}/{self.total_tables} tables, "
                f"{self.kept_columns}/{self.total_columns} columns kept")


def words(text: str) -> set[str]:
    found = set()
    for w in _WORD.findall(text.lower()):
        if w in _STOP:
            continue
        found.add(w)
        if w.endswith("ies") and len(w) > 4:
            found.add(w[:-3] + "y")
        elif w.endswith("es") and len(w) > 4:
            found.update({w[:-2], w[:-1]})
        elif w.endswith("s") and len(w) > 3:
            found.add(w[:-1])
    return found


def link_schema(question: str, catalog: Catalog, enabled: bool = True, full_schema_max_columns: int = 60,
                max_tables: int = 8) -> LinkedSchema:
    total_t, total_c = len(catalog.tables), catalog.column_count
    if not enabled or total_c <= full_schema_max_columns:
        return LinkedSchema(catalog, total_t, total_c, whole=True)
    asked = words(question)
    scores = {t.name.lower(): _score(t, asked) for t in catalog.tables}
    ranked = sorted((s, n) for n, s in scores.items() if s > 0)[::-1][:max_tables]
    if not ranked:
        return LinkedSchema(catalog, total_t, total_c, whole=True)
    keep = {n for _, n in ranked}
    keep |= _connectors(catalog, keep)
    subset = catalog.subset({name: None for name in keep})
    return LinkedSchema(subset, total_t, total_c, tuple((n, s) for s, n in ranked))


def _score(table, asked: set[str]) -> float:
    name_words = set(table.name.lower().split("_")) | {table.name.lower()}
    score = 3.0 * len(words(" ".join(name_words)) & asked)
    for column in table.columns:
        score += 1.0 * len(words(column.name.replace("_", " ")) & asked)
        score += 0.3 * len(words(column.comment) & asked)
    score += 0.5 * len(words(table.comment) & asked)
    return score


def _connectors(catalog: Catalog, keep: set[str]) -> set[str]:
    """Tables on the shortest foreign-key paths between kept tables."""
    graph: dict[str, set[str]] = {t.name.lower(): set() for t in catalog.tables}
    for t in catalog.tables:
        for fk in t.foreign_keys:
            a, b = t.name.lower(), fk.ref_table.lower()
            if a != b and b in graph:
                graph[a].add(b)
                graph[b].add(a)
    kept = sorted(keep)
    extra: set[str] = set()
    for i, start in enumerate(kept):
        for goal in kept[i + 1:]:
            extra |= set(_path(graph, start, goal)) - keep
    return extra


def _path(graph: dict[str, set[str]], start: str, goal: str) -> list[str]:
    previous = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path = []
            while node is not None:
                path.append(node)
                node = previous[node]
            return path
        for nxt in sorted(graph.get(node, ())):
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return []
