"""Mechanical repairs: deterministic fixes for SQL that cannot run as written."""

from MoE.sql.catalog import parse_ddl
from MoE.sql.repair import drop_joins, qualify_join_equated_columns, requalify_misplaced_columns

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
