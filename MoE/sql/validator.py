"""The validator's real checks, run before the validator expert speaks.

1. safety   the read-only guard (one SELECT, nothing that writes or reads files)
2. parse    sqlglot in the target dialect
3. catalog  every table and column resolves against the schema catalog (close-match suggestions)
4. joins    no join condition is true for every row (a column compared with itself, ON 1 = 1); equality
            joins between tables linked by a foreign key use that key's columns
5. dry run  EXPLAIN, then the query with a small LIMIT on the database (transpiled to its dialect)

Checks stop at the first stage that fails, since later stages would only repeat the error. Besides
errors, the report carries warnings that never fail a query: a fan-out, where an aggregate over one
table's column runs after a join that repeats that table's rows (the "chasm trap"); a join nothing
uses; and filters that cannot mean what they say (antipatterns.py).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from .antipatterns import join_filter_problems, same_row_problems, trivial_join_problems
from .bm25 import tokens
from .catalog import Catalog
from .database import Database, DatabaseError
from .dialects import DIALECTS
from .grounding import Grounding, ungrounded_filters
from .guard import UnsafeSQLError, check_read_only

Stage = Literal["safety", "parse", "catalog", "joins", "dry_run", "fan_out", "unused_join", "join_filter", "same_row",
                "ungrounded"]


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
                 dry_run_limit: int = 5, question: str | None = None,
                 grounding: Grounding | None = None) -> ValidationReport:
    """Check one SQL statement. With the question, a join to a table it never mentions is a warning; with
    `grounding` (what the user gave), so is a filter nothing of it asks for (grounding.py)."""
    passed: list[Stage] = []
    try:
        safe = check_read_only(sql, dialect)
    except UnsafeSQLError as exc:
        stage: Stage = "parse" if "does not parse" in str(exc) else "safety"
        return ValidationReport(sql, (Issue(stage, str(exc)),), tuple(passed))
    passed += ["safety", "parse"]
    tree = sqlglot.parse_one(safe, read=dialect)
    pretty = tree.sql(dialect=dialect, pretty=True)

    resolved = as_resolved(tree, catalog, dialect)
    issues = catalog_issues(resolved, catalog, dialect, question)
    if issues and database is not None and all(i.message.startswith(("column", "unknown column")) for i in issues):
        # sqlglot could not resolve a column; the database's binder is the authority and explains best
        runnable = safe if database.dialect == dialect else transpile(safe, dialect, database.dialect)
        try:
            database.explain(runnable)
            issues = []
        except (DatabaseError, UnsafeSQLError) as exc:
            issues = [Issue("catalog", f"{i.message} (the database says: {exc})") for i in issues]
    if issues:
        return ValidationReport(pretty, tuple(issues), tuple(passed))
    passed.append("catalog")

    scopes = scopes_of(resolved, catalog, dialect)
    issues = [Issue("joins", m) for m in trivial_join_problems(tree)] or derived_table_issues(scopes, catalog) \
        or join_issues(scopes, catalog)
    if issues:
        return ValidationReport(pretty, tuple(issues), tuple(passed))
    passed.append("joins")
    warnings = tuple(fan_out_warnings(scopes, catalog, dialect) + unused_join_warnings(scopes, question)
                     + filter_warnings(scopes, catalog) + grounding_warnings(tree, grounding))

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


def _mapping(catalog: Catalog, dialect: str) -> dict:
    """The catalog as sqlglot takes it, lower-cased where as_resolved lower-cases the query."""
    mapping = catalog.mapping()
    return _lowered(mapping) if _ignores_case(dialect) else mapping


def _lowered(mapping: dict) -> dict:
    return {k.lower(): _lowered(v) if isinstance(v, dict) else v for k, v in mapping.items()}


def table_ref(node: exp.Table, catalog: Catalog) -> str | None:
    """The catalog's name (`ref`) for a table reference in SQL, or None when the catalog has no such table."""
    table = catalog.lookup(node)
    return table.ref if table is not None else None


def catalog_issues(tree: exp.Expression, catalog: Catalog, dialect: str, question: str | None = None) -> list[Issue]:
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    issues = []
    for table in tree.find_all(exp.Table):
        name = table.name
        if not name or (name.lower() in ctes and not table.db) or isinstance(table.this, exp.Func):
            continue
        if catalog.lookup(table) is None:
            shown = f"{table.db}.{name}" if table.db else name
            if not table.db and catalog.schemas and any(t.name.lower() == name.lower() for t in catalog.tables):
                holders = sorted(t.ref for t in catalog.tables if t.name.lower() == name.lower())
                issues.append(Issue("catalog", f"table '{name}' is in several schemas: write {' or '.join(holders)}"))
                continue
            issues.append(Issue("catalog", f"unknown table '{shown}'{_suggest(shown, [t.ref for t in catalog.tables])}"))
    if issues:
        return issues
    try:
        qualify(tree.copy(), schema=_mapping(catalog, dialect), dialect=dialect, validate_qualify_columns=True,
                quote_identifiers=False, identify=False)
    except OptimizeError as exc:
        return [Issue("catalog", _column_message(str(exc), tree, catalog, question))]
    except (SqlglotError, ValueError, KeyError):
        pass  # qualify cannot follow every dialect construct; the dry run still checks those
    return []


def _column_message(error: str, tree: exp.Expression, catalog: Catalog, question: str | None = None) -> str:
    match = re.search(r"(?:Unknown column: |Column ')([^'\s]+)", error)
    if not match:
        return error.split(". Line:")[0]
    name = match.group(1).strip('"')
    used = {ref.lower() for t in tree.find_all(exp.Table) if (ref := table_ref(t, catalog))}
    candidates = [f"{t.ref}.{c.name}" for t in catalog.tables if t.key in used for c in t.columns]
    plain = {c.rsplit(".", 1)[1]: c for c in candidates}
    close = difflib.get_close_matches(name.lower(), list(plain), n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(plain[c] for c in close)}?)" if close else ""
    elsewhere = [t.ref for t in catalog.tables if t.column(name) is not None and t.key not in used]
    asked = set(tokens(question or ""))
    elsewhere.sort(key=lambda table: not asked & set(tokens(table.replace("_", " "))))  # named tables first
    if elsewhere:  # the exact name in a table left out is the likelier fix than a similar name
        hint = f" ({name} is a column of {', '.join(elsewhere)}, which the query does not join" + \
            (f"; or did you mean {', '.join(plain[c] for c in close)}?)" if close else ")")
    table = re.search(r"for table: '([^']+)'", error)
    if table:
        alias = table.group(1)
        sources = {t.alias_or_name.lower() for t in tree.find_all(exp.Table)}
        if alias.lower() not in sources and catalog.table(alias) is not None:
            return f"{alias}.{name} is used but table {alias} is not in FROM or JOIN{_join_hint(alias, used, catalog)}"
        return f"unknown column '{name}' for table alias '{alias}'{hint}"
    holders = [t.ref for t in catalog.tables if t.key in used and t.column(name) is not None]
    if len(holders) > 1:
        return f"column '{name}' is ambiguous: tables {', '.join(holders)} all have it; qualify it"
    if not holders:
        return f"unknown column '{name}'{hint}"
    local = _tables_of_scope_missing(tree, name, catalog)
    if local:  # e.g. a CTE over refunds that uses orders' order_date
        columns = {c.name.lower(): f"{t}.{c.name}" for t in local for c in catalog.table(t).columns}
        close = difflib.get_close_matches(name.lower(), list(columns), n=2, cutoff=0.5)
        mean = f"; did you mean {', '.join(columns[c] for c in close)}?" if close else ""
        return f"{name} is not a column of {', '.join(local)}, the table(s) of the query part that uses it{mean}"
    return f"column '{name}' cannot be resolved where it is used{hint}"


def _tables_of_scope_missing(tree: exp.Expression, name: str, catalog: Catalog) -> list[str]:
    """The tables of the innermost SELECT (CTE, subquery) that uses `name` unqualified though none has it."""
    try:
        scopes = traverse_scope(tree)
    except (SqlglotError, ValueError, KeyError):
        return []
    for scope in scopes:
        sources = list(scope.selected_sources.values())
        tables = [table_ref(s, catalog) for _, s in sources if isinstance(s, exp.Table) and catalog.lookup(s) is not None]
        if not tables or len(tables) != len(sources):
            continue
        uses = any(c.name.lower() == name.lower() and not c.table for c in scope.columns)
        if uses and all(catalog.table(t).column(name) is None for t in tables):
            return tables
    return []


def _join_hint(missing: str, used: set[str], catalog: Catalog) -> str:
    for present in sorted(used):
        for pair in foreign_key_pairs(catalog, missing, present):
            (t1, c1), (t2, c2) = sorted(pair)
            return f"; add JOIN {missing} ON {t1}.{c1} = {t2}.{c2}"
    return ""


def qualify_for_catalog(tree: exp.Expression, catalog: Catalog, dialect: str) -> exp.Expression:
    """A copy with every column qualified by its table (as far as sqlglot can tell)."""
    return qualify(tree.copy(), schema=_mapping(catalog, dialect), dialect=dialect, validate_qualify_columns=False,
                   quote_identifiers=False, identify=False)


def scopes_of(tree: exp.Expression, catalog: Catalog, dialect: str) -> list:
    """The query's scopes after sqlglot qualifies every column against the catalog ([] if it cannot)."""
    try:
        return traverse_scope(qualify_for_catalog(tree, catalog, dialect))
    except (SqlglotError, ValueError, KeyError):
        return []


def derived_table_issues(scopes: list, catalog: Catalog) -> list[Issue]:
    """A subquery in FROM sees only its own tables. DuckDB quietly binds an outer column there as an
    implicit LATERAL join (`JOIN (SELECT ... FROM refunds WHERE YEAR(order_date) = 2024) r`), which runs
    the subquery once per outer row and drops the outer filter the writer meant; other databases refuse it."""
    issues = []
    for scope in scopes:
        if not scope.is_derived_table or isinstance(scope.expression.parent, exp.Lateral):
            continue
        tables = [source for _, source in scope.selected_sources.values() if isinstance(source, exp.Table)]
        own = {c.name.lower() for t in tables if catalog.lookup(t) for c in catalog.lookup(t).columns}
        if len(tables) != len(scope.selected_sources) or not own:
            continue  # nested subqueries: sqlglot qualified what it could; the dry run checks the rest
        own |= {p.alias_or_name.lower() for p in scope.expression.selects}
        for column in scope.columns:
            if not column.table and column.name.lower() not in own:
                names = ", ".join(t.name for t in tables)
                issues.append(Issue("catalog", f"{column.name} is not a column of {names}, the only table(s) of "
                                               f"the subquery it is used in; a subquery in FROM sees only its own "
                                               f"tables (filter in the outer query, or join the table inside)"))
    return list({i.message: i for i in issues}.values())


def join_issues(scopes: list, catalog: Catalog) -> list[Issue]:
    """Equality joins between two tables that a foreign key links must use that key's columns."""
    issues = []
    for scope in scopes:
        aliases = {alias: table_ref(source, catalog) or source.name
                   for alias, (_, source) in scope.selected_sources.items() if isinstance(source, exp.Table)}
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
                shared_parent = _references(catalog, lt, left.name) & _references(catalog, rt, right.name)
                if expected and pair not in expected and not shared_parent:
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
        tables = {alias: table_ref(source, catalog).lower() for alias, (_, source) in scope.selected_sources.items()
                  if isinstance(source, exp.Table) and catalog.lookup(source) is not None}
        if len(tables) < 2:
            continue
        for agg in scope.expression.find_all(*_ROW_SENSITIVE):
            if agg.find(exp.Distinct) or agg.find_ancestor(exp.Subquery, exp.CTE) not in (None, scope.expression.parent):
                continue
            for column in agg.find_all(exp.Column):
                x = tables.get(column.table)
                for alias, y in tables.items():
                    if x and alias != column.table and y != x and repeats_rows(catalog, y, x):
                        warnings.append(Issue("fan_out", f"{agg.sql(dialect)} runs after joining {y}, which repeats "
                                                         f"{x} rows; aggregate {x} and {y} in separate subqueries "
                                                         f"(or CTEs) and join their results"))
                        break
    return list({w.message: w for w in warnings}.values())


def grounding_warnings(tree: exp.Expression, grounding: Grounding | None) -> list[Issue]:
    if grounding is None:
        return []
    found = [m for select in tree.find_all(exp.Select) for m in ungrounded_filters(select, grounding)]
    return [Issue("ungrounded", m) for m in dict.fromkeys(found)]


def filter_warnings(scopes: list, catalog: Catalog) -> list[Issue]:
    """WHERE conditions that cannot mean what they say (antipatterns.py)."""
    keys = {t.key: {c.lower() for c in t.primary_key} for t in catalog.tables}
    keys |= {t.name.lower(): keys[t.key] for t in catalog.tables if catalog.table(t.name) is t}
    selects = [scope.expression for scope in scopes if isinstance(scope.expression, exp.Select)]
    return [Issue("join_filter", message) for select in selects for message in join_filter_problems(select, keys)] \
        + [Issue("same_row", message) for select in selects for message in same_row_problems(select)]


def unused_join_warnings(scopes: list, question: str | None) -> list[Issue]:
    """A joined table that the question never mentions and none of whose columns is used outside its
    own ON condition only repeats or drops rows - usually a join no one asked for. ("Students who
    have pets" joins has_pet for its rows alone; the question names it, so that join stands.)"""
    return [Issue("unused_join", f"table {join.this.name} is joined but none of its columns is used; the join "
                                 f"only repeats or drops rows - remove it unless the question needs it")
            for scope in scopes for join in unused_joins(scope, question)]


def unused_joins(scope, question: str | None) -> list[exp.Join]:
    """The scope's unused joins (see unused_join_warnings). A table used only to join an unused one is
    unused too, so the search runs until nothing changes."""
    if not question or any(isinstance(c.this, exp.Star) for c in scope.expression.find_all(exp.Count)):
        return []  # COUNT(*) counts the joined rows: every join is used
    asked = set(tokens(question))
    joins = [j for j in scope.expression.args.get("joins") or [] if isinstance(j.this, exp.Table)
             and j.args.get("on") is not None and (j.args.get("kind") or "").upper() not in ("SEMI", "ANTI")
             and not set(tokens(j.this.name)) & asked]
    columns = list(scope.expression.find_all(exp.Column))
    unused: list[exp.Join] = []
    changed = True
    while changed:
        changed = False
        for join in joins:
            if join in unused:
                continue
            alias, ignored = join.this.alias_or_name, [join] + unused
            if not any(c.table == alias and not any(_inside(c, j.args["on"]) for j in ignored) for c in columns):
                unused.append(join)
                changed = True
    return unused


def unused_join_aliases(sql: str, catalog: Catalog, dialect: str, question: str | None) -> set[str]:
    """Aliases (lower-case) of the joins unused_join_warnings warns about."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:
        return set()
    return {j.this.alias_or_name.lower() for scope in scopes_of(as_resolved(tree, catalog, dialect), catalog, dialect)
            for j in unused_joins(scope, question)}


def _inside(node: exp.Expression, ancestor: exp.Expression) -> bool:
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False


def repeats_rows(catalog: Catalog, y: str, x: str) -> bool:
    """Do rows of table y repeat rows of table x when joined along foreign keys?"""
    y_refs = {fk.ref_table.lower() for fk in catalog.table(y).foreign_keys}
    x_refs = {fk.ref_table.lower() for fk in catalog.table(x).foreign_keys}
    return x in y_refs or bool((y_refs & x_refs) - {x, y})


def _references(catalog: Catalog, table: str, column: str) -> set[tuple[str, str]]:
    """The (table, column) keys a column references; a column also stands for itself."""
    found = {(table.lower(), column.lower())}
    t = catalog.table(table)
    for fk in t.foreign_keys if t else ():
        if len(fk.columns) == 1 and fk.columns[0].lower() == column.lower() and fk.ref_columns:
            found.add((fk.ref_table.lower(), fk.ref_columns[0].lower()))
    return found


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
