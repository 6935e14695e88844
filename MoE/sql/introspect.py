"""The catalog read from a live database: tables and views, columns, types, keys and comments.

SQLAlchemy's inspector for PostgreSQL, MySQL/MariaDB, SQLite and other SQLAlchemy backends (batched
`get_multi_*` calls, so a schema of thousands of columns takes a few queries, not one per table);
DuckDB's own catalog functions for DuckDB files.

`include` names the schemas (namespaces) to read; None reads the connection's default schema. As in
DDL (catalog.py), tables of the default schema keep bare names and every other table is known as
`schema.table`, so two tables that share a name in two schemas stay distinct.

`schema_fingerprint` is one cheap query over the column listing: the cache (schema_cache.py) keys the
catalog and the value index by it, so a warm start reads neither again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from Qwen3.errors import ConfigError

from .catalog import Catalog, Column, ForeignKey, Table
from .database import Database, DatabaseError, DuckDBDatabase, SQLAlchemyDatabase, one_line


def introspect(database: Database, include: tuple[str, ...] | None = None) -> Catalog:
    """The catalog of the named schemas (default: the connection's default schema)."""
    if isinstance(database, DuckDBDatabase):
        raw = _duckdb_tables(database)
        default = database.default_schema()
    elif isinstance(database, SQLAlchemyDatabase):
        raw, default = _sqlalchemy_tables(database, include)
    else:
        raise ConfigError(f"cannot read a schema from a {type(database).__name__}")
    wanted = tuple(include) if include else (default,)
    present = {t["schema"] for t in raw}
    missing = [s for s in wanted if s.lower() not in {p.lower() for p in present} and s != default]
    if missing and not (isinstance(database, SQLAlchemyDatabase) and _schema_exists(database, missing)):
        known = sorted(present) or ["(none)"]
        raise ConfigError(f"config key 'schema.include': schema {missing[0]!r} not found in the database "
                          f"(schemas with tables: {', '.join(known)})")
    lowered = {s.lower() for s in wanted}
    tables = [t for t in raw if t["schema"].lower() in lowered]
    if not tables:
        raise DatabaseError(f"{database.identity} has no tables or views in schema {', '.join(wanted)}: "
                            "nothing to ask questions about")
    return Catalog(tuple(_freeze(t, (default or "").lower()) for t in tables), database.dialect)


def schema_fingerprint(database: Database, include: tuple[str, ...] | None = None) -> str:
    """A hash of every (schema, table, column, type) the database lists; changes when the schema does."""
    digest = hashlib.sha256(f"{database.dialect}|{database.identity}|{sorted(include or ())}".encode())
    for row in database.catalog_rows(_FINGERPRINT_QUERIES.get(database.dialect, _INFORMATION_SCHEMA)):
        digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()[:24]


_INFORMATION_SCHEMA = ("SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
                       "ORDER BY 1, 2, 3")
_FINGERPRINT_QUERIES = {
    "duckdb": "SELECT schema_name, table_name, column_name, data_type, comment FROM duckdb_columns() "
              "WHERE NOT internal ORDER BY 1, 2, column_index",
    "sqlite": "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name",
    "postgres": "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
                "col_description(c.oid, a.attnum), obj_description(c.oid) FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'v', 'm', 'p', 'f') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, a.attnum",
    "mysql": "SELECT table_schema, table_name, column_name, column_type, column_comment FROM information_schema.columns "
             "WHERE table_schema = DATABASE() ORDER BY 1, 2, ordinal_position",
}


def _duckdb_tables(database: DuckDBDatabase) -> list[dict[str, Any]]:
    rows = database.catalog_rows(
        "SELECT schema_name, table_name, comment, 'table' FROM duckdb_tables() WHERE NOT internal "
        "UNION ALL SELECT schema_name, view_name, comment, 'view' FROM duckdb_views() WHERE NOT internal "
        "AND schema_name NOT IN ('information_schema', 'pg_catalog')")
    tables = {(s, n): {"schema": s, "name": n, "comment": c or "", "columns": [], "pk": [], "fks": []}
              for s, n, c, _ in rows}
    for s, n, column, type_, nullable, comment in database.catalog_rows(
            "SELECT schema_name, table_name, column_name, data_type, is_nullable, comment FROM duckdb_columns() "
            "WHERE NOT internal ORDER BY schema_name, table_name, column_index"):
        if (s, n) in tables:
            tables[(s, n)]["columns"].append({"name": column, "type": type_, "nullable": bool(nullable),
                                              "comment": comment or ""})
    for s, n, kind, columns, ref_table, ref_columns in database.catalog_rows(
            "SELECT schema_name, table_name, constraint_type, constraint_column_names, referenced_table, "
            "referenced_column_names FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')"):
        table = tables.get((s, n))
        if table is None:
            continue
        if kind == "PRIMARY KEY":
            table["pk"] = list(columns)
        else:  # DuckDB keys reference tables of the same schema
            table["fks"].append({"columns": list(columns), "schema": s, "table": ref_table,
                                 "ref_columns": list(ref_columns)})
    return list(tables.values())


def _sqlalchemy_tables(database: SQLAlchemyDatabase, include) -> tuple[list[dict[str, Any]], str]:
    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    try:
        inspector = inspect(database.engine)
        default = inspector.default_schema_name or ""
        out = []
        for schema in include or (default,):
            ask = None if schema == default else schema
            try:
                out += _reflect_schema(inspector, database, schema, ask)
            except SQLAlchemyError:  # one object the login may not describe: go table by table
                inspector = inspect(database.engine)
                out += _reflect_one_by_one(inspector, database, schema, ask)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot read the schema: {one_line(exc)}") from None
    return out, default


def _reflect_schema(inspector, database: SQLAlchemyDatabase, schema: str, ask: str | None) -> list[dict[str, Any]]:
    """Every table and view of one schema in a few batched queries."""
    from sqlalchemy.engine.reflection import ObjectKind

    columns = inspector.get_multi_columns(schema=ask, kind=ObjectKind.ANY)
    keys = inspector.get_multi_pk_constraint(schema=ask, kind=ObjectKind.ANY)
    foreign = inspector.get_multi_foreign_keys(schema=ask, kind=ObjectKind.ANY)
    comments = _table_comments(inspector, ask)
    return [_reflected(database, schema, name, cols, keys.get((ask, name)), foreign.get((ask, name), []),
                       comments.get((ask, name))) for (_, name), cols in columns.items()]


def _reflect_one_by_one(inspector, database: SQLAlchemyDatabase, schema: str, ask: str | None) -> list[dict[str, Any]]:
    """Table by table. MySQL describes a view only to a login with SHOW VIEW; such a view's columns come
    from information_schema, which any login that may read the view sees."""
    from sqlalchemy.exc import SQLAlchemyError

    out = []
    for name in inspector.get_table_names(schema=ask) + inspector.get_view_names(schema=ask):
        try:
            out.append(_reflected(database, schema, name, inspector.get_columns(name, schema=ask),
                                  inspector.get_pk_constraint(name, schema=ask),
                                  inspector.get_foreign_keys(name, schema=ask), _table_comment(inspector, name, ask)))
        except SQLAlchemyError:
            rows = database.catalog_rows(_information_schema_columns(database, schema, name))
            out.append({"schema": schema, "name": name, "comment": "", "pk": [], "fks": [],
                        "columns": [{"name": c, "type": str(t).upper(), "nullable": str(n).upper() == "YES",
                                     "comment": ""} for c, t, n in rows]})
    return out


def _information_schema_columns(database: SQLAlchemyDatabase, schema: str, table: str) -> str:
    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"
    return (f"SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = "
            f"{literal(schema)} AND table_name = {literal(table)} ORDER BY ordinal_position")


def _reflected(database: SQLAlchemyDatabase, schema: str, name: str, cols: list, pk: dict | None, fks: list,
               comment: dict | None) -> dict[str, Any]:
    return {
        "schema": schema, "name": name, "comment": (comment or {}).get("text") or "",
        "columns": [{"name": c["name"], "type": _type_name(c["type"], database.engine.dialect),
                     "nullable": c.get("nullable", True), "comment": c.get("comment") or ""} for c in cols],
        "pk": list((pk or {}).get("constrained_columns") or []),
        "fks": [{"columns": fk["constrained_columns"], "schema": fk.get("referred_schema") or schema,
                 "table": fk["referred_table"], "ref_columns": fk["referred_columns"]}
                for fk in fks if fk.get("referred_table")],
    }


def _table_comments(inspector, schema) -> dict:
    from sqlalchemy.engine.reflection import ObjectKind

    try:
        return inspector.get_multi_table_comment(schema=schema, kind=ObjectKind.ANY)
    except NotImplementedError:  # SQLite keeps no comments
        return {}


def _table_comment(inspector, name: str, schema) -> dict | None:
    try:
        return inspector.get_table_comment(name, schema=schema)
    except NotImplementedError:
        return None


def _schema_exists(database: SQLAlchemyDatabase, names: list[str]) -> bool:
    """An included schema without tables is fine if it exists (another included one has tables)."""
    from sqlalchemy import inspect

    known = {s.lower() for s in inspect(database.engine).get_schema_names()}
    return all(n.lower() in known for n in names)


def _type_name(type_, dialect) -> str:
    try:
        return type_.compile(dialect=dialect)
    except Exception:  # a type the dialect cannot render (e.g. a NullType for an unknown column type)
        return str(type_.__class__.__name__).upper()


def _freeze(t: dict[str, Any], default: str) -> Table:
    """A frozen table; names in the default schema are bare."""
    def ref(schema: str, name: str) -> str:
        return name if schema.lower() == default else f"{schema}.{name}"
    pk = tuple(t["pk"])
    columns = tuple(Column(c["name"], c["type"], c["comment"], c["nullable"] and c["name"] not in pk,
                           c["name"] in pk) for c in t["columns"])
    fks = tuple(ForeignKey(tuple(fk["columns"]), ref(fk["schema"], fk["table"]), tuple(fk["ref_columns"]))
                for fk in t["fks"])
    return Table(t["name"], columns, pk, fks, t["comment"], schema="" if t["schema"].lower() == default else t["schema"])
