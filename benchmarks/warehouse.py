"""Your own warehouse at scale: schema introspection, the value index and value lookup on a generated DuckDB
warehouse, against the way values were read before (a full SELECT DISTINCT per text column, difflib over every
value), measured in the same run.

    python benchmarks/warehouse.py [--tables 200] [--values-per-column 1000] [--write-docs]

The warehouse: `--tables` tables of 10 columns (a key, a foreign key to the previous table, 5 text and 3
numeric columns), 5,000 rows each; every text column holds `--values-per-column` distinct made-up names, all
different across the warehouse (200 tables: 2,000 columns, 1,000,000 distinct text values). Questions name a
value, exactly or with one letter changed. Measured:
- cold start: the schema read from the database and the value index built and saved (orchestrator start-up,
  model aside);
- warm start: the same with the cache in place (a new orchestrator over the same database);
- lookup: value grounding per question (p50 / p95 / max), and whether the value's column survives schema
  linking (recall);
- BIRD Mini-Dev linking recall (the default setting of benchmarks/linking.py), which must not change;
- the baseline: the old cold read and difflib lookup on a few questions (it takes seconds each).
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from MoE.eval.linking_recall import score_linking  # noqa: E402
from MoE.sql.config import load_orchestrator_config  # noqa: E402
from MoE.sql.database import DatabaseError  # noqa: E402
from MoE.sql.linking import link_schema  # noqa: E402
from MoE.sql.orchestrator import SQLMoEOrchestrator  # noqa: E402
from MoE.sql.value_index import normalise  # noqa: E402
from MoE.sql.values import ground_values, mentions  # noqa: E402

SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"] + ["tha", "sho", "qui", "lor", "ven", "mar"]
TOPICS = ["customer", "supplier", "invoice", "shipment", "product", "warehouse", "employee", "campaign", "ticket",
          "contract", "payment", "region", "store", "account", "vehicle", "device", "policy", "claim", "course", "asset"]
TEXT_COLUMNS = ["name", "city", "category", "status", "label"]


def made_up_names(count: int, seed: int) -> list[str]:
    """`count` distinct two-word names ("Kovela Sharin")."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out = []
    while len(out) < count:
        first = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        second = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
        name = f"{first.capitalize()} {second.capitalize()}"
        if normalise(name) not in seen:
            seen.add(normalise(name))
            out.append(name)
    return out


def build_warehouse(path: Path, tables: int, per_column: int, rows: int = 5000) -> dict:
    import duckdb
    import numpy as np
    import pandas as pd

    names = made_up_names(tables * len(TEXT_COLUMNS) * per_column, seed=0)
    con = duckdb.connect(str(path))
    layout = {}
    for t in range(tables):
        table = f"{TOPICS[t % len(TOPICS)]}_{t}"
        ref = f"{TOPICS[(t - 1) % len(TOPICS)]}_{t - 1}" if t else None
        key = f"{TOPICS[t % len(TOPICS)]}_id"
        columns = [f"{key} INTEGER PRIMARY KEY", "ref_id INTEGER" + (f" REFERENCES {ref}({TOPICS[(t - 1) % len(TOPICS)]}_id)" if ref else "")]
        columns += [f"{c} VARCHAR" for c in TEXT_COLUMNS] + ["amount DECIMAL(12, 2)", "quantity INTEGER", "created DATE"]
        con.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
        frame = {key: np.arange(rows), "ref_id": np.arange(rows) % 1000}
        values = {}
        for k, column in enumerate(TEXT_COLUMNS):
            start = (t * len(TEXT_COLUMNS) + k) * per_column
            values[column] = names[start:start + per_column]
            frame[column] = [values[column][i % per_column] for i in range(rows)]
        frame["amount"] = np.round(np.arange(rows) * 1.37 % 997, 2)
        frame["quantity"] = np.arange(rows) % 50
        frame["created"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(rows) % 365, unit="D")
        data = pd.DataFrame(frame)  # noqa: F841 (DuckDB reads the frame by its name)
        con.execute(f"INSERT INTO {table} SELECT * FROM data")
        layout[table] = values
    con.close()
    return layout


def questions(layout: dict, count: int, seed: int) -> list[tuple[str, str, str, str, bool]]:
    """(question, table, column, value, misspelt)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        table = rng.choice(list(layout))
        column = rng.choice(TEXT_COLUMNS)
        value = rng.choice(layout[table][column])
        misspelt = i % 2 == 1
        said = value
        if misspelt:   # one letter of the second word changed
            cut = value.index(" ") + 3
            said = value[:cut] + ("a" if value[cut] != "a" else "e") + value[cut + 1:]
        topic = table.rsplit("_", 1)[0]
        out.append((f"How many {topic} records have the {column} {said}?", table, column, value, misspelt))
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


class NoModel:
    """The orchestrator's start-up is measured without a model: nothing here asks one."""

    def close(self) -> None:
        pass


def start(path: Path, cache: Path) -> tuple[SQLMoEOrchestrator, float, float]:
    """An orchestrator over the warehouse; seconds to read the schema, and to have the value index."""
    config = load_orchestrator_config({"database": {"url": str(path)}, "cache": {"dir": str(cache)}})
    started = time.perf_counter()
    orchestrator = SQLMoEOrchestrator(config, runner=NoModel())
    schema_s = time.perf_counter() - started
    orchestrator._value_index = orchestrator.value_index()
    return orchestrator, schema_s, time.perf_counter() - started


def old_cold_read(orchestrator: SQLMoEOrchestrator) -> tuple[dict, float]:
    """How values were read before: SELECT DISTINCT over every text column, 5,000 values each, in one dict."""
    started = time.perf_counter()
    entries: dict[str, list] = {}
    for table in orchestrator.catalog.tables:
        for column in table.columns:
            if "CHAR" not in column.type.upper():
                continue
            sql = f'SELECT DISTINCT "{column.name}" FROM "{table.name}" WHERE "{column.name}" IS NOT NULL LIMIT 5000'
            try:
                rows = orchestrator.database.execute(sql, limit=5000).rows
            except DatabaseError:
                continue
            for (value,) in rows:
                entries.setdefault(normalise(value), []).append((table.name, column.name, value))
    return entries, time.perf_counter() - started


def old_lookup(question: str, entries: dict, keys: list[str]) -> float:
    started = time.perf_counter()
    for phrase in mentions(question):
        key = normalise(phrase)
        if key and key not in entries and len(key) >= 4 and not phrase.islower():
            difflib.get_close_matches(key, keys, n=3, cutoff=0.8)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--values-per-column", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--baseline-questions", type=int, default=4)
    parser.add_argument("--bird", default=str(ROOT.parent / "shared" / "data" / "bird_minidev"))
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="warehouse-bench-"))
    path, cache = folder / "warehouse.duckdb", folder / "cache"
    began = time.perf_counter()
    layout = build_warehouse(path, args.tables, args.values_per_column)
    print(f"warehouse built in {time.perf_counter() - began:.1f} s: {path}", file=sys.stderr)

    cold, cold_schema_s, cold_s = start(path, cache)
    catalog, index = cold.catalog, cold._value_index
    cold.close()
    warm, warm_schema_s, warm_s = start(path, cache)
    text_columns = sum(1 for t in catalog.tables for c in t.columns if "CHAR" in c.type.upper())

    asked = questions(layout, args.questions, seed=1)
    lookup_ms, found, kept = [], 0, 0
    for question, table, column, value, _ in asked:
        started = time.perf_counter()
        matches = ground_values(question, warm._value_index)
        lookup_ms.append((time.perf_counter() - started) * 1000)
        found += any(m.value == value and m.table == table and m.column == column for m in matches)
        linked = link_schema(question, catalog, keep=[(m.table, m.column) for m in matches])
        linked_table = linked.catalog.table(table)
        kept += linked_table is not None and linked_table.column(column) is not None
    warm.close()

    baseline, _, _ = start(path, cache)
    entries, old_cold_s = old_cold_read(baseline)
    keys = list(entries)
    old_ms = [old_lookup(q[0], entries, keys) * 1000 for q in asked[:args.baseline_questions]]
    baseline.close()

    bird = score_linking(args.bird, "sqlite", full_schema_max_columns=60) if Path(args.bird).is_dir() else None

    n = len(asked)
    lines = [
        f"Warehouse: {len(catalog.tables)} tables, {catalog.column_count} columns ({text_columns} text), "
        f"{len(index):,} distinct text values indexed; {n} questions ({n - n // 2} name a value exactly, "
        f"{n // 2} with one letter changed).",
        "",
        "| measure | this version | before (same run) | goal |",
        "|---|---|---|---|",
        f"| cold start: schema read | {cold_schema_s:.2f} s | (DDL written by hand) | |",
        f"| cold start: schema + value index built and saved | {cold_s:.1f} s | values read: {old_cold_s:.1f} s, "
        f"then kept in memory only | < 60 s |",
        f"| warm start: schema + value index from the cache | {warm_s:.2f} s (schema {warm_schema_s:.2f} s) | "
        f"every start is cold | < 2 s |",
        f"| value lookup per question, p50 / p95 / max | {percentile(lookup_ms, .5):.1f} / "
        f"{percentile(lookup_ms, .95):.1f} / {max(lookup_ms):.1f} ms | difflib, {len(old_ms)} questions: "
        f"{statistics.median(old_ms):,.0f} ms median | < 50 ms |",
        f"| the question's value found (table, column, value) | {found}/{n} | | |",
        f"| the value's column kept by schema linking | {kept}/{n} | | |",
    ]
    if bird is not None:
        lines.append(f"| BIRD Mini-Dev linking recall on linked questions, columns kept (default setting) | "
                     f"{bird.linked_recall:.3f}, {bird.linked_kept_fraction:.1%} | see below | unchanged |")
    table = "\n".join(lines)
    print(table)
    if args.write_docs:
        docs = ROOT / "docs" / "benchmarks.md"
        with docs.open("a", encoding="utf-8") as out:
            out.write(f"\n## Your own warehouse: schema and value index at scale ({datetime.date.today()})\n\n"
                      f"Command: `python benchmarks/warehouse.py --write-docs` - {platform.machine()}, "
                      f"{_cores()} cores, Python {platform.python_version()}; DuckDB file, model not loaded.\n\n"
                      f"{table}\n")


def _cores() -> int:
    import os
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    main()
