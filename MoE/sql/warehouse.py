"""The database and the catalog the experts work on, made ready before the first question.

    open_live_database   the URL or file the config names, opened first (a wrong URL fails before a model loads)
    load_catalog         the DDL's catalog when there is DDL (it wins), else the live database's, through the cache
    load_value_index     the index of database values, from the cache while the schema is unchanged
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from Qwen3.errors import ConfigError

from .catalog import Catalog, parse_ddl
from .config import OrchestratorConfig, ValuesConfig
from .database import Database, DuckDBDatabase, connect
from .schema_cache import SchemaCache, value_index
from .value_index import ValueIndex

Progress = Callable[[str], None]


def open_live_database(config: OrchestratorConfig) -> Database | None:
    """The database the config names; None for the embedded database (built from the catalog) and kind none."""
    settings, timeout = config.database, config.safety.statement_timeout_s
    if settings.kind == "url":
        return connect(settings.url, timeout, base=Path(config.base_dir))
    if settings.kind == "embedded" and settings.path:
        return DuckDBDatabase.open_file(str(config.resolve(settings.path)), timeout)
    return None


def load_catalog(config: OrchestratorConfig, database: Database | None, ddl: str | None, refresh: bool,
                 progress: Progress) -> tuple[Catalog, SchemaCache | None]:
    """The catalog, and the cache it came through (None for DDL)."""
    if ddl is not None:
        return parse_ddl(ddl, config.schema_.dialect), None
    if database is None:
        raise ConfigError("no schema: give schema.schema_file or schema.ddl, or a database to read it from")
    root = config.resolve(config.cache.dir) if config.cache.enabled else None
    cache = SchemaCache(root, database, config.schema_.include)
    progress(f"reading the schema of {database.identity}")
    catalog, cached = cache.catalog(refresh=refresh)
    progress(f"schema: {len(catalog.tables)} tables, {catalog.column_count} columns" + (" (cached)" if cached else ""))
    return catalog, cache


def load_value_index(catalog: Catalog, database: Database, cache: SchemaCache | None, settings: ValuesConfig,
                     refresh: bool, progress: Progress) -> ValueIndex:
    wanted = {"per_column": settings.per_column, "scan_rows": settings.scan_rows}
    folder = cache.values_folder(wanted) if cache is not None else None
    last = [0.0]

    def columns_done(done: int, total: int) -> None:   # a line every 2 s at most, and at the end
        if done == total or time.perf_counter() - last[0] > 2:
            last[0] = time.perf_counter()
            progress(f"indexing values: {done}/{total} text columns")
    index, cached = value_index(catalog, database, folder, wanted, refresh=refresh, progress=columns_done)
    progress(f"value index: {len(index)} values" + (" (cached)" if cached else ""))
    return index
