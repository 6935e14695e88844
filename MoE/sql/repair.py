"""Mechanical repairs, tried before a failing query goes back to the model.

Each takes SQL and returns a fixed SQL with a note, or None when it does not apply. They only make
changes that cannot alter the query's meaning.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from .catalog import Catalog
from .antipatterns import trivial_join_problems
from .lint import repeats_rows, unused_join_aliases


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
        tables = {s.this.alias_or_name.lower(): catalog.lookup(s.this) for s in sources
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

_PRE_AGGREGABLE = (exp.Sum, exp.Min, exp.Max)


def preaggregate_fanned_joins(sql: str, dialect: str, catalog: Catalog) -> tuple[str, str] | None:
    """Aggregate a joined table by its join key before the join, when that join repeats other rows.

    `SELECT m, SUM(o.total), SUM(r.amount) FROM orders o JOIN refunds r ON o.id = r.order_id GROUP BY m`
    counts an order's total once per refund. Joining `(SELECT order_id, SUM(amount) AS amount FROM refunds
    GROUP BY order_id)` instead keeps one row per order and leaves SUM(r.amount) unchanged. Applies only
    where every use of the joined table outside its ON is SUM, MIN or MAX of one of its columns.
    """
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return None
    fixed = []
    for select in list(tree.find_all(exp.Select)):
        sources = {s.this.alias_or_name: catalog.lookup(s.this).ref for s in
                   [select.args.get("from_")] + list(select.args.get("joins") or [])
                   if s is not None and isinstance(s.this, exp.Table) and catalog.lookup(s.this) is not None}
        for join in select.args.get("joins") or []:
            subquery = _preaggregated(select, join, sources, catalog)
            if subquery is not None:
                fixed.append(join.this.name)
                join.set("this", subquery)
    if not fixed:
        return None
    return tree.sql(dialect=dialect), f"aggregated {', '.join(fixed)} by the join key before joining (its rows " \
                                      "repeated the other table's rows in the totals)"


def _preaggregated(select: exp.Select, join: exp.Join, sources: dict[str, str], catalog: Catalog):
    on, table = join.args.get("on"), join.this
    if not isinstance(table, exp.Table) or table.alias_or_name not in sources or not isinstance(on, exp.EQ):
        return None
    alias = table.alias_or_name
    sides = [c for c in (on.this, on.expression) if isinstance(c, exp.Column)]
    owners = [_owner(c, sources, catalog) for c in sides]
    if len(sides) != 2 or owners.count(alias) != 1 or None in owners:
        return None
    key, other = (sides[0].name, owners[1]) if owners[0] == alias else (sides[1].name, owners[0])
    if not repeats_rows(catalog, catalog.lookup(table).key, sources[other].lower()):
        return None
    uses = [c for c in select.find_all(exp.Column) if c.find_ancestor(exp.Select) is select
            and c.find_ancestor(exp.Join) is not join and _owner(c, sources, catalog) == alias]
    if not uses or any(not isinstance(c.parent, _PRE_AGGREGABLE) or c.parent.find(exp.Distinct) for c in uses):
        return None
    functions: dict[str, type] = {}
    for column in uses:
        if functions.setdefault(column.name, type(column.parent)) is not type(column.parent):
            return None  # SUM(x) and MAX(x) of one column would need two names
    projections = [exp.column(key)] + [func(this=exp.column(name)).as_(name) for name, func in functions.items()]
    source = table.copy()
    source.set("alias", None)
    inner = exp.select(*projections).from_(source).group_by(exp.column(key))
    return exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _owner(column: exp.Column, sources: dict[str, str], catalog: Catalog) -> str | None:
    """The alias of the source a column belongs to: its qualifier, or the only source that has it."""
    if column.table:
        return column.table if column.table in sources else None
    holders = [a for a, t in sources.items() if catalog.table(t).column(column.name) is not None]
    return holders[0] if len(holders) == 1 else None


FAN_OUT_ADVICE = ("To total columns of several tables per group (per month, per customer), aggregate each "
                  "table in its own subquery grouped by that key, computed from the table's own columns (its "
                  "own date, say), then join the subqueries on the key: joining the raw tables first repeats "
                  "rows and inflates the totals.")

# Given up front only when the router sees several measures in the question (router.several_measures):
# in every prompt it made the small model write subqueries that simple Spider questions do not need.
SEVERAL_MEASURES_ADVICE = (
    "The question asks for several measures. If they come from different tables, do not join the raw tables "
    "(that repeats rows and inflates the totals): aggregate each table on its own, by a key computed from its "
    "own columns (its own date, say), then join the results on that key, like this:\n"
    "WITH <first>_totals AS (SELECT <key expression on t1> AS <key>, SUM(<t1 column>) AS <first> FROM t1 "
    "GROUP BY <key>),\n"
    "<second>_totals AS (SELECT <key expression on t2> AS <key>, SUM(<t2 column>) AS <second> FROM t2 "
    "GROUP BY <key>)\n"
    "SELECT <first>_totals.<key>, <first>, <second> FROM <first>_totals LEFT JOIN <second>_totals USING (<key>)")


def repair_advice(sql: str, dialect: str, feedback: list[str]) -> list[str]:
    """Advice that fits the errors at hand, sent with them to the sql_writer.

    Kept out of the writer's first prompt: on Spider the general advice made a small model write
    subqueries that simple questions do not need (docs/benchmarks.md).
    """
    if not any("which the query does not join" in f or "is not in FROM or JOIN" in f for f in feedback):
        return []
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return []
    return [FAN_OUT_ADVICE] if tree.find(exp.AggFunc) is not None else []


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


def mechanical_fix(sql: str, report, question: str, dialect: str, catalog: Catalog, check):
    """A deterministic fix that checks out better, as (sql, its report, what was done), or None. For errors,
    MECHANICAL_REPAIRS; for unused-join and fan-out warnings, dropping or pre-aggregating those joins.
    `check(sql)` validates a candidate. No fix may make a join true for every row."""
    if report.ok:
        stages = {w.stage for w in report.warnings}
        attempts = []
        if "unused_join" in stages:
            attempts.append(drop_joins(report.sql, dialect, unused_join_aliases(report.sql, catalog, dialect, question)))
        if "fan_out" in stages:
            attempts.append(preaggregate_fanned_joins(report.sql, dialect, catalog))
        better = lambda new: new.ok and len(new.warnings) < len(report.warnings)
        base = report.sql
    else:
        attempts = [repair(sql, dialect, catalog) for repair in MECHANICAL_REPAIRS]
        better = lambda new: len(new.passed) > len(report.passed) or new.ok
        base = sql
    for fixed in attempts:
        if fixed is None or _trivial_joins(fixed[0], dialect) > _trivial_joins(base, dialect):
            continue
        new_report = check(fixed[0])
        if better(new_report):
            return fixed[0], new_report, fixed[1]
    return None


def _trivial_joins(sql: str, dialect: str) -> int:
    try:
        return len(trivial_join_problems(sqlglot.parse_one(sql, read=dialect)))
    except sqlglot.errors.SqlglotError:
        return 0


def needs_repair(report, warned: bool, repairable: tuple[str, ...]) -> bool:
    """Errors always go back to the writer; warnings (of the repairable kinds) get one round, since they
    may be intended."""
    return not report.ok or (not warned and any(w.stage in repairable for w in report.warnings))
