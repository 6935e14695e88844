"""The read-only policy: only one SELECT (or WITH ... SELECT, or a set operation of SELECTs) runs.

The SQL is parsed with sqlglot in the target dialect and its whole tree is inspected. Anything that
writes, changes settings, attaches databases, or reads files or the network is refused, wherever it
hides (a CTE, a subquery, a table function). What runs is the SQL regenerated from the checked tree,
never the model's original text, so a parser difference cannot smuggle a second statement through.
The database layer adds its own locks (read-only connections, DuckDB external access off).
"""

from __future__ import annotations

import logging
import re

import sqlglot
from sqlglot import exp

from Qwen3.errors import RunnerError


logging.getLogger("sqlglot").setLevel(logging.ERROR)  # it warns when it falls back to a raw Command

# DuckDB reads files through table names such as "data.csv" or '/etc/passwd' (replacement scans).
_PATH_LIKE = re.compile(r"[/\\:~]|\.[A-Za-z0-9]{1,8}$")


class UnsafeSQLError(RunnerError):
    """The SQL was refused by the read-only policy; the message says why."""


_QUERY_ROOTS = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)

_FORBIDDEN_NODE_NAMES = (
    "Insert", "Update", "Delete", "Merge", "Create", "Drop", "Alter", "AlterTable", "TruncateTable", "Command",
    "Pragma", "Copy", "Set", "Use", "Transaction", "Commit", "Rollback", "Grant", "Revoke", "LoadData", "Into",
    "Lock", "Attach", "Detach", "Install", "Cache", "Uncache", "Refresh", "Kill", "Analyze", "Export", "Put",
    "Declare", "Summarize", "Show", "Describe", "Execute",
)
_FORBIDDEN_NODES = tuple(getattr(exp, name) for name in _FORBIDDEN_NODE_NAMES if hasattr(exp, name))

# Functions that read files or the network, execute strings as SQL, change state, or stall the server.
FORBIDDEN_FUNCTIONS = frozenset("""
read_csv read_csv_auto csv_scan sniff_csv read_parquet parquet_scan parquet_metadata parquet_schema read_json
read_json_auto read_json_objects read_json_objects_auto read_ndjson read_ndjson_auto read_ndjson_objects
read_text read_blob read_xlsx glob iceberg_scan iceberg_metadata delta_scan sqlite_scan sqlite_attach
postgres_scan postgres_attach postgres_query mysql_scan mysql_query st_read query query_table getenv
pg_read_file pg_read_binary_file pg_ls_dir pg_stat_file pg_ls_logdir pg_ls_waldir lo_import lo_export
lo_from_bytea lo_put dblink dblink_exec dblink_connect set_config pg_sleep pg_sleep_for pg_sleep_until sleep
benchmark pg_terminate_backend pg_cancel_backend pg_reload_conf pg_rotate_logfile nextval setval
pg_advisory_lock pg_advisory_xact_lock load_file load_extension openrowset opendatasource openquery
xp_cmdshell http_get http_post url_encode_query txid_current pg_switch_wal external_query
""".split())

# Table-valued functions that only compute values.
ALLOWED_TABLE_FUNCTIONS = frozenset({"unnest", "generate_series", "exploding_generate_series", "range", "explode",
                                     "generate_subscripts"})


def check_read_only(sql: str, dialect: str) -> str:
    """Return the single read-only statement, regenerated from its syntax tree, or raise UnsafeSQLError."""
    if not sql or not sql.strip():
        raise UnsafeSQLError("refused: the SQL is empty")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:
        raise UnsafeSQLError(f"refused: the SQL does not parse as {dialect} ({_first_line(exc)})") from None
    if len(statements) != 1:
        raise UnsafeSQLError(f"refused: exactly one statement may run, found {len(statements)}")
    statement = statements[0]
    if not isinstance(statement, _QUERY_ROOTS):
        raise UnsafeSQLError(f"refused: only SELECT queries may run, not {_describe(statement)}")
    for node in statement.walk():
        reason = _forbidden(node)
        if reason:
            raise UnsafeSQLError(f"refused: {reason}")
    try:
        return statement.sql(dialect=dialect)
    except sqlglot.errors.UnsupportedError as exc:
        raise UnsafeSQLError(f"refused: cannot render the query in {dialect} ({_first_line(exc)})") from None


def _forbidden(node: exp.Expression) -> str | None:
    if isinstance(node, _FORBIDDEN_NODES):
        return f"{_describe(node)} is not a read-only operation"
    if isinstance(node, exp.Func):
        name = _function_name(node)
        if name in FORBIDDEN_FUNCTIONS:
            return f"function {name}() reads files or the network, or changes state"
    if isinstance(node, exp.Table):
        source = node.this
        if isinstance(source, exp.Literal):  # DuckDB: SELECT * FROM 'file.csv'
            return f"reading the file or URL {source.sql()} is not allowed"
        if isinstance(source, exp.Identifier) and _PATH_LIKE.search(source.name):
            return f"the table name {source.name!r} looks like a file path or URL"
        if isinstance(source, exp.Func):
            name = _function_name(source)
            if name not in ALLOWED_TABLE_FUNCTIONS:
                return f"table function {name}() is not allowed"
        if node.args.get("catalog") is not None and isinstance(node.args["catalog"], exp.Literal):
            return "reading from a file path is not allowed"
    if isinstance(node, exp.Select) and node.args.get("into") is not None:
        return "SELECT ... INTO creates a table"
    return None


def _function_name(func: exp.Func) -> str:
    if isinstance(func, exp.Anonymous):
        return str(func.this).lower()
    return func.sql_name().lower()


def _describe(node: exp.Expression) -> str:
    key = node.key.upper().replace("_", " ")
    if isinstance(node, exp.Command):
        return f"the command {str(node.this).upper()}"
    return key


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
