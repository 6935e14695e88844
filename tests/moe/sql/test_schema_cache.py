"""The schema cache: keyed by a fingerprint of the live schema, reused while it holds, rebuilt when it changes."""

import duckdb
import pytest

from MoE.sql.database import connect
from MoE.sql.schema_cache import SchemaCache, catalog_from_dict, catalog_to_dict, value_index
from MoE.sql.catalog import parse_ddl


def make(path, sql="CREATE TABLE pets (pet_id INT PRIMARY KEY, kind VARCHAR); INSERT INTO pets VALUES (1, 'dog'), (2, 'cat')"):
    con = duckdb.connect(str(path))
    con.execute(sql)
    con.close()


@pytest.fixture
def pets(tmp_path):
    """A DuckDB file with one table, and the database opened on it."""
    path = tmp_path / "w.duckdb"
    make(path)
    db = connect(str(path), 5)
    yield path, db
    db.close()


def test_catalog_is_cached_under_the_fingerprint_and_read_again_when_the_schema_changes(tmp_path, pets):
    path, db = pets
    first = SchemaCache(tmp_path / "cache", db, None)
    catalog, cached = first.catalog()
    assert not cached and [t.name for t in catalog.tables] == ["pets"]
    again, cached = SchemaCache(tmp_path / "cache", db, None).catalog()
    assert cached and again == catalog
    assert SchemaCache(tmp_path / "cache", db, None).catalog(refresh=True)[1] is False
    db.close()
    make(path, "CREATE TABLE owners (owner_id INT PRIMARY KEY, name VARCHAR)")
    db = connect(str(path), 5)
    changed = SchemaCache(tmp_path / "cache", db, None)
    assert changed.fingerprint != first.fingerprint
    catalog, cached = changed.catalog()
    assert not cached and sorted(t.name for t in catalog.tables) == ["owners", "pets"]
    db.close()


def test_value_index_is_built_once_per_schema_and_settings(tmp_path, pets):
    _, db = pets
    cache = SchemaCache(tmp_path / "cache", db, None)
    catalog, _ = cache.catalog()
    settings = {"per_column": 100, "scan_rows": 1000}
    folder = cache.values_folder(settings)
    index, cached = value_index(catalog, db, folder, settings)
    assert not cached and index.exact("dog") == [("pets", "kind", "dog")]
    assert value_index(catalog, db, folder, settings)[1] is True
    assert cache.values_folder({"per_column": 5, "scan_rows": 1000}) != folder   # other settings, other index


def test_catalog_round_trips_through_json():
    catalog = parse_ddl("CREATE TABLE sales.o (id INT PRIMARY KEY, s TEXT CHECK (s IN ('a', 'b')), "
                        "c INT REFERENCES sales.c(id)); CREATE TABLE sales.c (id INT PRIMARY KEY);", "duckdb")
    assert catalog_from_dict(catalog_to_dict(catalog)) == catalog
