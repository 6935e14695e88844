"""Join filters that run but cannot mean what they say - the usual ways "without" and "not" go wrong.

Both are pure functions of one SELECT (columns already qualified with their table's alias) and
return messages; the validator turns them into warnings, which send the SQL back to the writer.

- `a JOIN b ... WHERE b.k IS NULL`, k a join column or b's primary key: an inner join keeps only rows
  of a that have a match in b, so asking for the missing b row finds nothing. The rows of a
  without a b are an anti-join. (A nullable column of b tested for NULL is a fair question.)
- `a LEFT JOIN b ... WHERE b.x <> v` (or NOT b.x IN (...), NOT LIKE): the WHERE drops the rows without a match (their b.x is NULL)
  and keeps every a that has some other b, so "a with no b where x = v" comes out wrong both ways.
"""

from __future__ import annotations

from sqlglot import exp

ANTI_JOIN = "use NOT IN (SELECT ...), NOT EXISTS or EXCEPT"


def join_filter_problems(select: exp.Select, primary_keys: dict[str, set[str]]) -> list[str]:
    """`primary_keys`: lower-case table name -> its lower-case primary-key columns."""
    where = select.args.get("where")
    if where is None:
        return []
    problems = []
    for join in select.args.get("joins") or []:
        if not isinstance(join.this, exp.Table):
            continue
        alias, side = join.this.alias_or_name, (join.args.get("side") or "").upper()
        kind = (join.args.get("kind") or "").upper()
        for condition in _own(where, select):
            never_null = primary_keys.get(join.this.name.lower(), set()) | _join_columns(join, alias)
            if side == "" and kind in ("", "INNER") and _null_test_of(condition, alias, never_null):
                problems.append(f"{condition.sql()} after an inner join to {join.this.name}: the join keeps only "
                                f"rows that have a {join.this.name} row, so this finds none; for rows without one "
                                f"{ANTI_JOIN}")
            if side == "LEFT" and _negates(condition) and _reads(condition, alias):
                problems.append(f"WHERE {condition.sql()} on the LEFT JOINed table {join.this.name} drops the rows "
                                f"without a {join.this.name} row and keeps those with any other; for rows with no "
                                f"{join.this.name} row that matches, {ANTI_JOIN}")
    return list(dict.fromkeys(problems))


def _own(where: exp.Where, select: exp.Select):
    """The conditions of this WHERE, not those inside its subqueries."""
    for node in where.find_all(exp.Is, exp.NEQ, exp.Not):
        if node.find_ancestor(exp.Select) is select:
            yield node


def _negates(condition: exp.Expression) -> bool:
    """x <> v, NOT x = v, NOT x IN (v, ...), NOT x LIKE v: "not this value" rather than "no such row"."""
    if isinstance(condition, exp.NEQ):
        return True
    inner = condition.this if isinstance(condition, exp.Not) else None
    while isinstance(inner, exp.Paren):
        inner = inner.this
    return isinstance(inner, (exp.EQ, exp.Like)) or (isinstance(inner, exp.In) and not inner.args.get("query"))


def _join_columns(join: exp.Join, alias: str) -> set[str]:
    on = join.args.get("on")
    return {c.name.lower() for c in on.find_all(exp.Column) if c.table == alias} if on is not None else set()


def _null_test_of(condition: exp.Expression, alias: str, never_null: set[str]) -> bool:
    return (isinstance(condition, exp.Is) and isinstance(condition.expression, exp.Null)
            and isinstance(condition.this, exp.Column) and condition.this.table == alias
            and condition.this.name.lower() in never_null and not isinstance(condition.parent, exp.Not))


def _reads(condition: exp.Expression, alias: str) -> bool:
    return any(c.table == alias for c in condition.find_all(exp.Column))
