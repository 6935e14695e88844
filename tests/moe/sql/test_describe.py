"""The SQL read back in words (MoE/sql/describe.py): each clause says what the query says, nothing more."""

import pytest

from MoE.sql.describe import describe_sql, sql_reading


@pytest.mark.parametrize("sql, words", [
    ("SELECT count(*) FROM singer", "Reads singer; returns the number of rows."),
    ("SELECT name, COUNT(*) FROM pets WHERE age > 2 GROUP BY name",
     "Reads pets; keeps the rows where age > 2; groups them by name; returns name and the number of rows."),
    ("SELECT COUNT(DISTINCT country), MAX(age), MIN(age), AVG(age), SUM(age), COUNT(age) FROM singer",
     "Reads singer; returns the number of distinct country values, the largest age, the smallest age, "
     "the average age, the total age and the number of non-null age."),
    ("SELECT DISTINCT T1.name FROM singer AS T1 JOIN concert AS T2 ON T1.id = T2.singer_id "
     "ORDER BY T1.age DESC LIMIT 3",
     "Reads singer (as T1), joined with concert (as T2) on T1.id = T2.singer_id; returns the distinct values "
     "of T1.name, sorted by T1.age descending, the first 3 rows."),
    ("SELECT DISTINCT a, b FROM t", "Reads t; returns the distinct combinations of a and b."),
    ("SELECT a.x, SUM(b.v) AS total FROM a LEFT JOIN b USING (id) GROUP BY a.x HAVING SUM(b.v) > 5 "
     "ORDER BY total DESC",
     "Reads a, left-joined with b on the same id (keeping the rows without a match); groups them by a.x; keeps "
     "the groups where SUM(b.v) > 5; returns a.x and the total b.v (as total), sorted by total descending."),
    ("SELECT name FROM people ORDER BY age LIMIT 1", "Reads people; returns name, sorted by age, the first row only."),
    ("SELECT * FROM t", "Reads t; returns every column."),
    ("SELECT 1", "Computes without reading a table; returns 1."),
    ("SELECT s.name FROM main.singer s", "Reads main.singer (as s); returns s.name."),
])
def test_a_query_in_words(sql, words):
    assert describe_sql(sql, "sqlite") == words


@pytest.mark.parametrize("sql, words", [
    ("SELECT name FROM a UNION SELECT name FROM b",
     "Reads a; returns name; together with the rows of [reads b; returns name]."),
    ("SELECT name FROM a UNION ALL SELECT name FROM b",
     "Reads a; returns name; together with the rows of [reads b; returns name] (duplicates kept)."),
    ("SELECT name FROM a INTERSECT SELECT name FROM b",
     "Reads a; returns name; only those also in the rows of [reads b; returns name]."),
    ("SELECT name FROM a EXCEPT SELECT name FROM b",
     "Reads a; returns name; except those in the rows of [reads b; returns name]."),
])
def test_set_operations_describe_both_sides(sql, words):
    assert describe_sql(sql, "sqlite") == words


def test_subqueries_are_described_in_brackets_not_pasted_as_sql():
    words = describe_sql("SELECT name FROM a WHERE id IN (SELECT aid FROM b WHERE x = 'y')", "sqlite")
    assert words == "Reads a; keeps the rows where id IN [reads b; keeps the rows where x = 'y'; returns aid]; returns name."
    assert describe_sql("SELECT * FROM (SELECT x FROM t) AS s", "sqlite") == \
        "Reads the rows of [reads t; returns x] (called s); returns every column."


def test_a_cte_is_described_before_the_query_that_uses_it():
    sql = ("WITH t AS (SELECT city, AVG(price) AS avg_price FROM shops GROUP BY city) "
           "SELECT city FROM t WHERE avg_price > 10")
    assert describe_sql(sql, "sqlite") == (
        "First, t is defined: reads shops; groups them by city; returns city and the average price (as avg_price). "
        "Reads t; keeps the rows where avg_price > 10; returns city.")


def test_ctes_are_described_in_turn():
    sql = "WITH a AS (SELECT x FROM s), b AS (SELECT x FROM t) SELECT a.x FROM a JOIN b ON a.x = b.x"
    assert describe_sql(sql, "duckdb").startswith(
        "First, a is defined: reads s; returns x. Then, b is defined: reads t; returns x. Reads a")


def test_the_dialect_is_the_one_the_sql_is_written_in():
    assert describe_sql("SELECT TOP 2 name FROM t", "tsql") == "Reads t; returns name, the first 2 rows."


@pytest.mark.parametrize("sql", ["not sql at all (", ""])
def test_sql_that_does_not_parse_has_no_reading(sql):
    assert describe_sql(sql, "sqlite") == ""
    assert sql_reading(sql, "sqlite", "the validator expert is off") == "(no explanation: the validator expert is off)"


def test_the_reading_says_that_no_model_wrote_it():
    assert sql_reading("SELECT a FROM t", "sqlite", "the validator expert is off") == \
        "Read from the SQL (the validator expert is off): Reads t; returns a."
