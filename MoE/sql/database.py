"""Databases the orchestrator checks SQL against: embedded DuckDB (from the DDL, with sample rows,
or a DuckDB file opened read-only) and any SQLAlchemy URL (PostgreSQL, SQLite, MySQL, ...).

Every statement passes the read-only guard here too, whoever calls. Connections are locked down
as far as each engine allows: DuckDB with external access off and its configuration locked,
PostgreSQL and MySQL in read-only transactions, SQLite with query_only. Statements have a timeout.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import sqlglot

from Qwen3.errors import RunnerError

from . import sample_data
from .catalog import Catalog
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

    def explain(self, sql: str) -> None: ...

    def execute(self, sql: str, limit: int) -> QueryResult: ...

    def close(self) -> None: ...


class DuckDBDatabase:
    dialect = "duckdb"

    def __init__(self, connection, timeout_s: float):
        self.connection, self.timeout_s = connection, timeout_s
        self.lock = threading.Lock()

    @classmethod
    def from_catalog(cls, catalog: Catalog, ddl: str, rows: int, seed: int, timeout_s: float) -> "DuckDBDatabase":
        import duckdb

        connection = duckdb.connect(":memory:")
        for statement in sqlglot.parse(ddl, read=catalog.dialect):
            if statement is not None and statement.key in ("create", "comment"):
                connection.execute(statement.sql(dialect="duckdb"))
        for table, table_rows in sample_data.generate(catalog, rows, seed).items():
            if table_rows:
                marks = ", ".join("?" * len(table_rows[0]))
                connection.executemany(f'INSERT INTO "{table}" VALUES ({marks})', table_rows)
        connection.execute("SET enable_progress_bar = false")
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
        return cls(connection, timeout_s)

    @classmethod
    def open_file(cls, path: str, timeout_s: float) -> "DuckDBDatabase":
        import duckdb

        try:
            connection = duckdb.connect(path, read_only=True, config={"enable_external_access": False})
            connection.execute("SET enable_progress_bar = false")
            connection.execute("SET lock_configuration = true")
        except duckdb.Error as exc:
            raise DatabaseError(f"cannot open DuckDB file {path}: {_one_line(exc)}") from None
        return cls(connection, timeout_s)

    def explain(self, sql: str) -> None:
        self._run("EXPLAIN " + check_read_only(sql, self.dialect), None)

    def execute(self, sql: str, limit: int) -> QueryResult:
        return self._run(check_read_only(sql, self.dialect), limit)

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
                raise DatabaseError(_one_line(exc)) from None
            finally:
                timer.cancel()
        return _result(columns, rows, limit, started)

    def close(self) -> None:
        self.connection.close()


_SQLALCHEMY_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite", "mysql": "mysql", "mariadb": "mysql",
                        "mssql": "tsql", "snowflake": "snowflake", "bigquery": "bigquery", "duckdb": "duckdb"}


class SQLAlchemyDatabase:
    """A live database. Each statement runs in its own read-only transaction that is rolled back."""

    def __init__(self, url: str, timeout_s: float):
        try:
            from sqlalchemy import create_engine, event
            from sqlalchemy.exc import ArgumentError, NoSuchModuleError

            self.engine = create_engine(url, pool_pre_ping=True)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise DatabaseError(f"cannot use database URL: {_one_line(exc)}") from None
        name = self.engine.dialect.name
        self.dialect = _SQLALCHEMY_DIALECTS.get(name, name)
        self.timeout_s = timeout_s
        self._sqlite_deadline = {"t": 0.0}  # SQLite has no statement timeout: a progress handler checks this
        event.listen(self.engine, "connect", self._lock_down)

    def _lock_down(self, dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        ms = int(self.timeout_s * 1000)
        if self.dialect == "postgres":
            cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.execute(f"SET statement_timeout = {ms}")
        elif self.dialect == "mysql":
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.execute(f"SET SESSION max_execution_time = {ms}")
        elif self.dialect == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
            deadline = self._sqlite_deadline
            dbapi_connection.set_progress_handler(lambda: int(time.monotonic() > deadline["t"]), 10_000)
        cursor.close()
        if self.dialect != "sqlite":
            dbapi_connection.commit()

    def explain(self, sql: str) -> None:
        if self.dialect in ("postgres", "mysql", "sqlite", "duckdb", "snowflake"):
            self._run("EXPLAIN " + check_read_only(sql, self.dialect), None)

    def execute(self, sql: str, limit: int) -> QueryResult:
        return self._run(check_read_only(sql, self.dialect), limit)

    def _run(self, sql: str, limit: int | None) -> QueryResult:
        from sqlalchemy.exc import SQLAlchemyError

        started = time.perf_counter()
        try:
            connection = self.engine.raw_connection()
        except SQLAlchemyError as exc:
            raise DatabaseError(f"cannot connect: {_one_line(exc)}") from None
        try:
            self._sqlite_deadline["t"] = time.monotonic() + self.timeout_s
            cursor = connection.cursor()
            cursor.execute(sql)  # raw DB-API call: no parameter parsing of ':' or '%'
            columns = tuple(d[0] for d in cursor.description or [])
            rows = [tuple(r) for r in (cursor.fetchmany(limit + 1) if limit is not None else cursor.fetchall())]
            cursor.close()
        except Exception as exc:  # each driver has its own error classes
            message = _one_line(exc)
            if "interrupted" in message.lower() or "statement timeout" in message.lower():
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


def _result(columns: tuple[str, ...], rows: list, limit: int | None, started: float) -> QueryResult:
    """Rows up to `limit`; one row more was fetched to tell whether the result was cut."""
    truncated = limit is not None and len(rows) > limit
    return QueryResult(columns, rows[:limit] if limit is not None else rows, truncated, time.perf_counter() - started)


def open_database(config, catalog: Catalog, ddl: str) -> Database | None:
    """The database named by the orchestrator config, or None when checks must stay static."""
    settings, timeout = config.database, config.safety.statement_timeout_s
    if settings.kind == "none":
        return None
    if settings.kind == "url":
        return SQLAlchemyDatabase(settings.url, timeout)
    if settings.path:
        return DuckDBDatabase.open_file(str(config.resolve(settings.path)), timeout)
    try:
        return DuckDBDatabase.from_catalog(catalog, ddl, settings.sample_rows, settings.seed, timeout)
    except Exception as exc:  # duckdb raises its own error types for DDL it cannot run
        raise DatabaseError(f"cannot build the embedded database from the schema: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return " ".join(text.split("\n")[:2])[:300] if text else type(exc).__name__


def rows_as_dicts(result: QueryResult) -> list[dict[str, Any]]:
    return [dict(zip(result.columns, row)) for row in result.rows]
