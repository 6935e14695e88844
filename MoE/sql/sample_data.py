"""Deterministic sample rows for any catalog, so an embedded database built from DDL returns real rows.

Tables are filled parents first (foreign keys point at existing rows); values follow the column's
type, name and CHECK list. The same seed always gives the same database.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from .catalog import Catalog, Column, Table

FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Linus", "Radia", "Tim"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Torvalds"]
COUNTRIES = ["US", "DE", "FR", "GB", "JP", "BR", "IN", "CA"]
WORDS = ["alpha", "bravo", "delta", "echo", "nova", "orbit", "pixel", "quartz", "sierra", "terra", "ultra", "vertex"]
START, DAYS = dt.date(2023, 1, 1), 911  # 2023-01-01 .. 2025-06-30


def fill_order(catalog: Catalog) -> list[Table]:
    """Tables ordered so that every foreign key points at a table filled earlier (self-references aside)."""
    remaining = {t.key: t for t in catalog.tables}
    ordered: list[Table] = []
    while remaining:
        ready = [t for t in remaining.values()
                 if all(fk.ref_table.lower() not in remaining or fk.ref_table.lower() == t.key
                        for fk in t.foreign_keys)]
        if not ready:  # a foreign-key cycle: break it at the first table left
            ready = [next(iter(remaining.values()))]
        for t in ready:
            ordered.append(t)
            del remaining[t.key]
    return ordered


def generate(catalog: Catalog, rows: int, seed: int) -> dict[str, list[tuple]]:
    rng = random.Random(seed)
    keys: dict[tuple[str, str], list[Any]] = {}  # (table, column) -> values, for foreign keys
    data: dict[str, list[tuple]] = {}
    for table in fill_order(catalog):
        count = rows * 2 if len(table.primary_key) > 1 else rows
        data[table.ref] = _rows(table, count, rng, keys)
        for i, column in enumerate(table.columns):
            keys[(table.key, column.name.lower())] = [r[i] for r in data[table.ref]]
    return data


def _rows(table: Table, count: int, rng: random.Random, keys: dict) -> list[tuple]:
    fk_of = {fk.columns[0].lower(): fk for fk in table.foreign_keys if len(fk.columns) == 1}
    pk = [c.lower() for c in table.primary_key]
    rows, seen, counters = [], set(), {}
    for i in range(1, count + 1):
        row = []
        for column in table.columns:
            name = column.name.lower()
            fk = fk_of.get(name)
            if fk is not None:
                parents = keys.get((fk.ref_table.lower(), fk.ref_columns[0].lower())) if fk.ref_columns else None
                if fk.ref_table.lower() == table.key:  # self-reference: an earlier row, or none
                    parents = [r[0] for r in rows[: max(1, len(rows) // 4)]] or None
                value = rng.choice(parents) if parents else None
                if value is None and not column.nullable:
                    value = i
                row.append(value)
            elif pk == [name] and _is_integer(column):
                row.append(i)
            elif name in pk and _is_integer(column):  # the counter part of a composite key
                group = tuple(row[j] for j, c in enumerate(table.columns[: len(row)]) if c.name.lower() in pk)
                counters[group] = counters.get(group, 0) + 1
                row.append(counters[group])
            else:
                row.append(_value(column, i, rng))
        key = tuple(row[j] for j, c in enumerate(table.columns) if c.name.lower() in pk)
        if pk and key in seen:
            continue
        seen.add(key)
        rows.append(tuple(row))
    return rows


def _is_integer(column: Column) -> bool:
    return any(t in column.type.upper() for t in ("INT", "SERIAL"))


def _value(column: Column, i: int, rng: random.Random) -> Any:
    name, kind = column.name.lower(), column.type.upper()
    if column.nullable and rng.random() < 0.05:
        return None
    if column.allowed_values:
        return rng.choice(column.allowed_values)
    if "BOOL" in kind:
        return rng.random() < 0.85
    if "TIMESTAMP" in kind or "DATETIME" in kind:
        return dt.datetime.combine(START + dt.timedelta(days=rng.randrange(DAYS)), dt.time(rng.randrange(24), rng.randrange(60)))
    if "DATE" in kind:
        return START + dt.timedelta(days=rng.randrange(DAYS))
    if any(t in kind for t in ("DECIMAL", "NUMERIC", "DOUBLE", "FLOAT", "REAL", "MONEY")):
        return round(rng.uniform(5, 500), 2)
    if _is_integer(column):
        return rng.randint(1, 5) if ("qty" in name or "quantity" in name) else rng.randint(1, 100)
    if "email" in name:
        return f"user{i}@example.com"
    if "country" in name:
        return rng.choice(COUNTRIES)
    if "currency" in name:
        return "USD"
    if "sku" in name or name.endswith("code"):
        return f"{name[:3].upper()}-{i:05d}"
    if "name" in name:
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}" if "full" in name or "customer" in name \
            else f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} {i}"
    return f"{rng.choice(WORDS)}-{i}"
