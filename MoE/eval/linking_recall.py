"""How well schema linking keeps what a query needs: recall of the gold SQL's tables and columns.

On a question set with gold SQL and DDL (BIRD's layout: questions_<dialect>.json, schemas/<db>.sql; or
Spider's: dev_questions.json, tables.json),
every table and column the gold SQL uses must survive linking; the fewer other columns survive, the
smaller the experts' prompt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from ..sql.catalog import Catalog, parse_ddl
from ..sql.linking import link_schema
from ..sql.resolve import as_resolved, qualify_for_catalog
from .spider import load_spider


def gold_columns(sql: str, catalog: Catalog, dialect: str) -> set[tuple[str, str]]:
    """(table, column) pairs, lower-case, that the SQL reads; a table read only by COUNT(*) gives (table, '*')."""
    tree = qualify_for_catalog(as_resolved(sqlglot.parse_one(sql, read=dialect), catalog, dialect), catalog, dialect)
    used: set[tuple[str, str]] = set()
    for scope in traverse_scope(tree):
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if isinstance(source, exp.Table):
                table = catalog.lookup(source)
                used.add((table.key if table else source.name.lower(), column.name.lower()))
        for source in scope.sources.values():
            if isinstance(source, exp.Table) and (table := catalog.lookup(source)) is not None:
                used.add((table.key, "*"))
    return used


@dataclass(frozen=True)
class LinkingScore:
    questions: int
    recall: float            # share of gold (table, column) pairs kept, over all questions
    perfect: float           # share of questions with every gold pair kept
    kept_fraction: float     # mean share of the schema's columns kept
    misses: tuple[tuple[int, str], ...]
    linked_questions: int = 0       # questions whose schema was linked (not sent whole)
    linked_recall: float = 1.0      # recall and kept share over those questions only
    linked_kept_fraction: float = 1.0


def bird_catalogs(root: str | Path) -> dict[str, Catalog]:
    """BIRD's layout: one schemas/<db_id>.sql of SQLite DDL per database -> {db_id: catalog}."""
    return {p.stem: parse_ddl(p.read_text(encoding="utf-8"), "sqlite") for p in (Path(root) / "schemas").glob("*.sql")}


def linking_questions(root: str | Path, dialect: str = "sqlite") -> list[tuple[int, str, str, Catalog]]:
    """(id, question with its evidence, gold SQL, catalog) in BIRD's layout or Spider's (dev_questions.json)."""
    root = Path(root)
    if (root / "dev_questions.json").is_file():
        dataset = load_spider(root)
        catalogs = {db: dataset.catalog(db) for db in {q.db_id for q in dataset.questions}}
        return [(q.index, q.question, q.gold, catalogs[q.db_id]) for q in dataset.questions]
    file_dialect = {"sqlite": "sqlite", "mysql": "mysql", "postgres": "postgresql"}[dialect]
    questions = json.loads((root / f"questions_{file_dialect}.json").read_text(encoding="utf-8"))
    catalogs = bird_catalogs(root)
    return [(q["question_id"], q["question"] + (" " + q["evidence"] if q.get("evidence") else ""), q["SQL"],
             catalogs[q["db_id"]]) for q in questions]


def score_linking(root: str | Path, dialect: str = "sqlite", **linking: object) -> LinkingScore:
    questions = linking_questions(root, dialect)
    found = total = perfect = 0
    kept_share = 0.0
    l_found = l_total = l_n = 0
    l_share = 0.0
    misses = []
    for question_id, question, sql, catalog in questions:
        gold = gold_columns(sql, catalog, dialect)
        linked = link_schema(question, catalog, **linking)
        kept = {(t.key, c.name.lower()) for t in linked.catalog.tables for c in t.columns}
        kept |= {(t.key, "*") for t in linked.catalog.tables}
        hit = gold & kept
        found, total = found + len(hit), total + len(gold)
        perfect += hit == gold
        kept_share += linked.kept_columns / catalog.column_count
        if not linked.whole:
            l_found, l_total, l_n = l_found + len(hit), l_total + len(gold), l_n + 1
            l_share += linked.kept_columns / catalog.column_count
        misses += [(question_id, f"{t}.{c}") for t, c in sorted(gold - kept)]
    n = len(questions)
    return LinkingScore(n, found / total, perfect / n, kept_share / n, tuple(misses), l_n,
                        l_found / l_total if l_total else 1.0, l_share / l_n if l_n else 1.0)
