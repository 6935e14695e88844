"""What the orchestrator knows about each SQL dialect, in one place.

One `DialectSpec` per dialect, the way sqlglot keeps one class per dialect: how names are quoted, how
a session is made read-only and given a statement timeout, how a column's values are sampled, how a
dry run is wrapped, and which SQLAlchemy backends speak it. Other modules ask here, never "which dialect?".

Where an engine has no server-side statement timeout or read-only session, the spec says so
(`timeout`, `read_only`) and docs/sql-orchestrator.md repeats it; nothing pretends otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import re
from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
# Words reserved in standard SQL (and so in most engines) that schemas still use as names.
_RESERVED = frozenset("""all alter and any as asc authorization between both by case check column constraint create
cross current default delete desc distinct drop else end except exists fetch for foreign from full grant group
having in index inner insert intersect into is join key leading left like limit natural not null offset on or
order outer partition primary range references right rows select table then to trailing union unique update user
using values when where window with""".split())


@dataclass(frozen=True)
class DialectSpec:
    name: str                       # sqlglot's name, used in the config (`dialect:`)
    display: str                    # what the experts are told they write
    sqlalchemy_names: tuple[str, ...]
    timeout: str                    # how a statement timeout is applied, in words (docs and notes)
    read_only: str                  # how the session refuses writes, in words
    explain: bool = True            # the engine has EXPLAIN for a dry run without executing
    quoted_names_ignore_case: bool = True   # "Name" matches name (PostgreSQL and Snowflake: it does not)

    def quote(self, name: str) -> str:
        """An identifier quoted the way this dialect reads quoted identifiers (`x`, "x", [x])."""
        return exp.to_identifier(name, quoted=True).sql(dialect=self.name)

    def identifier(self, name: str) -> str:
        """A name as SQL must write it: bare where the engine reads it back unchanged, quoted where it holds
        spaces or symbols, is a keyword, or has a case the engine would fold ("Select" in PostgreSQL)."""
        sqlglot_dialect = _sqlglot_dialect(self.name)
        strategy = sqlglot_dialect.NORMALIZATION_STRATEGY
        folds = (strategy == NormalizationStrategy.LOWERCASE and name != name.lower()) or \
            (strategy == NormalizationStrategy.UPPERCASE and name != name.upper())
        keyword = name.lower() in _RESERVED or name.upper() in sqlglot_dialect.tokenizer_class.KEYWORDS
        return self.quote(name) if folds or keyword or not _PLAIN.match(name) else name

    def table_ref(self, table: str, schema: str = "") -> str:
        return f"{self.quote(schema)}.{self.quote(table)}" if schema else self.quote(table)

    def sample_values_sql(self, table: str, column: str, schema: str = "", limit: int = 5000,
                          scan_rows: int = 100_000) -> str:
        """Up to `limit` distinct non-null values of one column, reading at most `scan_rows` rows: the index
        of values must not scan every row of a large warehouse on a cold start."""
        col = exp.column(exp.to_identifier(column, quoted=True))
        source = exp.Table(this=exp.to_identifier(table, quoted=True),
                           db=exp.to_identifier(schema, quoted=True) if schema else None)
        scanned = exp.select(col).from_(source).where(col.is_(exp.null()).not_()).limit(scan_rows)
        query = exp.select(exp.column(exp.to_identifier(column, quoted=True))).distinct() \
            .from_(scanned.subquery("sampled")).limit(limit)
        return query.sql(dialect=self.name)

    def dry_run(self, sql: str) -> str | None:
        """The statement that plans `sql` without running it, or None where the engine has no such statement."""
        return f"EXPLAIN {sql}" if self.explain else None

    def session_setup(self, timeout_ms: int, server_version: str = "") -> list[str]:
        """Statements run once on every new connection: read-only session and statement timeout."""
        if self.name == "postgres":
            return ["SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", f"SET statement_timeout = {timeout_ms}"]
        if self.name == "mysql":
            if "mariadb" in server_version.lower():
                return ["SET SESSION TRANSACTION READ ONLY", f"SET SESSION max_statement_time = {timeout_ms / 1000:g}"]
            return ["SET SESSION TRANSACTION READ ONLY", f"SET SESSION max_execution_time = {timeout_ms}"]
        if self.name == "snowflake":
            return [f"ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = {max(1, round(timeout_ms / 1000))}"]
        if self.name == "sqlite":
            return ["PRAGMA query_only = ON"]
        return []

    def begin_read_only(self) -> tuple[str, ...]:
        """The first statements of every transaction that runs a query, so a model's SQL never runs in a
        transaction that could write, even if a session setting was changed. In PostgreSQL the SELECT
        takes the snapshot after which `SET TRANSACTION READ WRITE` is refused."""
        return {"postgres": ("SET TRANSACTION READ ONLY", "SELECT 1"),
                "mysql": ("START TRANSACTION READ ONLY",)}.get(self.name, ())


DIALECTS: dict[str, DialectSpec] = {d.name: d for d in (
    DialectSpec("duckdb", "DuckDB", ("duckdb",),
                timeout="a watchdog interrupts the connection", read_only="the file is opened read_only, "
                "external access off, configuration locked"),
    DialectSpec("postgres", "PostgreSQL", ("postgresql",), quoted_names_ignore_case=False,
                timeout="SET statement_timeout (server side)",
                read_only="read-only session and every query in a SET TRANSACTION READ ONLY transaction"),
    DialectSpec("sqlite", "SQLite", ("sqlite",),
                timeout="a progress handler stops statements past the deadline",
                read_only="opened with mode=ro, PRAGMA query_only, an authorizer refusing ATTACH, PRAGMA "
                "writes and schema changes, and no attached databases allowed (VACUUM INTO)"),
    DialectSpec("mysql", "MySQL", ("mysql", "mariadb"),
                timeout="SET SESSION max_execution_time (MySQL) or max_statement_time (MariaDB), server side",
                read_only="read-only session and every query in a START TRANSACTION READ ONLY transaction"),
    DialectSpec("snowflake", "Snowflake", ("snowflake",), quoted_names_ignore_case=False,
                timeout="ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS (server side)",
                read_only="none at session level: connect with a role that has SELECT only"),
    DialectSpec("bigquery", "BigQuery", ("bigquery",), explain=False,
                timeout="none: BigQuery has no session statement timeout; set a job timeout or "
                "maximum_bytes_billed on the project or in the URL",
                read_only="none at session level: use a service account with the BigQuery Data Viewer role"),
    DialectSpec("tsql", "T-SQL (SQL Server)", ("mssql",), explain=False,
                timeout="the driver's query timeout (pyodbc's connection timeout attribute), client side",
                read_only="none at session level: connect with a login that has only db_datareader"),
)}


@lru_cache(maxsize=None)
def _sqlglot_dialect(name: str) -> Dialect:
    return Dialect.get_or_raise(name)


def dialect_spec(name: str) -> DialectSpec:
    try:
        return DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; known: {', '.join(DIALECTS)}") from None


def dialect_of_backend(sqlalchemy_name: str) -> str:
    """The dialect for a SQLAlchemy backend name ('postgresql' -> 'postgres'); unknown names pass through."""
    return next((d.name for d in DIALECTS.values() if sqlalchemy_name in d.sqlalchemy_names), sqlalchemy_name)


def display_name(dialect: str) -> str:
    spec = DIALECTS.get(dialect)
    return spec.display if spec else dialect

