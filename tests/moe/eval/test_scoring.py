"""Execution accuracy as Spider scores it, on hand-made result pairs and a real SQLite file."""

import sqlite3

import pytest

from MoE.eval.scoring import execution_accuracy, execution_match, has_order_by, results_match, run_sqlite


@pytest.mark.parametrize("gold, predicted, ordered, expected", [
    ([(1, "a"), (2, "b")], [(2, "b"), (1, "a")], False, True),      # row order free without ORDER BY
    ([(1, "a"), (2, "b")], [(2, "b"), (1, "a")], True, False),      # ... and binding with it
    ([(1, "a"), (2, "b")], [("a", 1), ("b", 2)], False, True),      # columns up to permutation
    ([(1, "a"), (2, "b")], [("a", 1), ("b", 2)], True, True),
    ([(1,), (1,), (2,)], [(1,), (2,), (2,)], False, False),         # a multiset, not a set
    ([(1,), (2,)], [(1,), (2,), (2,)], False, False),
    ([], [], False, True),
    ([(1,)], [], False, False),
    ([(2,)], [(2.0,)], False, True),                                 # 2 == 2.0, as in Python and Spider
    ([(1, 2)], [(1, 2, 3)], False, False),                           # extra column
    ([(1, 1), (1, 2)], [(1, 1), (2, 1)], False, True),               # needs the swapped column order
    ([("x", None)], [(None, "x")], False, True),
])
def test_results_match(gold, predicted, ordered, expected):
    assert results_match(gold, predicted, ordered) is expected


def test_order_by_is_read_from_the_gold_sql():
    assert has_order_by("SELECT a FROM t ORDER  BY a") and not has_order_by("SELECT a FROM t")


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "t.sqlite"
    with sqlite3.connect(path) as c:
        c.executescript("CREATE TABLE pets (name TEXT, age INT); "
                        "INSERT INTO pets VALUES ('rex', 3), ('tom', 5), ('kit', 1);")
    return path


def test_execution_match_runs_both_queries(db):
    gold = "SELECT name FROM pets WHERE age > 2"
    assert execution_match(db, gold, "SELECT name FROM pets WHERE age >= 3") == (True, None)
    assert execution_match(db, gold, "SELECT name FROM pets") == (False, None)
    assert execution_match(db, gold, "SELECT nme FROM pets")[1].startswith("no such column")
    assert execution_match(db, gold, None) == (False, "no SQL predicted")
    assert execution_match(db, "SELECT x FROM nowhere", "SELECT 1")[1].startswith("gold SQL failed")


def test_ordered_gold_needs_the_same_order(db):
    gold = "SELECT name FROM pets ORDER BY age"
    assert execution_match(db, gold, "SELECT name FROM pets ORDER BY age ASC")[0]
    assert not execution_match(db, gold, "SELECT name FROM pets ORDER BY age DESC")[0]


def test_queries_are_read_only_and_time_out(db):
    assert "readonly" in run_sqlite(db, "DELETE FROM pets").error
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    assert run_sqlite(db, endless, timeout_s=0.2).error == "timed out after 0.2s"


def test_accuracy_is_a_percentage():
    assert execution_accuracy([True, False, True, True]) == 75.0 and execution_accuracy([]) == 0.0
