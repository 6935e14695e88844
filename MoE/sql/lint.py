"""Warnings: SQL that runs but probably does not mean what the question asks. They never fail a query; they
send it back to the writer once (orchestrator.py) and lower the answer's confidence.

- fan_out      an aggregate over one table's column after a join that repeats that table's rows (the "chasm trap")
- unused_join  a joined table the question never mentions and nothing uses
- join_filter, same_row  filters that cannot mean what they say (antipatterns.py)
- ungrounded   a filter nothing the user gave asks for (grounding.py)
- definition   a definition in the schema's comments that the question uses, not followed (definitions.py)
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from .antipatterns import join_filter_problems, same_row_problems
from .bm25 import tokens
from .catalog import Catalog
from .definitions import unmet_definitions
from .grounding import Grounding, ungrounded_filters
from .report import Issue
from .resolve import as_resolved, scopes_of, table_ref


_ROW_SENSITIVE = (exp.Sum, exp.Avg)


def fan_out_warnings(scopes: list, catalog: Catalog, dialect: str) -> list[Issue]:
    """SUM or AVG of a table's column in a scope that also joins a table repeating its rows.

    Table Y repeats the rows of X when Y references X, or when X and Y reference the same parent
    (each X row then meets every Y row of its parent). Only the columns whose values are added up count:
    in SUM(IIF(x.kind = 'a', y.amount, 0)) x.kind only picks rows. COUNT is left alone: like COUNT(*)
    it counts the joined rows, which is what a count over a join usually means.
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
            for column in measured_columns(agg):
                x = tables.get(column.table)
                for alias, y in tables.items():
                    if x and alias != column.table and y != x and repeats_rows(catalog, y, x):
                        warnings.append(Issue("fan_out", f"{agg.sql(dialect)} runs after joining {y}, which repeats "
                                                         f"{x} rows; aggregate {x} and {y} in separate subqueries "
                                                         f"(or CTEs) and join their results"))
                        break
    return list({w.message: w for w in warnings}.values())


def measured_columns(aggregate: exp.Expression) -> list[exp.Column]:
    """The columns whose values an aggregate adds up, not those that only decide which rows count
    (conditions of CASE / IIF, comparisons, predicates)."""
    return [c for c in aggregate.find_all(exp.Column) if not _in_condition(c, aggregate)]


def _in_condition(column: exp.Column, top: exp.Expression) -> bool:
    node, parent = column, column.parent
    while parent is not None and node is not top:
        if isinstance(parent, (exp.Predicate, exp.Connector, exp.Not)):
            return True
        if isinstance(parent, exp.If) and node is parent.args.get("this"):      # CASE WHEN cond / IIF(cond, ...)
            return True
        node, parent = parent, parent.parent
    return False


def grounding_warnings(tree: exp.Expression, grounding: Grounding | None) -> list[Issue]:
    if grounding is None:
        return []
    found = [m for select in tree.find_all(exp.Select) for m in ungrounded_filters(select, grounding)]
    return [Issue("ungrounded", m) for m in dict.fromkeys(found)] + \
        [Issue("definition", m) for m in unmet_definitions(tree, grounding.definitions)]


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
    have pets" joins has_pet for its rows alone; the question names it, so that join stands.) Where
    repeats cannot matter - SELECT DISTINCT, the set of an IN, the body of an EXISTS - such a join only
    keeps the rows that have a match, and is left alone."""
    return [Issue("unused_join", f"table {join.this.name} is joined but none of its columns is used; the join "
                                 f"only repeats or drops rows - remove it unless the question needs it")
            for scope in scopes for join in unused_joins(scope, question)]


def unused_joins(scope, question: str | None) -> list[exp.Join]:
    """The scope's unused joins (see unused_join_warnings). A table used only to join an unused one is
    unused too, so the search runs until nothing changes."""
    if not question or any(isinstance(c.this, exp.Star) for c in scope.expression.find_all(exp.Count)):
        return []  # COUNT(*) counts the joined rows: every join is used
    if scope.expression.args.get("distinct") or _tests_existence(scope.expression):
        return []  # repeated rows do not matter here: the join asks "has a matching row", a fair question
    words = tokens(question)
    asked = set(words) | {a + b for a, b in zip(words, words[1:])}   # "gas stations" names gasstations
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


def _tests_existence(select: exp.Expression) -> bool:
    """Is this SELECT the set of an IN / NOT IN or the body of an EXISTS?"""
    parent = select.parent.parent if isinstance(select.parent, exp.Subquery) else select.parent
    return isinstance(parent, (exp.In, exp.Exists))


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
