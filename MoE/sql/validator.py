"""The validator's real checks, run before the validator expert speaks.

1. safety   the read-only guard (one SELECT, nothing that writes or reads files)
2. parse    sqlglot in the target dialect
3. catalog  every table and column resolves against the schema catalog (close-match suggestions)
4. joins    no join condition is true for every row (a column compared with itself, ON 1 = 1); equality
            joins between tables linked by a foreign key use that key's columns
5. dry run  EXPLAIN, then the query with a small LIMIT on the database (transpiled to its dialect)

Checks stop at the first stage that fails, since later stages would only repeat the error. Besides
errors, the report carries the warnings of lint.py, which never fail a query. Names are resolved as
the engine resolves them (resolve.py).
"""

from __future__ import annotations

import difflib
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from .antipatterns import trivial_join_problems
from .bm25 import tokens
from .catalog import Catalog
from .database import Database, DatabaseError
from .grounding import Grounding
from .guard import UnsafeSQLError, check_read_only
from .lint import fan_out_warnings, filter_warnings, grounding_warnings, unused_join_warnings
from .report import Issue, Stage, ValidationReport
from .resolve import as_resolved, mapping_for, scopes_of, table_ref

__all__ = ["Issue", "ValidationReport", "foreign_key_pairs", "transpile", "validate_sql"]

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
        qualify(tree.copy(), schema=mapping_for(catalog, dialect), dialect=dialect, validate_qualify_columns=True,
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


def compact_sql(sql: str, dialect: str) -> str:
    """The SQL on one line as sqlglot writes it (the text itself, spaces squeezed, if it does not parse)."""
    try:
        return sqlglot.transpile(sql, read=dialect, write=dialect)[0]
    except sqlglot.errors.SqlglotError:
        return " ".join(sql.split())


def normal_form(sql: str, dialect: str) -> str:
    """A form in which two statements are equal when their syntax trees are."""
    try:
        return transpile(sql, dialect, dialect).lower()
    except Exception:  # unparsable SQL is simply "different"; the checks will say why
        return " ".join(sql.split()).lower()
