"""The index of database values that value grounding looks phrases up in, built once and kept on disk.

Building reads a bounded sample of each text column (`values.per_column` distinct values from at most
`values.scan_rows` rows, with the dialect's own quoting), never every row of a large warehouse. Lookups:
- exact, up to case, punctuation and plural endings: a binary search over the sorted normalised values;
- close spellings: character trigrams (of the padded normalised value) in an inverted index narrow a
  million values to the few hundred sharing the most trigrams with the phrase, and rapidfuzz scores those.

On disk the index is four files in one folder (values, keys, column names, numpy arrays), written to a
temporary folder and renamed into place, so a reader never sees half an index. Loading is a file read:
no normalising, no sorting.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from rapidfuzz import fuzz, process

from .catalog import Catalog
from .database import Database, DatabaseError
from .dialects import dialect_spec
from .bm25 import stem

_WORD = re.compile(r"[a-z0-9]+")
_TEXT_TYPES = ("CHAR", "TEXT", "STRING", "CLOB", "VARCHAR", "NAME", "ENUM")
_ALPHABET = " abcdefghijklmnopqrstuvwxyz0123456789"   # normalised values hold only these
_CODES = np.zeros(256, dtype=np.int64)
_CODES[np.frombuffer(_ALPHABET.encode(), dtype=np.uint8)] = np.arange(len(_ALPHABET))
_TRIGRAMS = len(_ALPHABET) ** 3
FORMAT = 1   # bump when the files change; an index of another format is rebuilt


@dataclass(frozen=True)
class ValueIndex:
    keys: list[str]                    # normalised values, sorted
    values: list[str]                  # the value as stored, for each key
    column_ids: np.ndarray             # which (table, column) each entry came from
    columns: list[tuple[str, str]]     # (table ref, column name)
    offsets: np.ndarray                # trigram t's entries are postings[offsets[t]:offsets[t + 1]]
    postings: np.ndarray

    @classmethod
    def from_values(cls, found: list[tuple[str, str, str]]) -> "ValueIndex":
        """An index of (table, column, value) triples."""
        columns: dict[tuple[str, str], int] = {}
        rows = []
        for table, column, value in found:
            key = normalise(value)
            if key:
                rows.append((key, value, columns.setdefault((table, column), len(columns))))
        rows.sort()
        keys = [r[0] for r in rows]
        offsets, postings = _trigram_index(keys)
        return cls(keys, [r[1] for r in rows], np.array([r[2] for r in rows], dtype=np.int32), list(columns),
                   offsets, postings)

    @classmethod
    def build(cls, catalog: Catalog, database: Database, per_column: int = 5000, scan_rows: int = 100_000,
              max_length: int = 80, progress: Callable[[int, int], None] | None = None) -> "ValueIndex":
        """Sample every text column of the catalog; `progress(done, total)` after each column."""
        spec = dialect_spec(database.dialect)
        text_columns = [(t, c) for t in catalog.tables for c in t.columns
                        if any(k in c.type.upper() for k in _TEXT_TYPES)]
        found: list[tuple[str, str, str]] = []
        for done, (table, column) in enumerate(text_columns, 1):
            sql = spec.sample_values_sql(table.name, column.name, table.schema, per_column, scan_rows)
            try:
                rows = database.catalog_rows(sql)
            except DatabaseError:
                rows = []   # a column the database cannot read as text: no grounding for it
            found += [(table.ref, column.name, v) for (v,) in rows
                      if isinstance(v, str) and 0 < len(v) <= max_length and "\n" not in v]
            if progress is not None:
                progress(done, len(text_columns))
        return cls.from_values(found)

    def __len__(self) -> int:
        return len(self.keys)

    def exact(self, key: str) -> list[tuple[str, str, str]]:
        """(table, column, value) of every entry whose normalised value is `key`."""
        lo, hi = bisect_left(self.keys, key), bisect_right(self.keys, key)
        return [(*self.columns[self.column_ids[i]], self.values[i]) for i in range(lo, hi)]

    def similar(self, key: str, cutoff: float = 0.8, limit: int = 3, shortlist: int = 400) -> list[tuple[str, float]]:
        """Up to `limit` distinct normalised values at least `cutoff` similar to `key` (rapidfuzz's normalised
        Indel similarity, as difflib's ratio), best first."""
        wanted = np.unique(_trigrams_of(key))
        if not len(self.keys) or not len(wanted):
            return []
        lists = [self.postings[self.offsets[t]:self.offsets[t + 1]] for t in wanted]
        hits = np.concatenate(lists) if lists else np.empty(0, dtype=np.int32)
        if not len(hits):
            return []
        entries, shared = np.unique(hits, return_counts=True)
        if len(entries) > shortlist:
            entries = entries[np.argpartition(-shared, shortlist)[:shortlist]]
        choices = sorted({self.keys[i] for i in entries})
        scored = process.extract(key, choices, scorer=fuzz.ratio, score_cutoff=cutoff * 100, limit=limit)
        return [(choice, score / 100) for choice, score, _ in scored]

    def save(self, folder: Path) -> None:
        """Write atomically: a temporary sibling folder renamed into place."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".values-", dir=folder.parent))
        try:
            (staging / "keys.txt").write_text("\n".join(self.keys), encoding="utf-8")
            (staging / "values.txt").write_text("\n".join(self.values), encoding="utf-8")
            (staging / "columns.json").write_text(json.dumps({"format": FORMAT, "columns": self.columns}))
            np.savez(staging / "index.npz", column_ids=self.column_ids, offsets=self.offsets, postings=self.postings)
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(staging, folder)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "ValueIndex | None":
        """The saved index, or None when there is none (or it is of another format)."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / "columns.json").read_text())
            if meta.get("format") != FORMAT:
                return None
            keys = _lines(folder / "keys.txt")
            values = _lines(folder / "values.txt")
            with np.load(folder / "index.npz") as arrays:
                column_ids, offsets, postings = arrays["column_ids"], arrays["offsets"], arrays["postings"]
        except (OSError, ValueError, KeyError):
            return None
        if len(keys) != len(values) or len(keys) != len(column_ids):
            return None
        return cls(keys, values, column_ids, [tuple(c) for c in meta["columns"]], offsets, postings)


def normalise(text: str) -> str:
    """Lower case, words of letters and digits, plural endings dropped: 'The Dogs!' -> 'the dog'."""
    return " ".join(stem(w) for w in _WORD.findall(text.lower()))


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return text.split("\n") if text else []


def _trigrams_of(key: str) -> np.ndarray:
    codes = _CODES[np.frombuffer(f" {key} ".encode("ascii", "ignore"), dtype=np.uint8)]
    return codes[:-2] * 1369 + codes[1:-1] * 37 + codes[2:]


def _trigram_index(keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """CSR inverted index: for each trigram id, the sorted entries whose padded key contains it."""
    if not keys:
        return np.zeros(_TRIGRAMS + 1, dtype=np.int64), np.empty(0, dtype=np.int32)
    padded = [f" {k} " for k in keys]
    lengths = np.fromiter((len(p) for p in padded), dtype=np.int64, count=len(padded))
    codes = _CODES[np.frombuffer("".join(padded).encode("ascii", "ignore"), dtype=np.uint8)]
    owner = np.repeat(np.arange(len(keys), dtype=np.int64), lengths)
    valid = owner[:-2] == owner[2:]          # the three characters belong to one value
    trigram = (codes[:-2] * 1369 + codes[1:-1] * 37 + codes[2:])[valid]
    pairs = np.unique(trigram * len(keys) + owner[:-2][valid])
    trigram_ids, entries = pairs // len(keys), (pairs % len(keys)).astype(np.int32)
    offsets = np.searchsorted(trigram_ids, np.arange(_TRIGRAMS + 1)).astype(np.int64)
    return offsets, entries
