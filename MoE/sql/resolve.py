"""Names in SQL resolved the way the engine resolves them, against the catalog (sqlglot's qualify and scopes)."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from .catalog import Catalog
from .dialects import DIALECTS


def _ignores_case(dialect: str) -> bool:
    """Does the engine match even quoted identifiers without regard to case?"""
    spec = DIALECTS.get(dialect)
    return spec is not None and spec.quoted_names_ignore_case


def as_resolved(tree: exp.Expression, catalog: Catalog, dialect: str) -> exp.Expression:
    """A copy of the tree with names as the engine resolves them, for the catalog checks.

    SQLite reads a double-quoted name that matches no column as a string ("APG" = 'APG'), a quirk
    many real queries rely on; engines that ignore case in quoted names get them unquoted.
    """
    tree = tree.copy()
    if dialect == "sqlite":
        known = {c.name.lower() for t in catalog.tables for c in t.columns}
        known |= {a.alias.lower() for a in tree.find_all(exp.Alias)}
        known |= {c.name.lower() for cte in tree.find_all(exp.CTE) for c in cte.find_all(exp.Identifier)}
        for column in list(tree.find_all(exp.Column)):
            ident = column.this
            if not column.table and isinstance(ident, exp.Identifier) and ident.quoted and ident.name.lower() not in known:
                column.replace(exp.Literal.string(ident.name))
    if _ignores_case(dialect):
        for ident in tree.find_all(exp.Identifier):
            ident.set("this", ident.name.lower())
            ident.set("quoted", False)
    return tree


def mapping_for(catalog: Catalog, dialect: str) -> dict:
    """The catalog as sqlglot takes it, lower-cased where as_resolved lower-cases the query."""
    mapping = catalog.mapping()
    return _lowered(mapping) if _ignores_case(dialect) else mapping


def _lowered(mapping: dict) -> dict:
    return {k.lower(): _lowered(v) if isinstance(v, dict) else v for k, v in mapping.items()}


def table_ref(node: exp.Table, catalog: Catalog) -> str | None:
    """The catalog's name (`ref`) for a table reference in SQL, or None when the catalog has no such table."""
    table = catalog.lookup(node)
    return table.ref if table is not None else None


def qualify_for_catalog(tree: exp.Expression, catalog: Catalog, dialect: str) -> exp.Expression:
    """A copy with every column qualified by its table (as far as sqlglot can tell)."""
    return qualify(tree.copy(), schema=mapping_for(catalog, dialect), dialect=dialect, validate_qualify_columns=False,
                   quote_identifiers=False, identify=False)


def scopes_of(tree: exp.Expression, catalog: Catalog, dialect: str) -> list:
    """The query's scopes after sqlglot qualifies every column against the catalog ([] if it cannot)."""
    try:
        return traverse_scope(qualify_for_catalog(tree, catalog, dialect))
    except (SqlglotError, ValueError, KeyError):
        return []
