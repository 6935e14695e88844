"""Schema linking: show the experts only the tables and columns a question needs.

Every column is a small document - its name (twice), its table's name and its comment - ranked by
BM25 against the question (and any extra context, such as a hint naming columns), plus, with an
embedder, the cosine similarity of sentence embeddings (which finds "who" -> `forename` and other
synonyms BM25 cannot). A column named outright in the question ranks first; columns holding a value the question mentions are always
kept. The best columns are kept up to a budget (a share of the schema's columns); their tables
come with their key columns, and tables on the foreign-key path between kept tables come along so
the SQL can join them. Small schemas go to the experts whole. Validation always uses the full catalog.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import Iterable, Protocol

from .bm25 import BM25, tokens
from .catalog import Catalog, Table


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


class Embedder(Protocol):
    def similarities(self, query: str, texts: list[str]) -> list[float]: ...


def words(text: str) -> set[str]:
    return set(tokens(text))


def link_schema(question: str, catalog: Catalog, enabled: bool = True, full_schema_max_columns: int = 60,
                max_tables: int = 8, column_budget: float = 0.26,
                keep: Iterable[tuple[str, str]] = (), embedder: Embedder | None = None,
                embedding_weight: float = 1.0) -> LinkedSchema:
    """The sub-schema for one question. `keep`: (table, column) pairs that must survive, e.g. value matches."""
    total_t, total_c = len(catalog.tables), catalog.column_count
    if not enabled or total_c <= full_schema_max_columns:
        return LinkedSchema(catalog, total_t, total_c, whole=True)
    ranked = rank_columns(question, catalog, embedder, embedding_weight)
    if not ranked or ranked[0][0] <= 0:
        return LinkedSchema(catalog, total_t, total_c, whole=True)
    budget = max(int(column_budget * total_c), 1)
    chosen: dict[str, set[str]] = {}
    for table, column in keep:
        if (kept := catalog.table(table)) is not None:
            chosen.setdefault(kept.key, set()).add(column.lower())
    for score, table, column in ranked:
        if score <= 0 or _size(catalog, chosen) >= budget:
            break
        if table not in chosen and len(chosen) >= max_tables:
            continue
        chosen.setdefault(table, set()).add(column)
    for table in _connectors(catalog, set(chosen)):
        chosen.setdefault(table, set())
    for name in chosen:
        chosen[name] |= _key_columns(catalog.table(name), set(chosen))
    for name in list(chosen):  # columns that other kept tables' foreign keys point at
        for fk in catalog.table(name).foreign_keys:
            if fk.ref_table.lower() in chosen:
                chosen[fk.ref_table.lower()] |= {c.lower() for c in fk.ref_columns}
    subset = catalog.subset(chosen)
    table_scores = {}
    for score, table, _ in ranked:
        table_scores.setdefault(table, score)
    return LinkedSchema(subset, total_t, total_c, tuple((t, round(s, 3)) for t, s in table_scores.items() if t in chosen))


def rank_columns(question: str, catalog: Catalog, embedder: Embedder | None = None,
                 embedding_weight: float = 1.0) -> list[tuple[float, str, str]]:
    """(score, table, column), best first, all lower-case. BM25 is scaled to 1 for the best column so
    that the embedding similarity (in [-1, 1]) weighs in on the same scale."""
    columns = [(t, c) for t in catalog.tables for c in t.columns]
    documents = [tokens(f"{c.name} {c.name} {t.name} {_description(c.comment)}", fold_verbs=True) for t, c in columns]
    scores = BM25(documents).scores(tokens(question, fold_verbs=True))
    top = max(scores) or 1.0
    scores = [s / top for s in scores]
    if embedder is not None:
        texts = [f"{t.name} {' '.join(tokens(c.name, keep_stop_words=True))}: {_description(c.comment)}"
                 for t, c in columns]
        scores = [s + embedding_weight * sim for s, sim in zip(scores, embedder.similarities(question, texts))]
    boosted = _named_columns(question, columns)
    ranked = []
    for (t, c), score in zip(columns, scores):
        ranked.append((score + 100.0 * ((t.key, c.name.lower()) in boosted), t.key, c.name.lower()))
    return sorted(ranked, key=lambda r: (-r[0], r[1], r[2]))


def _description(comment: str) -> str:
    """A column comment without machine statistics ("Stats: 0% null ...")."""
    return re.split(r"\bStats:", comment, maxsplit=1)[0]


def _named_columns(question: str, columns: list[tuple[Table, object]]) -> set[tuple[str, str]]:
    """(table, column) pairs the question names outright. A name that several tables share where it is
    a foreign key elsewhere (`raceId`) names the table that owns it, not every table that joins to it;
    the joining copies come along as key columns of whatever tables are kept."""
    named = _named_identifiers(question)
    matches: dict[str, list[tuple[str, bool]]] = {}   # column name -> (table, a foreign key there?)
    for t, c in columns:
        spelled = c.name.lower()
        if spelled in named or " ".join(tokens(c.name, keep_stop_words=True)) in named:
            matches.setdefault(spelled, []).append((t.key, spelled in _foreign_key_columns(t)))
    boosted = set()
    for spelled, found in matches.items():
        owners = [t for t, is_foreign in found if not is_foreign] or [t for t, _ in found]
        boosted |= {(t, spelled) for t in owners}
    return boosted


def _named_identifiers(question: str) -> set[str]:
    """Words and word runs of the question as identifiers might spell them: `Currency`, `circuit ref`."""
    raw = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", question)
    named = {w.lower() for w in raw}
    stems = tokens(question, keep_stop_words=True)
    named |= {" ".join(stems[i:i + n]) for n in (2, 3) for i in range(len(stems) - n + 1)}
    return named


def _size(catalog: Catalog, chosen: dict[str, set[str]]) -> int:
    return sum(len(cols | _key_columns(catalog.table(t), set(chosen))) for t, cols in chosen.items())


def _key_columns(table: Table, kept_tables: set[str]) -> set[str]:
    """What joins and answers need of every kept table: its primary key, its foreign-key columns and
    the columns that name its rows (`name`, `title`, `forename`, ...), since "who" and "which" ask for them."""
    keys = {c.lower() for c in table.primary_key} | _foreign_key_columns(table)
    return keys | {c.name.lower() for c in table.columns if _NAMING.search(c.name)}


def _foreign_key_columns(table: Table) -> set[str]:
    return {c.lower() for fk in table.foreign_keys for c in fk.columns}


_NAMING = re.compile(r"(name|title)$", re.I)


def _connectors(catalog: Catalog, keep: set[str]) -> set[str]:
    """Tables on the shortest foreign-key paths between kept tables."""
    graph: dict[str, set[str]] = {t.key: set() for t in catalog.tables}
    for t in catalog.tables:
        for fk in t.foreign_keys:
            a, b = t.key, fk.ref_table.lower()
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
