"""The value index: exact and close-spelling lookups, and its files on disk."""

import json

import numpy as np

from MoE.sql.value_index import FORMAT, ValueIndex, normalise

VALUES = [("countries", "name", v) for v in ("France", "United States", "Asia", "Asan", "Arica", "Africa")] + \
         [("pets", "pet_type", v) for v in ("dog", "cat", "Dogs")] + [("cities", "name", "Paris"), ("people", "name", "Paris")]


def test_exact_lookup_ignores_case_punctuation_and_plurals():
    index = ValueIndex.from_values(VALUES)
    assert sorted(index.exact("dog")) == [("pets", "pet_type", "Dogs"), ("pets", "pet_type", "dog")]
    assert sorted(index.exact(normalise("PARIS!"))) == [("cities", "name", "Paris"), ("people", "name", "Paris")]
    assert index.exact("germany") == []


def test_close_spellings_best_first_and_only_above_the_cutoff():
    index = ValueIndex.from_values(VALUES)
    assert index.similar("franse")[0][0] == "france"
    assert sorted(k for k, _ in index.similar("asian")) == ["asan", "asia"]   # equally close; values.py breaks the tie
    assert index.similar("zzzz") == [] and index.similar("united stat", cutoff=0.99) == []
    assert all(score >= 0.8 for _, score in index.similar("afrika"))


def test_a_million_values_narrow_to_a_shortlist():
    words = [f"v{i:07d}x" for i in range(200_000)]
    index = ValueIndex.from_values([("t", "c", w) for w in words])
    assert index.similar("v0123456y", limit=1)[0][0] == "v0123456x"   # found among 200,000 by its trigrams


def test_save_and_load_round_trip(tmp_path):
    index = ValueIndex.from_values(VALUES)
    index.save(tmp_path / "values")
    loaded = ValueIndex.load(tmp_path / "values")
    assert loaded.keys == index.keys and loaded.values == index.values and loaded.columns == index.columns
    assert np.array_equal(loaded.postings, index.postings) and loaded.similar("franse") == index.similar("franse")
    assert [p.name for p in tmp_path.iterdir()] == ["values"]   # no staging folder left behind


def test_missing_broken_or_other_format_index_is_rebuilt(tmp_path):
    assert ValueIndex.load(tmp_path / "none") is None
    ValueIndex.from_values(VALUES).save(tmp_path / "v")
    meta = json.loads((tmp_path / "v" / "columns.json").read_text())
    (tmp_path / "v" / "columns.json").write_text(json.dumps(dict(meta, format=FORMAT + 1)))
    assert ValueIndex.load(tmp_path / "v") is None
    ValueIndex.from_values(VALUES).save(tmp_path / "v")           # replaces it whole
    (tmp_path / "v" / "keys.txt").write_text("only one line")
    assert ValueIndex.load(tmp_path / "v") is None


def test_empty_index():
    index = ValueIndex.from_values([])
    assert len(index) == 0 and index.exact("x") == [] and index.similar("paris") == []
