"""Feedback files: approved pairs rewritten atomically in the file's own format, duplicates dropped, bad ones logged."""

import json

import pytest
import yaml

from MoE.service import FeedbackStore
from MoE.sql.few_shot import load_examples


@pytest.mark.parametrize("name", ["examples.jsonl", "examples.json", "examples.yaml"])
def test_pairs_are_added_once_in_the_files_format(tmp_path, name):
    store = FeedbackStore(tmp_path / name)
    store.ensure_exists()
    assert store.add_example("How many orders?", "SELECT COUNT(*) FROM orders")
    assert not store.add_example("how many  orders?", "select count(*) from orders;")   # same pair, other spacing
    assert store.add_example("How many orders?", "SELECT COUNT(order_id) FROM orders")
    bank = load_examples(tmp_path / name)
    assert [e.sql for e in bank.examples] == ["SELECT COUNT(*) FROM orders", "SELECT COUNT(order_id) FROM orders"]
    assert [p.name for p in tmp_path.iterdir()] == [name]   # no temporary file left behind


def test_an_existing_yaml_file_keeps_its_examples(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump([{"question": "Customers per country", "sql": "SELECT country, COUNT(*) FROM customers GROUP BY 1"}]))
    FeedbackStore(path).add_example("All products", "SELECT * FROM products")
    assert [e.question for e in load_examples(path).examples] == ["Customers per country", "All products"]


def test_bad_verdicts_go_to_the_log_not_the_examples(tmp_path):
    store = FeedbackStore(tmp_path / "examples.jsonl")
    store.ensure_exists()
    store.log_bad({"question": "q", "sql": "SELECT 1", "verdict": "bad"})
    assert load_examples(store.examples_file).examples == ()
    logged = [json.loads(line) for line in store.log_file.read_text().splitlines()]
    assert logged[0]["sql"] == "SELECT 1" and "time" in logged[0]


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    store = FeedbackStore(tmp_path / "examples.jsonl")
    store.add_example("one", "SELECT 1")
    before = store.examples_file.read_text()
    monkeypatch.setattr("os.replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        store.add_example("two", "SELECT 2")
    assert store.examples_file.read_text() == before and len(list(tmp_path.iterdir())) == 1
