"""The Spider layout: loading, DDL from tables.json, hardness levels, stratified samples; gold SQL checks."""

import json
from collections import Counter

import pytest

from MoE.eval.spider import hardness, load_spider, schema_ddl
from MoE.sql.catalog import parse_ddl
from Qwen3.errors import ConfigError
from support import shared_data

EMPTY = {"from": {"conds": [], "table_units": [["table_unit", 0]]}, "where": [], "groupBy": [], "having": [],
         "orderBy": [], "limit": None, "intersect": None, "union": None, "except": None,
         "select": [False, [[3, [0, [0, 0, False], None]]]]}


def sql(**parts):
    return {**EMPTY, **parts}


COND = [False, 2, [0, [0, 1, False], None], 1.0, None]
SECOND_COLUMN = [0, [0, [0, 2, False], None]]


def test_hardness_levels():
    assert hardness(sql()) == "easy"                                              # SELECT count(*) FROM t
    assert hardness(sql(where=[COND])) == "easy"
    assert hardness(sql(where=[COND, "and", COND])) == "medium"                   # two conditions
    assert hardness(sql(where=[COND], orderBy=["asc", [[0, [0, 1, False], None]]], limit=3)) == "hard"
    nested = [False, 8, [0, [0, 1, False], None], sql(), None]                    # col IN (SELECT ...)
    assert hardness(sql(where=[nested])) == "hard"
    assert hardness(sql(where=[nested, "and", COND], intersect=sql(),
                        select=[False, [[3, [0, [0, 0, False], None]], SECOND_COLUMN]])) == "extra"


TABLES = {"db_id": "shop", "table_names_original": ["Customer", "Orders"], "table_names": ["customer", "orders"],
          "column_names_original": [[-1, "*"], [0, "id"], [0, "Full_Name"], [1, "order_id"], [1, "cust"]],
          "column_names": [[-1, "*"], [0, "id"], [0, "full name"], [1, "order id"], [1, "customer id"]],
          "column_types": ["text", "number", "text", "number", "number"],
          "primary_keys": [1, 3], "foreign_keys": [[4, 1]]}


def test_schema_ddl_keeps_keys_and_natural_names():
    ddl = schema_ddl(TABLES)
    catalog = parse_ddl(ddl, "sqlite")
    orders = catalog.table("Orders")
    assert orders.primary_key == ("order_id",)
    assert orders.foreign_keys[0].ref_table == "Customer" and orders.foreign_keys[0].columns == ("cust",)
    assert orders.column("cust").comment == "customer id" and catalog.table("Customer").column("Full_Name").comment == ""


def test_loading_errors_are_one_line(tmp_path):
    with pytest.raises(ConfigError, match="tables.json is missing"):
        (tmp_path / "dev_questions.json").write_text("[]")
        load_spider(tmp_path)
    (tmp_path / "tables.json").write_text(json.dumps([TABLES]))
    (tmp_path / "dev_questions.json").write_text(json.dumps([{"db_id": "other", "question": "q", "query": "SELECT 1"}]))
    with pytest.raises(ConfigError, match="names database 'other'"):
        load_spider(tmp_path)
    (tmp_path / "dev_questions.json").write_text(json.dumps([{"db_id": "shop", "question": "q"}]))
    with pytest.raises(ConfigError, match="lacks query"):
        load_spider(tmp_path)


@pytest.fixture(scope="module")
def spider():
    return load_spider(shared_data("spider"))


def test_shared_subset_hardness_distribution(spider):
    assert len(spider.questions) == 547
    assert Counter(q.hardness for q in spider.questions) == {"easy": 138, "medium": 242, "hard": 87, "extra": 80}


def test_sample_is_seeded_and_stratified(spider):
    sample = spider.sample(150, seed=0)
    assert len(sample) == 150 and sample == spider.sample(150, seed=0) and sample != spider.sample(150, seed=1)
    per_db = Counter(q.db_id for q in sample)
    assert len(per_db) == 10 and per_db["world_1"] == 33 and per_db["voter_1"] == 4   # 120/547 and 15/547 of 150
    assert spider.sample(None, 0) == list(spider.questions)
