"""What a query does, in words, read from its syntax tree: the explanation when no model writes one.

    describe_sql("SELECT name, COUNT(*) FROM pets WHERE age > 2 GROUP BY name", "sqlite")
    -> "Reads pets; keeps the rows where age > 2; groups them by name; returns name and the number of rows."

It says only what the SQL says (tables, joins, filters, grouping, ordering, limits), so it cannot claim
what the query does not do; whether that answers the question is for the checks and the reader.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

AGGREGATES = {exp.Count: "the number of", exp.Avg: "the average", exp.Sum: "the total", exp.Min: "the smallest",
              exp.Max: "the largest"}
SET_OPERATIONS = {exp.Union: "together with", exp.Intersect: "only those also in", exp.Except: "except those in"}


def describe_sql(sql: str, dialect: str) -> str:
    """One sentence per query part (a CTE first, then the main query); "" when the SQL does not parse."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except SqlglotError:   # also what an empty string raises
        return ""
    sentences = [f"{'Then' if k else 'First'}, {cte.alias} is defined: {_query(cte.this, dialect)}."
                 for k, cte in enumerate(_ctes(tree))]
    sentences.append(_capital(_query(tree, dialect)) + ".")
    return " ".join(sentences)


def sql_reading(sql: str, dialect: str, why: str) -> str:
    """The explanation when no model wrote one (`why` says why not): the SQL read back in words."""
    words = describe_sql(sql, dialect)
    return f"Read from the SQL ({why}): {words}" if words else f"(no explanation: {why})"


def _ctes(tree: exp.Expression) -> list[exp.CTE]:
    with_ = tree.args.get("with_")
    return list(with_.expressions) if with_ else []


def _query(node: exp.Expression, dialect: str) -> str:
    if isinstance(node, exp.Subquery):
        return _query(node.this, dialect)
    for kind, words in SET_OPERATIONS.items():
        if isinstance(node, kind):
            joined = "" if kind is not exp.Union or node.args.get("distinct") else " (duplicates kept)"
            return f"{_query(node.left, dialect)}; {words} the rows of [{_query(node.right, dialect)}]{joined}"
    if not isinstance(node, exp.Select):
        return _text(node, dialect)
    parts = [_source(node, dialect)]
    if where := node.args.get("where"):
        parts.append(f"keeps the rows where {_text(where.this, dialect)}")
    if group := node.args.get("group"):
        parts.append(f"groups them by {_listed([_text(g, dialect) for g in group.expressions])}")
    if having := node.args.get("having"):
        parts.append(f"keeps the groups where {_text(having.this, dialect)}")
    distinct = ("" if not node.args.get("distinct") else
                "the distinct values of " if len(node.expressions) == 1 else "the distinct combinations of ")
    returned = f"returns {distinct}{_listed([_column(c, dialect) for c in node.expressions])}"
    if order := node.args.get("order"):
        returned += f", sorted by {_listed([_order(o, dialect) for o in order.expressions])}"
    if limit := node.args.get("limit"):
        count = _text(limit.expression, dialect)
        returned += ", the first row only" if count == "1" else f", the first {count} rows"
    return "; ".join(parts + [returned])


def _source(select: exp.Select, dialect: str) -> str:
    from_ = select.args.get("from_")
    if from_ is None:
        return "computes without reading a table"
    text = f"reads {_table(from_.this, dialect)}"
    for join in select.args.get("joins") or []:
        side = (join.side or "").lower()
        how = {"left": "left-joined with", "right": "right-joined with", "full": "fully joined with"}.get(side, "joined with")
        text += f", {how} {_table(join.this, dialect)}"
        if on := join.args.get("on"):
            text += f" on {_text(on, dialect)}"
        elif using := join.args.get("using"):
            text += f" on the same {_listed([_text(u, dialect) for u in using])}"
        if side == "left":
            text += " (keeping the rows without a match)"
    return text


def _table(node: exp.Expression, dialect: str) -> str:
    if isinstance(node, exp.Subquery):
        named = f" (called {node.alias})" if node.alias else ""
        return f"the rows of [{_query(node.this, dialect)}]{named}"
    if isinstance(node, exp.Table):
        name = ".".join(part.name for part in node.parts)
        return f"{name} (as {node.alias})" if node.alias and node.alias != node.name else name
    return _text(node, dialect)


def _column(node: exp.Expression, dialect: str) -> str:
    if isinstance(node, exp.Alias):
        inner = _column(node.this, dialect)
        return inner if inner == node.alias else f"{inner} (as {node.alias})"
    if isinstance(node, exp.Star):
        return "every column"
    for kind, words in AGGREGATES.items():
        if isinstance(node, kind):
            return _aggregate(node, words, dialect)
    return _text(node, dialect)


def _aggregate(node: exp.Expression, words: str, dialect: str) -> str:
    argument = node.this
    distinct = isinstance(argument, exp.Distinct)
    if distinct:
        argument = argument.expressions[0] if len(argument.expressions) == 1 else argument
    if isinstance(node, exp.Count) and (argument is None or isinstance(argument, exp.Star)):
        return "the number of rows"
    what = _text(argument, dialect)
    if isinstance(node, exp.Count):
        return f"the number of distinct {what} values" if distinct else f"the number of non-null {what}"
    return f"{words} {'distinct ' if distinct else ''}{what}"


def _order(node: exp.Expression, dialect: str) -> str:
    if isinstance(node, exp.Ordered):
        what = _column(node.this, dialect)
        return f"{what} descending" if node.args.get("desc") else what
    return _column(node, dialect)


def _text(node: exp.Expression, dialect: str) -> str:
    """The expression as SQL, with each outermost subquery in it described in brackets instead."""
    if isinstance(node, exp.Subquery):
        return f"[{_query(node.this, dialect)}]"
    node = node.copy()
    for sub in [s for s in node.find_all(exp.Subquery) if s.find_ancestor(exp.Subquery) is None]:
        sub.replace(exp.var(_text(sub, dialect)))
    return node.sql(dialect=dialect)


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
