"""Mechanical repairs: deterministic fixes for SQL that cannot run as written."""

import pytest

from MoE.sql.catalog import parse_ddl
from MoE.sql.repair import (FAN_OUT_ADVICE, drop_joins, preaggregate_fanned_joins, qualify_join_equated_columns,
                            repair_advice, requalify_misplaced_columns)

DDL = ("CREATE TABLE teacher (teacher_id INT PRIMARY KEY, name TEXT, month INT);"
       "CREATE TABLE course_arrange (course_id INT, teacher_id INT REFERENCES teacher(teacher_id), grade INT, month INT);")
CATALOG = parse_ddl(DDL, "sqlite")


def test_a_column_under_the_wrong_alias_moves_to_the_only_table_that_has_it():
    sql = "SELECT T2.name FROM teacher AS T1 JOIN course_arrange AS t2 ON T1.teacher_id = T2.teacher_id"
    fixed, note = requalify_misplaced_columns(sql, "sqlite", CATALOG)
    assert "SELECT T1.name" in fixed and note.startswith("re-qualified T2.name -> T1.name")


def test_no_guess_when_the_column_is_nowhere_or_in_several_tables():
    assert requalify_misplaced_columns("SELECT T1.nope FROM teacher AS T1", "sqlite", CATALOG) is None
    sql = "SELECT T1.grade FROM teacher AS T1 JOIN course_arrange AS T2 ON T1.teacher_id = T2.teacher_id"
    assert "T2.grade" in requalify_misplaced_columns(sql, "sqlite", CATALOG)[0]
    assert requalify_misplaced_columns("SELECT T1.name FROM teacher AS T1", "sqlite", CATALOG) is None


def test_join_equated_columns_are_qualified():
    sql = "SELECT month FROM teacher AS a JOIN course_arrange AS b ON a.month = b.month"
    assert qualify_join_equated_columns(sql, "sqlite", CATALOG)[0].startswith("SELECT a.month")


def test_drop_joins_removes_only_the_named_aliases():
    sql = "SELECT a.name FROM teacher AS a JOIN course_arrange AS b ON a.teacher_id = b.teacher_id"
    fixed, note = drop_joins(sql, "sqlite", {"b"})
    assert fixed == "SELECT a.name FROM teacher AS a" and note.endswith("course_arrange")
    assert drop_joins(sql, "sqlite", {"zzz"}) is None


SHOP = parse_ddl("CREATE TABLE orders (order_id INT PRIMARY KEY, total DECIMAL, order_date DATE);"
                 "CREATE TABLE refunds (refund_id INT PRIMARY KEY, order_id INT REFERENCES orders(order_id), "
                 "amount DECIMAL, reason TEXT);", "duckdb")


@pytest.mark.parametrize("sql, joined", [
    ("SELECT SUM(o.total), SUM(r.amount) FROM orders o JOIN refunds r ON o.order_id = r.order_id",
     "JOIN (SELECT order_id, SUM(amount) AS amount FROM refunds GROUP BY order_id) AS r ON"),
    ("SELECT SUM(total), MAX(amount) FROM orders LEFT JOIN refunds ON refunds.order_id = orders.order_id",
     "LEFT JOIN (SELECT order_id, MAX(amount) AS amount FROM refunds GROUP BY order_id) AS refunds ON"),
])
def test_a_fanned_out_join_is_aggregated_by_its_key_first(sql, joined):
    fixed, note = preaggregate_fanned_joins(sql, "duckdb", SHOP)
    assert joined in fixed and note.startswith("aggregated refunds by the join key")
    assert fixed.startswith(sql.split(" FROM ")[0])  # the output columns keep their names


@pytest.mark.parametrize("sql", [
    "SELECT SUM(o.total), AVG(r.amount) FROM orders o JOIN refunds r ON o.order_id = r.order_id",   # AVG
    "SELECT SUM(o.total), SUM(r.amount) FROM orders o JOIN refunds r ON o.order_id = r.order_id "
    "WHERE r.reason = 'damaged'",                                                                     # used in WHERE
    "SELECT r.reason, SUM(o.total) FROM orders o JOIN refunds r ON o.order_id = r.order_id GROUP BY 1",  # grouped by
    "SELECT SUM(o.total), SUM(r.amount) FROM refunds r JOIN orders o ON o.order_id = r.order_id",   # parent joined
    "SELECT SUM(o.total), SUM(r.amount), MAX(r.amount) FROM orders o JOIN refunds r ON o.order_id = r.order_id",
])
def test_no_pre_aggregation_where_it_could_change_the_answer(sql):
    assert preaggregate_fanned_joins(sql, "duckdb", SHOP) is None


def test_fan_out_advice_only_for_aggregates_missing_a_table():
    missing = ["[catalog] unknown column 'amount' (amount is a column of refunds, which the query does not join)"]
    assert repair_advice("SELECT SUM(amount) FROM orders", "duckdb", missing) == [FAN_OUT_ADVICE]
    assert repair_advice("SELECT amount FROM orders", "duckdb", missing) == []
    assert repair_advice("SELECT SUM(amount) FROM orders", "duckdb", ["[dry_run] syntax error"]) == []
