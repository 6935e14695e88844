"""Datasets in the Spider layout: questions, schemas and SQLite databases, and Spider's hardness levels.

    <root>/dev_questions.json (or any questions file)   [{db_id, question, query, sql?}, ...]
    <root>/tables.json                                  Spider's schema description, one entry per database
    <root>/database/<db_id>/<db_id>.sqlite

The schema the experts see is DDL written from tables.json (original names, types, keys, foreign keys),
with each column's natural-language name as a comment where it differs from the identifier.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from Qwen3.errors import ConfigError

from ..sql.catalog import Catalog, parse_ddl

HARDNESS = ("easy", "medium", "hard", "extra")
_TYPES = {"number": "NUMERIC", "text": "TEXT", "time": "TEXT", "boolean": "BOOLEAN", "others": "TEXT"}


@dataclass(frozen=True)
class Question:
    index: int          # position in the questions file: the key of a result line
    db_id: str
    question: str
    gold: str
    hardness: str       # easy / medium / hard / extra, or "unknown" without Spider's parsed `sql`
    evidence: str = ""  # BIRD-style hint, passed to the experts as extra context


@dataclass(frozen=True)
class SpiderDataset:
    root: Path
    questions: tuple[Question, ...]
    schemas: dict[str, dict[str, Any]]

    def database_path(self, db_id: str) -> Path:
        return self.root / "database" / db_id / f"{db_id}.sqlite"

    def ddl(self, db_id: str) -> str:
        return schema_ddl(self.schemas[db_id])

    def catalog(self, db_id: str) -> Catalog:
        return parse_ddl(self.ddl(db_id), "sqlite")

    def sample(self, n: int | None, seed: int) -> list[Question]:
        """A fixed sample stratified by database: each database keeps its share (at least one question)."""
        if n is None or n >= len(self.questions):
            return list(self.questions)
        by_db: dict[str, list[Question]] = defaultdict(list)
        for q in self.questions:
            by_db[q.db_id].append(q)
        rng = random.Random(seed)
        total = len(self.questions)
        quota = {db: max(1, round(n * len(qs) / total)) for db, qs in by_db.items()}
        while sum(quota.values()) > n:  # rounding can overshoot by a few: trim the largest shares
            quota[max(quota, key=quota.get)] -= 1
        while sum(quota.values()) < n:
            quota[max(by_db, key=lambda db: len(by_db[db]) - quota[db])] += 1
        chosen = [q for db, qs in by_db.items() for q in rng.sample(qs, min(quota[db], len(qs)))]
        return sorted(chosen, key=lambda q: q.index)


def load_spider(root: str | Path, questions_file: str = "dev_questions.json") -> SpiderDataset:
    root = Path(root)
    qpath, tpath = root / questions_file, root / "tables.json"
    for path in (qpath, tpath):
        if not path.is_file():
            raise ConfigError(f"not a Spider-layout folder: {path} is missing")
    try:
        raw_questions = json.loads(qpath.read_text(encoding="utf-8"))
        raw_tables = json.loads(tpath.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"cannot read the dataset in {root}: {exc}") from None
    schemas = {t["db_id"]: t for t in raw_tables}
    questions = []
    for i, item in enumerate(raw_questions):
        missing = {"db_id", "question"} - set(item) | ({"query"} if {"query", "SQL"}.isdisjoint(item) else set())
        if missing:
            raise ConfigError(f"{qpath}: question {i} lacks {', '.join(sorted(missing))}")
        if item["db_id"] not in schemas:
            raise ConfigError(f"{qpath}: question {i} names database '{item['db_id']}', which tables.json lacks")
        level = hardness(item["sql"]) if isinstance(item.get("sql"), dict) else item.get("difficulty", "unknown")
        questions.append(Question(i, item["db_id"], item["question"], item.get("query") or item["SQL"], level,
                                  item.get("evidence", "")))
    return SpiderDataset(root, tuple(questions), schemas)


def schema_ddl(schema: dict[str, Any]) -> str:
    """CREATE TABLE statements for one tables.json entry."""
    tables = schema["table_names_original"]
    columns = schema["column_names_original"]
    natural = schema.get("column_names", columns)
    types = schema["column_types"]
    primary = set(_flat(schema.get("primary_keys", [])))
    by_table: dict[int, list[int]] = defaultdict(list)
    for cid, (tid, _name) in enumerate(columns):
        if tid >= 0:
            by_table[tid].append(cid)
    fks: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for src, dst in schema.get("foreign_keys", []):
        fks[columns[src][0]].append((src, dst))
    blocks = []
    for tid, table in enumerate(tables):
        lines = []
        for cid in by_table[tid]:
            name = columns[cid][1]
            comment = natural[cid][1]
            note = f" -- {comment}" if comment.replace(" ", "").lower() != name.replace("_", "").lower() else ""
            lines.append((f"  {_quote(name)} {_TYPES.get(types[cid], 'TEXT')}", note))
        pk = [columns[c][1] for c in by_table[tid] if c in primary]
        if pk:
            lines.append((f"  PRIMARY KEY ({', '.join(_quote(c) for c in pk)})", ""))
        for src, dst in fks[tid]:
            ref_table = tables[columns[dst][0]]
            lines.append((f"  FOREIGN KEY ({_quote(columns[src][1])}) REFERENCES {_quote(ref_table)}"
                          f"({_quote(columns[dst][1])})", ""))
        body = [f"{text}{',' if i < len(lines) - 1 else ''}{note}" for i, (text, note) in enumerate(lines)]
        blocks.append(f"CREATE TABLE {_quote(table)} (\n" + "\n".join(body) + "\n);")
    return "\n\n".join(blocks) + "\n"


def _quote(name: str) -> str:
    return name if name.replace("_", "").isalnum() and not name[0].isdigit() else f'"{name}"'


def _flat(items: list) -> list[int]:
    return [x for item in items for x in (item if isinstance(item, list) else [item])]


# Spider's hardness levels, from the counts of SQL components in its parsed `sql` field
# (the rules of the Spider paper's evaluation: component1, component2 and "others").

_LIKE, _NO_AGG = 9, 0


def hardness(sql: dict[str, Any]) -> str:
    c1, c2, others = _component1(sql), _component2(sql), _others(sql)
    if c1 <= 1 and others == 0 and c2 == 0:
        return "easy"
    if (others <= 2 and c1 <= 1 and c2 == 0) or (c1 <= 2 and others < 2 and c2 == 0):
        return "medium"
    if (others > 2 and c1 <= 2 and c2 == 0) or (2 < c1 <= 3 and others <= 2 and c2 == 0) or \
            (c1 <= 1 and others == 0 and c2 <= 1):
        return "hard"
    return "extra"


def _conditions(sql: dict) -> list:
    return sql["from"]["conds"][::2] + sql["where"][::2] + sql["having"][::2]


def _component1(sql: dict) -> int:
    count = sum(bool(sql[k]) for k in ("where", "groupBy", "orderBy")) + (sql["limit"] is not None)
    count += max(len(sql["from"]["table_units"]) - 1, 0)
    connectives = sql["from"]["conds"][1::2] + sql["where"][1::2] + sql["having"][1::2]
    count += connectives.count("or")
    count += sum(1 for cond in _conditions(sql) if cond[1] == _LIKE)
    return count


def _component2(sql: dict) -> int:
    nested = sum(isinstance(v, dict) for cond in _conditions(sql) for v in (cond[3], cond[4]))
    return nested + sum(sql[k] is not None for k in ("intersect", "union", "except"))


def _others(sql: dict) -> int:
    def aggregated(units: list) -> int:
        return sum(1 for unit in units if unit and unit[0] != _NO_AGG)

    aggs = aggregated(sql["select"][1]) + aggregated(sql["where"][::2]) + aggregated(sql["groupBy"])
    if sql["orderBy"]:
        aggs += aggregated([u[1] for u in sql["orderBy"][1] if u[1]] + [u[2] for u in sql["orderBy"][1] if u[2]])
    aggs += aggregated(sql["having"])
    return (aggs > 1) + (len(sql["select"][1]) > 1) + (len(sql["where"]) > 1) + (len(sql["groupBy"]) > 1)
