"""Databases the orchestrator checks SQL against: embedded DuckDB (from the DDL, with sample rows),
a DuckDB or SQLite file, and any SQLAlchemy URL (PostgreSQL, MySQL/MariaDB, SQLite, ...).

Two locks. Every statement passes the read-only guard here, whoever calls. Behind it the database
itself refuses writes, as far as each engine allows (dialects.py says how, per dialect): DuckDB files
are opened read_only with external access off and the configuration locked (the embedded database is
built in a temporary file, then reopened so); SQLite files open with mode=ro, query_only, an authorizer
and no attachable databases; PostgreSQL and MySQL sessions are read-only and every query runs in a
read-only transaction that is rolled back. Statements have a timeout. A file that does not exist is
an error, never created; a server that cannot be reached is a one-line error at open.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from sqlglot import exp

from Qwen3.errors import RunnerError

from . import sample_data
from .catalog import Catalog, parse_statements
from .dialects import DIALECTS, dialect_of_backend, dialect_spec
from .guard import check_read_only


class DatabaseError(RunnerError):
    """The database rejected or failed a statement; the message is the database's own, on one line."""


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: list[tuple]
    truncated: bool
    seconds: float


class Database(Protocol):
    dialect: str
    identity: str   # which database this is, without secrets (cache keys, messages)

    def explain(self, sql: str) -> None: ...

    def execute(self, sql: str, limit: int) -> QueryResult: ...

    def catalog_rows(self, sql: str) -> list[tuple]:
        """Rows of the orchestrator's own catalog query, in the same locked-down session (no guard:
        catalog functions such as duckdb_columns() are not for the experts' SQL)."""

    def close(self) -> None: ...


class DuckDBDatabase:
    dialect = "duckdb"

    def __init__(self, connection, timeout_s: float, identity: str, cleanup: str | None = None):
        self.connection, self.timeout_s, self.identity = connection, timeout_s, identity
        self.lock = threading.Lock()
        self._cleanup = cleanup  # the embedded database's temporary folder

    @classmethod
    def from_catalog(cls, catalog: Catalog, ddl: str, rows: int, seed: int, timeout_s: float,
                     data_sql: str | None = None) -> "DuckDBDatabase":
        """Build the schema in a temporary file with `data_sql`'s INSERT statements, or deterministic sample
        rows, then reopen it read-only."""
        import duckdb

        folder = tempfile.mkdtemp(prefix="moe-sql-")
        path = os.path.join(folder, "embedded.duckdb")
        try:
            connection = duckdb.connect(path)
            for schema in catalog.schemas:
                connection.execute(f"CREATE SCHEMA IF NOT EXISTS {dialect_spec('duckdb').quote(schema)}")
            for statement in parse_statements(ddl, catalog.dialect):
                if statement.key == "comment" or (statement.key == "create" and statement.kind == "TABLE"):
                    for name in statement.find_all(exp.Table):  # the DDL's default schema is DuckDB's main
                        known = catalog.lookup(name)
                        if known is not None and not known.schema:
                            name.set("db", None)
                    connection.execute(statement.sql(dialect="duckdb"))
            if data_sql is not None:
                for statement in parse_statements(data_sql, catalog.dialect):
                    if not isinstance(statement, exp.Insert):
                        raise DatabaseError(f"the data file may hold INSERT statements only, not {statement.key.upper()}")
                    connection.execute(statement.sql(dialect="duckdb"))
            generated = sample_data.generate(catalog, rows, seed) if data_sql is None else {}
            for table, table_rows in generated.items():
                if table_rows:
                    marks = ", ".join("?" * len(table_rows[0]))
                    target = catalog.table(table)
                    connection.executemany(f"INSERT INTO {dialect_spec('duckdb').table_ref(target.name, target.schema)} "
                                           f"VALUES ({marks})", table_rows)
            connection.close()
            return cls.open_file(path, timeout_s, identity="embedded", cleanup=folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    @classmethod
    def open_file(cls, path: str, timeout_s: float, identity: str | None = None,
                  cleanup: str | None = None) -> "DuckDBDatabase":
        import duckdb

        if not Path(path).is_file():
            raise DatabaseError(f"DuckDB file not found: {path}")
        try:
            connection = duckdb.connect(path, read_only=True, config={"enable_external_access": False})
            connection.execute("SET enable_progress_bar = false")
            connection.execute("SET lock_configuration = true")
        except duckdb.Error as exc:
            raise DatabaseError(f"cannot open DuckDB file {path}: {one_line(exc)}") from None
        return cls(connection, timeout_s, identity or f"duckdb:{Path(path).resolve()}", cleanup)

    def default_schema(self) -> str:
        return self.catalog_rows("SELECT current_schema()")[0][0]

    def explain(self, sql: str) -> None:
        self._run("EXPLAIN " + check_read_only(sql, self.dialect), None)

    def execute(self, sql: str, limit: int) -> QueryResult:
        return self._run(check_read_only(sql, self.dialect), limit)

    def catalog_rows(self, sql: str) -> list[tuple]:
        return self._run(sql, None).rows

    def _run(self, sql: str, limit: int | None) -> QueryResult:
        import duckdb

        with self.lock:
            timer = threading.Timer(self.timeout_s, self.connection.interrupt)
            started = time.perf_counter()
            timer.start()
            try:
                cursor = self.connection.execute(sql)
                columns = tuple(d[0] for d in cursor.description or [])
                rows = cursor.fetchmany(limit + 1) if limit is not None else cursor.fetchall()
            except duckdb.InterruptException:
                raise DatabaseError(f"statement timed out after {self.timeout_s:g}s") from None
            except duckdb.Error as exc:
                raise DatabaseError(one_line(exc)) from None
            finally:
                timer.cancel()
        return _result(columns, rows, limit, started)

    def close(self) -> None:
        self.connection.close()
        if self._cleanup:
            shutil.rmtree(self._cleanup, ignore_errors=True)


# SQLite authorizer: no ATTACH/DETACH (VACUUM INTO and file writes go through them), no PRAGMA that
# sets a value (writable_schema, query_only = OFF), nothing that changes the schema or rows.
_SQLITE_DENIED = {getattr(sqlite3, name) for name in (
    "SQLITE_ATTACH", "SQLITE_DETACH", "SQLITE_INSERT", "SQLITE_UPDATE", "SQLITE_DELETE", "SQLITE_CREATE_TABLE",
    "SQLITE_CREATE_INDEX", "SQLITE_CREATE_VIEW", "SQLITE_CREATE_TRIGGER", "SQLITE_DROP_TABLE", "SQLITE_DROP_INDEX",
    "SQLITE_DROP_VIEW", "SQLITE_DROP_TRIGGER", "SQLITE_ALTER_TABLE", "SQLITE_CREATE_VTABLE", "SQLITE_DROP_VTABLE",
    "SQLITE_CREATE_TEMP_TABLE", "SQLITE_CREATE_TEMP_VIEW", "SQLITE_CREATE_TEMP_TRIGGER", "SQLITE_CREATE_TEMP_INDEX",
    "SQLITE_REINDEX", "SQLITE_ANALYZE", "SQLITE_SAVEPOINT") if hasattr(sqlite3, name)}


# PRAGMAs that take an argument only to name what they read (schema introspection).
_SQLITE_READING_PRAGMAS = {"table_info", "table_xinfo", "foreign_key_list", "index_list", "index_info", "index_xinfo",
                           "table_list", "function_list", "collation_list", "pragma_list", "database_list"}


def _sqlite_authorizer(action, arg1, arg2, _db, _trigger):
    if action in _SQLITE_DENIED:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_PRAGMA and arg2 is not None and (arg1 or "").lower() not in _SQLITE_READING_PRAGMAS:
        return sqlite3.SQLITE_DENY  # a PRAGMA that sets a value: writable_schema, query_only = OFF, journal_mode ...
    return sqlite3.SQLITE_OK


class SQLAlchemyDatabase:
    """A live database. Each statement runs in its own read-only transaction that is rolled back."""

    def __init__(self, url: str, timeout_s: float):
        try:
            from sqlalchemy import create_engine, event
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError, NoSuchModuleError

            parsed = make_url(url)
            options: dict[str, Any] = {"pool_pre_ping": True}
            if parsed.get_backend_name() == "sqlite":
                options = {"creator": _sqlite_opener(parsed.database)}
            self.engine = create_engine(parsed, **options)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise DatabaseError(f"cannot use database URL: {one_line(exc)}") from None
        self.identity = parsed.render_as_string(hide_password=True)
        self.dialect = dialect_of_backend(self.engine.dialect.name)
        self.spec = DIALECTS.get(self.dialect)   # None for a backend this project has no dialect for
        self.timeout_s = timeout_s
        self._sqlite_deadline = {"t": 0.0}  # SQLite has no statement timeout: a progress handler checks this
        event.listen(self.engine, "connect", self._lock_down)
        self._check_connection()

    def _check_connection(self) -> None:
        try:
            self.engine.connect().close()
        except Exception as exc:  # each driver raises its own errors for refused, unknown host, bad password
            self.engine.dispose()
            raise DatabaseError(f"cannot connect to {self.identity}: {one_line(_root_cause(exc))}") from None

    def _lock_down(self, dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        version = ""
        if self.dialect == "mysql":
            cursor.execute("SELECT VERSION()")
            version = str(cursor.fetchone()[0])
        for statement in self.spec.session_setup(int(self.timeout_s * 1000), version) if self.spec else []:
            cursor.execute(statement)
        cursor.close()
        if self.dialect == "tsql" and hasattr(dbapi_connection, "timeout"):
            dbapi_connection.timeout = max(1, round(self.timeout_s))  # pyodbc: the query timeout, in seconds
        if self.dialect == "sqlite":  # after PRAGMA query_only = ON, which the authorizer would refuse
            deadline = self._sqlite_deadline
            dbapi_connection.set_progress_handler(lambda: int(time.monotonic() > deadline["t"]), 10_000)
            dbapi_connection.set_authorizer(_sqlite_authorizer)
            dbapi_connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        else:
            dbapi_connection.commit()

    def explain(self, sql: str) -> None:
        checked = check_read_only(sql, self.dialect)
        wrapped = self.spec.dry_run(checked) if self.spec else None
        if wrapped is not None:
            self._run(wrapped, None)

    def execute(self, sql: str, limit: int) -> QueryResult:
        return self._run(check_read_only(sql, self.dialect), limit)

    def catalog_rows(self, sql: str) -> list[tuple]:
        return self._run(sql, None).rows

    def _run(self, sql: str, limit: int | None) -> QueryResult:
        from sqlalchemy.exc import SQLAlchemyError

        started = time.perf_counter()
        try:
            connection = self.engine.raw_connection()
        except SQLAlchemyError as exc:
            raise DatabaseError(f"cannot connect: {one_line(_root_cause(exc))}") from None
        try:
            self._sqlite_deadline["t"] = time.monotonic() + self.timeout_s
            cursor = connection.cursor()
            for statement in self.spec.begin_read_only() if self.spec else []:
                cursor.execute(statement)
            cursor.execute(sql)  # raw DB-API call: no parameter parsing of ':' or '%'
            columns = tuple(d[0] for d in cursor.description or [])
            rows = [tuple(r) for r in (cursor.fetchmany(limit + 1) if limit is not None else cursor.fetchall())]
            cursor.close()
        except Exception as exc:  # each driver has its own error classes
            message = one_line(exc)
            if any(s in message.lower() for s in ("interrupted", "statement timeout", "max_statement_time",
                                                  "maximum statement execution time")):
                message = f"statement timed out after {self.timeout_s:g}s"
            raise DatabaseError(message) from None
        finally:
            try:
                connection.rollback()
            finally:
                connection.close()
        return _result(columns, rows, limit, started)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_opener(path: str | None):
    """SQLite files open read-only (mode=ro): a mistyped name is an error, never a new empty database."""
    if path and path.startswith("file:"):  # sqlite:///file:/path?mode=ro&uri=true, SQLAlchemy's URI form
        path = path.removeprefix("file:")
    if not path or path == ":memory:":
        raise DatabaseError("a SQLite URL must name an existing database file (sqlite:///path/to/file.db)")
    if not Path(path).is_file():
        raise DatabaseError(f"SQLite file not found: {path}")
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=ro"
    return lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)


def _root_cause(exc: BaseException) -> BaseException:
    """The driver's own error under SQLAlchemy's wrapper (its message names the real problem)."""
    return getattr(exc, "orig", None) or exc


def _result(columns: tuple[str, ...], rows: list, limit: int | None, started: float) -> QueryResult:
    """Rows up to `limit`; one row more was fetched to tell whether the result was cut."""
    truncated = limit is not None and len(rows) > limit
    return QueryResult(columns, rows[:limit] if limit is not None else rows, truncated, time.perf_counter() - started)


_FILE_SUFFIXES = {".duckdb": "duckdb", ".ddb": "duckdb", ".sqlite": "sqlite", ".sqlite3": "sqlite", ".db": "sqlite"}


def file_kind(url: str) -> str | None:
    """'duckdb' or 'sqlite' when `url` is a database file path (or a duckdb:/// URL) rather than a URL."""
    if url.startswith("duckdb:///"):
        return "duckdb"
    if "://" in url:
        return None
    return _FILE_SUFFIXES.get(Path(url).suffix.lower())


def connect(url: str, timeout_s: float, base: Path | None = None) -> Database:
    """A live database from a SQLAlchemy URL, a duckdb:/// URL or a DuckDB / SQLite file path."""
    kind = file_kind(url)
    if kind is None:
        return SQLAlchemyDatabase(url, timeout_s)
    path = Path(url.removeprefix("duckdb:///")).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    if kind == "duckdb":
        return DuckDBDatabase.open_file(str(path), timeout_s)
    return SQLAlchemyDatabase(f"sqlite:///{path}", timeout_s)


def open_embedded(catalog: Catalog, ddl: str, rows: int, seed: int, timeout_s: float,
                  data_sql: str | None = None) -> DuckDBDatabase:
    try:
        return DuckDBDatabase.from_catalog(catalog, ddl, rows, seed, timeout_s, data_sql)
    except DatabaseError:
        raise
    except Exception as exc:  # duckdb raises its own error types for DDL it cannot run
        raise DatabaseError(f"cannot build the embedded database from the schema: {one_line(exc)}") from None


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return " ".join(text.split("\n")[:2])[:300] if text else type(exc).__name__


def rows_as_dicts(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row)) for row in result.rows]
