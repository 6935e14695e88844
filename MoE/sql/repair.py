"""Mechanical repairs, tried before a failing query goes back to the model.

Each takes SQL and returns a fixed SQL with a note, or None when it does not apply. They only make
changes that cannot alter the query's meaning.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from .catalog import Catalog


def qualify_join_equated_columns(sql: str, dialect: str, catalog: Catalog) -> tuple[str, str] | None:
    """Qualify an unqualified column that two joined sources share when the join equates them.

    `SELECT month FROM a JOIN b ON a.month = b.month` is ambiguous to the database, yet both sides
    hold the same value on every joined row; the FROM side (kept by a LEFT JOIN too) is chosen.
    """
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
        scopes = traverse_scope(tree)
    except (sqlglot.errors.SqlglotError, ValueError, KeyError):
        return None
    fixed = []
    for scope in scopes:
        select = scope.expression
        if not isinstance(select, exp.Select) or not select.args.get("joins"):
            continue
        source = select.args.get("from_")
        from_alias = source.this.alias_or_name if source is not None else ""
        equated: dict[str, str] = {}
        for join in select.args["joins"]:
            for eq in (join.args.get("on") or exp.true()).find_all(exp.EQ):
                left, right = eq.this, eq.expression
                if isinstance(left, exp.Column) and isinstance(right, exp.Column) and left.table and right.table \
                        and left.name.lower() == right.name.lower():
                    pair = (left.table, right.table)
                    equated[left.name.lower()] = from_alias if from_alias in pair else left.table
        for column in scope.columns:
            if not column.table and column.name.lower() in equated:
                column.set("table", exp.to_identifier(equated[column.name.lower()]))
                fixed.append(f"{equated[column.name.lower()]}.{column.name}")
    if not fixed:
        return None
    return tree.sql(dialect=dialect), f"qualified {', '.join(sorted(set(fixed)))} (the join makes both sides equal)"


def requalify_misplaced_columns(sql: str, dialect: str, catalog: Catalog) -> tuple[str, str] | None:
    """`T2.name` where T2's table has no `name` but exactly one other table of the same SELECT has:
    the query cannot run as written, and only one reading of it can."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return None
    fixed = []
    for select in tree.find_all(exp.Select):
        sources = [select.args.get("from_")] + list(select.args.get("joins") or [])
        tables = {s.this.alias_or_name.lower(): catalog.table(s.this.name) for s in sources
                  if s is not None and isinstance(s.this, exp.Table)}
        if None in tables.values():
            continue
        spelled = {s.this.alias_or_name.lower(): s.this.alias_or_name for s in sources if s is not None}
        for column in select.find_all(exp.Column):
            alias = column.table.lower()
            if column.find_ancestor(exp.Select) is not select or alias not in tables:
                continue
            if tables[alias].column(column.name) is not None:
                continue
            holders = [spelled[a] for a, t in tables.items() if t.column(column.name) is not None]
            if len(holders) == 1:
                fixed.append(f"{column.table}.{column.name} -> {holders[0]}.{column.name}")
                column.set("table", exp.to_identifier(holders[0]))
    if not fixed:
        return None
    return tree.sql(dialect=dialect), f"re-qualified {', '.join(fixed)} (the only joined table with that column)"


MECHANICAL_REPAIRS = (qualify_join_equated_columns, requalify_misplaced_columns)


def drop_joins(sql: str, dialect: str, aliases: set[str]) -> tuple[str, str] | None:
    """Remove the joins of the given (lower-case) aliases; used for joins the validator found unused."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return None
    dropped = []
    for join in list(tree.find_all(exp.Join)):
        if isinstance(join.this, exp.Table) and join.this.alias_or_name.lower() in aliases:
            dropped.append(join.this.name)
            join.pop()
    if not dropped:
        return None
    return tree.sql(dialect=dialect), f"dropped the unused join(s) to {', '.join(sorted(set(dropped)))}"
