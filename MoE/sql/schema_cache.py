"""Where the orchestrator's schema comes from, and the on-disk cache that makes a warm start cheap.

    schema.schema_file / schema.ddl given  -> parse the DDL (it wins over the live database)
    otherwise, a live database              -> introspect it, cached under its schema fingerprint

The cache folder (`cache.dir`) holds one folder per fingerprint: `catalog.json` (the introspected
catalog) and `values-<settings>/` (the value index, value_index.py). A changed schema has another
fingerprint, so it is read again; `refresh=True` (`--refresh-schema`) rebuilds both regardless.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from .catalog import Catalog, Column, ForeignKey, Table
from .database import Database
from .introspect import introspect, schema_fingerprint
from .value_index import ValueIndex

CATALOG_FORMAT = 1


class SchemaCache:
    """The cache folder of one database's schema (None folder: nothing is kept on disk)."""

    def __init__(self, root: Path | None, database: Database, include: tuple[str, ...] | None):
        self.database, self.include = database, include
        self.fingerprint = schema_fingerprint(database, include)
        self.folder = None if root is None else Path(root).expanduser() / self.fingerprint

    def catalog(self, refresh: bool = False) -> tuple[Catalog, bool]:
        """The catalog and whether it came from the cache."""
        path = None if self.folder is None else self.folder / "catalog.json"
        if path is not None and not refresh:
            cached = _read_catalog(path)
            if cached is not None:
                return cached, True
        catalog = introspect(self.database, self.include)
        if path is not None:
            _write_atomically(path, json.dumps({"format": CATALOG_FORMAT, "catalog": catalog_to_dict(catalog)}))
        return catalog, False

    def values_folder(self, settings: dict) -> Path | None:
        tag = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]
        return None if self.folder is None else self.folder / f"values-{tag}"


def value_index(catalog: Catalog, database: Database, folder: Path | None, settings: dict, refresh: bool = False,
                progress: Callable[[int, int], None] | None = None) -> tuple[ValueIndex, bool]:
    """The value index from `folder` when it is there, else built (and saved there); and whether it was cached."""
    if folder is not None and not refresh:
        cached = ValueIndex.load(folder)
        if cached is not None:
            return cached, True
    index = ValueIndex.build(catalog, database, settings["per_column"], settings["scan_rows"], progress=progress)
    if folder is not None:
        index.save(folder)
    return index, False


def catalog_to_dict(catalog: Catalog) -> dict:
    return {"dialect": catalog.dialect, "tables": [asdict(t) for t in catalog.tables]}


def catalog_from_dict(data: dict) -> Catalog:
    tables = []
    for t in data["tables"]:
        columns = tuple(Column(**dict(c, allowed_values=tuple(c["allowed_values"]))) for c in t["columns"])
        keys = tuple(ForeignKey(tuple(k["columns"]), k["ref_table"], tuple(k["ref_columns"])) for k in t["foreign_keys"])
        tables.append(Table(t["name"], columns, tuple(t["primary_key"]), keys, t["comment"], t["schema"]))
    return Catalog(tuple(tables), data["dialect"])


def _read_catalog(path: Path) -> Catalog | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return catalog_from_dict(data["catalog"]) if data.get("format") == CATALOG_FORMAT else None
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or from another version: read the database again


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=".catalog-", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(staging, path)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
