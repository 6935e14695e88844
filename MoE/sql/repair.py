"""Mechanical repairs, tried before a failing query goes back to the model.

Each takes SQL and returns a fixed SQL with a note, or None when it does not apply. They only make
changes that cannot alter the query's meaning.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope


def qualify_join_equated_columns(sql: str, dialect: str) -> tuple[str, str] | None:
    """Qualify an unqualified column that two joined sources share when the join equates them.

    `SELECT month FROM a JOIN b ON a.month = b.month` is ambiguous to the database, yet both sides
    hold the same value on every joined row; the FROM side (kept by a LEFT JOIN too) is chosen.
    """
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
        scopes = traverse_scope(tree)
    except (sqlglot.errors.ParseError, sqlglot.errors.OptimizeError, ValueError, KeyError):
        return None
    fixed = []
    for scope in scopes:
        select = scope.expression
        if not isinstance(select, exp.Select) or not select.args.get("joins"):
            continue
        source = select.args.get("from")
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


MECHANICAL_REPAIRS = (qualify_join_equated_columns,)
