"""The validator's real checks, run before the validator expert speaks.

1. safety   the read-only guard (one SELECT, nothing that writes or reads files)
2. parse    sqlglot in the target dialect
3. catalog  every table and column resolves against the schema catalog (close-match suggestions)
4. joins    equality joins between tables linked by a foreign key use that key's columns
5. dry run  EXPLAIN, then the query with a small LIMIT on the database (transpiled to its dialect)

Checks stop at the first stage that fails, since later stages would only repeat the error. Besides
errors, the report carries warnings that never fail a query: a fan-out, where an aggregate over one
table's column runs after a join that repeats that table's rows (the "chasm trap").
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from .catalog import Catalog
from .database import Database, DatabaseError
from .guard import UnsafeSQLError, check_read_only

Stage = Literal["safety", "parse", "catalog", "joins", "dry_run", "fan_out"]


@dataclass(frozen=True)
class Issue:
    stage: Stage
    message: str

    def __str__(self) -> str:
        return f"[{self.stage}] {self.message}"


@dataclass(frozen=True)
class ValidationReport:
    sql: str                                   # the SQL as checked, pretty-printed in the target dialect
    issues: tuple[Issue, ...] = ()
    passed: tuple[Stage, ...] = ()
    dry_run_columns: tuple[str, ...] = ()
    dry_run_rows: int | None = None
    notes: tuple[str, ...] = field(default=())
    warnings: tuple[Issue, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.issues


def validate_sql(sql: str, catalog: Catalog, dialect: str, database: Database | None = None,
                 dry_run_limit: int = 5) -> ValidationReport:
    passed: list[Stage] = []
    try:
        safe = check_read_only(sql, dialect)
    except UnsafeSQLError as exc:
        stage: Stage = "parse" if "does not parse" in str(exc) else "safety"
        return ValidationReport(sql, (Issue(stage, str(exc)),), tuple(passed))
    passed += ["safety", "parse"]
    tree = sqlglot.parse_one(safe, read=dialect)
    pretty = tree.sql(dialect=dialect, pretty=True)

    issues = catalog_issues(tree, catalog, dialect)
    if issues and database is not None and all(i.message.startswith(("column", "unknown column")) for i in issues):
        # sqlglot could not resolve a column; the database's binder is the authority and explains best
        runnable = safe if database.dialect == dialect else transpile(safe, dialect, database.dialect)
        try:
            database.explain(runnable)
            issues = []
        except (DatabaseError, UnsafeSQLError) as exc:
            issues = [Issue("catalog", str(exc))]
    if issues:
        return ValidationReport(pretty, tuple(issues), tuple(passed))
    passed.append("catalog")

    scopes = scopes_of(tree, catalog, dialect)
    issues = join_issues(scopes, catalog)
    if issues:
        return ValidationReport(pretty, tuple(issues), tuple(passed))
    passed.append("joins")
    warnings = tuple(fan_out_warnings(scopes, catalog, dialect))

    if database is None:
        return ValidationReport(pretty, (), tuple(passed), notes=("no database: dry run skipped",), warnings=warnings)
    runnable = safe if database.dialect == dialect else transpile(safe, dialect, database.dialect)
    try:
        database.explain(runnable)
        result = database.execute(runnable, limit=dry_run_limit)
    except (DatabaseError, UnsafeSQLError) as exc:
        return ValidationReport(pretty, (Issue("dry_run", str(exc)),), tuple(passed), warnings=warnings)
    passed.append("dry_run")
    return ValidationReport(pretty, (), tuple(passed), result.columns, len(result.rows), warnings=warnings)


def transpile(sql: str, source: str, target: str) -> str:
    return sqlglot.transpile(sql, read=source, write=target)[0]


def catalog_issues(tree: exp.Expression, catalog: Catalog, dialect: str) -> list[Issue]:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    issues = []
    for table in tree.find_all(exp.Table):
        name = table.name
        if not name or name.lower() in ctes or isinstance(table.this, exp.Func):
            continue
        if catalog.table(name) is None:
            issues.append(Issue("catalog", f"unknown table '{name}'{_suggest(name, [t.name for t in catalog.tables])}"))
    if issues:
        return issues
    try:
        qualify(tree.copy(), schema=catalog.mapping(), dialect=dialect, validate_qualify_columns=True,
                quote_identifiers=False, identify=False)
    except OptimizeError as exc:
        return [Issue("catalog", _column_message(str(exc), tree, catalog))]
    except (ParseError, ValueError, KeyError):
        pass  # qualify cannot follow every dialect construct; the dry run still checks those
    return []


def _column_message(error: str, tree: exp.Expression, catalog: Catalog) -> str:
    match = re.search(r"(?:Unknown column: |Column ')([^'\s]+)", error)
    if not match:
        return error.split(". Line:")[0]
    name = match.group(1).strip('"')
    used = {t.name.lower() for t in tree.find_all(exp.Table)}
    candidates = [f"{t.name}.{c.name}" for t in catalog.tables if t.name.lower() in used for c in t.columns]
    plain = {c.split(".", 1)[1]: c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(plain), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(plain[c] for c in close)}?)" if close else ""
    table = re.search(r"for table: '([^']+)'", error)
    if table:
        alias = table.group(1)
        sources = {t.alias_or_name.lower() for t in tree.find_all(exp.Table)}
        if alias.lower() not in sources and catalog.table(alias) is not None:
            return f"{alias}.{name} is used but table {alias} is not in FROM or JOIN{_join_hint(alias, used, catalog)}"
        return f"unknown column '{name}' for table alias '{alias}'{hint}"
    holders = [t.name for t in catalog.tables if t.name.lower() in used and t.column(name) is not None]
    if len(holders) > 1:
        return f"column '{name}' is ambiguous: tables {', '.join(holders)} all have it; qualify it"
    if not holders:
        return f"unknown column '{name}'{hint}"
    return f"column '{name}' cannot be resolved where it is used{hint}"


def _join_hint(missing: str, used: set[str], catalog: Catalog) -> str:
    for present in sorted(used):
        for pair in foreign_key_pairs(catalog, missing, present):
            (t1, c1), (t2, c2) = sorted(pair)
            return f"; add JOIN {missing} ON {t1}.{c1} = {t2}.{c2}"
    return ""


def scopes_of(tree: exp.Expression, catalog: Catalog, dialect: str) -> list:
    """The query's scopes after sqlglot qualifies every column against the catalog ([] if it cannot)."""
    try:
        qualified = qualify(tree.copy(), schema=catalog.mapping(), dialect=dialect, validate_qualify_columns=False,
                            quote_identifiers=False, identify=False)
        return traverse_scope(qualified)
    except (OptimizeError, ParseError, ValueError, KeyError):
        return []


def join_issues(scopes: list, catalog: Catalog) -> list[Issue]:
    """Equality joins between two tables that a foreign key links must use that key's columns."""
    issues = []
    for scope in scopes:
        aliases = {alias: source.name for alias, (_, source) in scope.selected_sources.items()
                   if isinstance(source, exp.Table)}
        for join in scope.expression.args.get("joins") or []:
            for eq in (join.args.get("on") or exp.true()).find_all(exp.EQ):
                left, right = eq.this, eq.expression
                if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
                    continue
                lt, rt = aliases.get(left.table), aliases.get(right.table)
                if not lt or not rt or lt.lower() == rt.lower():
                    continue
                expected = foreign_key_pairs(catalog, lt, rt)
                pair = {(lt.lower(), left.name.lower()), (rt.lower(), right.name.lower())}
                if expected and pair not in expected:
                    want = " or ".join(sorted(" = ".join(sorted(f"{t}.{c}" for t, c in p)) for p in expected))
                    issues.append(Issue("joins", f"join {lt}.{left.name} = {rt}.{right.name} does not follow a "
                                                 f"foreign key; expected {want}"))
    return issues


_ROW_SENSITIVE = (exp.Sum, exp.Avg, exp.Count)


def fan_out_warnings(scopes: list, catalog: Catalog, dialect: str) -> list[Issue]:
    """Aggregates over a table's column in a scope that also joins a table repeating its rows.

    Table Y repeats the rows of X when Y references X, or when X and Y reference the same parent
    (each X row then meets every Y row of its parent). COUNT(DISTINCT ...) is left alone.
    """
    warnings = []
    for scope in scopes:
        tables = {alias: source.name.lower() for alias, (_, source) in scope.selected_sources.items()
                  if isinstance(source, exp.Table) and catalog.table(source.name) is not None}
        if len(tables) < 2:
            continue
        for agg in scope.expression.find_all(*_ROW_SENSITIVE):
            if agg.find(exp.Distinct) or agg.find_ancestor(exp.Subquery, exp.CTE) not in (None, scope.expression.parent):
                continue
            for column in agg.find_all(exp.Column):
                x = tables.get(column.table)
                for alias, y in tables.items():
                    if x and alias != column.table and y != x and _repeats(catalog, y, x):
                        warnings.append(Issue("fan_out", f"{agg.sql(dialect)} runs after joining {y}, which repeats "
                                                         f"{x} rows; aggregate {x} and {y} in separate subqueries "
                                                         f"(or CTEs) and join their results"))
                        break
    return list({w.message: w for w in warnings}.values())


def _repeats(catalog: Catalog, y: str, x: str) -> bool:
    """Do rows of table y repeat rows of table x when joined along foreign keys?"""
    y_refs = {fk.ref_table.lower() for fk in catalog.table(y).foreign_keys}
    x_refs = {fk.ref_table.lower() for fk in catalog.table(x).foreign_keys}
    return x in y_refs or bool((y_refs & x_refs) - {x, y})


def foreign_key_pairs(catalog: Catalog, a: str, b: str) -> list[set[tuple[str, str]]]:
    pairs = []
    for src, dst in ((a, b), (b, a)):
        table = catalog.table(src)
        for fk in table.foreign_keys if table else ():
            if fk.ref_table.lower() == dst.lower() and len(fk.columns) == 1 and fk.ref_columns:
                pairs.append({(src.lower(), fk.columns[0].lower()), (dst.lower(), fk.ref_columns[0].lower())})
    return pairs


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name.lower(), [o.lower() for o in options], n=2, cutoff=0.5)
    return f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
