"""Filters that run but cannot mean what they say - the usual ways "without", "not" and "both" go wrong.

All are pure functions of one SELECT (columns already qualified with their table's alias) and
return messages; the validator turns them into warnings, which send the SQL back to the writer.

Join filters (join_filter_problems):

- `a JOIN b ... WHERE b.k IS NULL`, k a join column or b's primary key: an inner join keeps only rows
  of a that have a match in b, so asking for the missing b row finds nothing. The rows of a
  without a b are an anti-join. (A nullable column of b tested for NULL is a fair question.)
- `a LEFT JOIN b ... WHERE b.x <> v` (or NOT b.x IN (...), NOT LIKE): the WHERE drops the rows without a match (their b.x is NULL)
  and keeps every a that has some other b, so "a with no b where x = v" comes out wrong both ways.

Join conditions true for every row (trivial_join_problems) - errors, not warnings: `ON p.id = p.id`
(a column compared with itself), `ON 1 = 1`, `ON TRUE` turn a join into a cross join that repeats
every row of one table for every row of the other.

One row asked for two values (same_row_problems), in the WHERE's AND-ed conditions:
- `x = 'a' AND x = 'b'`: no row holds two values, so nothing comes back. "Owners of both a and b"
  needs two rows: INTERSECT, or GROUP BY the owner HAVING COUNT(DISTINCT x) = 2.
- `x = 'a' AND x <> 'b'`: the second test adds nothing to the first. "Owners of a but not b" needs
  another row to be absent: EXCEPT, or NOT IN (SELECT ...).
"""

from __future__ import annotations

from sqlglot import exp

ANTI_JOIN = "use NOT IN (SELECT ...), NOT EXISTS or EXCEPT"


def trivial_join_problems(tree: exp.Expression) -> list[str]:
    """Join conditions of any SELECT in the tree that hold for every row."""
    problems = []
    for join in tree.find_all(exp.Join):
        on = join.args.get("on")
        if on is None:
            continue
        if _always_true(on):
            problems.append(f"join condition ON {on.sql()} is true for every row: the join repeats every row of "
                            f"{join.this.sql()} for every other row; join on the foreign key")
            continue
        for eq in on.find_all(exp.EQ):
            if _same_column(eq.this, eq.expression):
                problems.append(f"join condition {eq.sql()} compares a column with itself, which is true for every "
                                f"row; compare {join.this.alias_or_name}'s column with the other table's")
    return problems


def _always_true(condition: exp.Expression) -> bool:
    if isinstance(condition, exp.Paren):
        return _always_true(condition.this)
    if isinstance(condition, exp.Boolean):
        return condition.this is True
    if isinstance(condition, exp.EQ) and isinstance(condition.this, exp.Literal) \
            and isinstance(condition.expression, exp.Literal):
        return condition.this.this == condition.expression.this
    return False


def _same_column(left: exp.Expression, right: exp.Expression) -> bool:
    return isinstance(left, exp.Column) and isinstance(right, exp.Column) \
        and left.name.lower() == right.name.lower() and left.table.lower() == right.table.lower()


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


def same_row_problems(select: exp.Select) -> list[str]:
    """A column equal to a literal and, in the same AND, equal or unequal to another literal."""
    where = select.args.get("where")
    if where is None:
        return []
    equal: dict[tuple[str, str], list[exp.Expression]] = {}
    unequal: dict[tuple[str, str], list[exp.Expression]] = {}
    for condition in _conjuncts(where.this):
        column, literal = _column_and_literal(condition)
        if column is not None:
            key = (column.table.lower(), column.name.lower())
            (equal if isinstance(condition, exp.EQ) else unequal).setdefault(key, []).append(condition)
    problems = []
    for key, tests in equal.items():
        values = {_literal(t).sql() for t in tests}
        if len(values) > 1:
            problems.append(f"{' AND '.join(t.sql() for t in tests)}: one row cannot hold two values, so this finds "
                            f"nothing; for things linked to both, use INTERSECT of two queries or GROUP BY the "
                            f"thing HAVING COUNT(DISTINCT {_column_and_literal(tests[0])[0].sql()}) = {len(values)}")
        for test in unequal.get(key, []):
            problems.append(f"{tests[0].sql()} AND {test.sql()}: the second test adds nothing to the first; for "
                            f"things linked to {_literal(tests[0]).sql()} but not to {_literal(test).sql()}, "
                            f"use EXCEPT or NOT IN (SELECT ...)")
    return problems


def _conjuncts(condition: exp.Expression):
    while isinstance(condition, exp.Paren):
        condition = condition.this
    if isinstance(condition, exp.And):
        yield from _conjuncts(condition.this)
        yield from _conjuncts(condition.expression)
    else:
        yield condition


def _column_and_literal(condition: exp.Expression) -> tuple[exp.Column | None, exp.Literal | None]:
    """For `column = literal` and `column <> literal` (either side): the column and the literal."""
    if not isinstance(condition, (exp.EQ, exp.NEQ)):
        return None, None
    left, right = condition.this, condition.expression
    if isinstance(right, exp.Column) and isinstance(left, exp.Literal):
        left, right = right, left
    if isinstance(left, exp.Column) and isinstance(right, exp.Literal):
        return left, right
    return None, None


def _literal(condition: exp.Expression) -> exp.Literal:
    return _column_and_literal(condition)[1]
