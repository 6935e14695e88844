"""Zero false alarms: every gold query of the shared benchmark sets passes the validator's checks.

Spider: all 547 gold queries pass parse, catalog and dry-run checks on their SQLite databases.
Spider's gold SQL draws no warning of any kind; BIRD's draws no filter warning (join_filter, same_row:
MoE/sql/antipatterns.py) and at most 2% draw a fan_out or unused_join warning (MoE/sql/lint.py).
Filter grounding (MoE/sql/grounding.py) and the schema's definitions (MoE/sql/definitions.py) raise no
false alarm on Spider's gold SQL (the question and its grounded database values) and at most 2% on BIRD's
(the question with its evidence as the extra context).
BIRD Mini-Dev: all 288 gold queries, in each of its three dialects, pass the static checks against
the catalog parsed from its annotated DDL.
"""

import json

import pytest

from MoE.eval.linking_recall import bird_catalogs
from MoE.eval.spider import load_spider
from MoE.sql.database import SQLAlchemyDatabase
from MoE.sql.definitions import schema_definitions
from MoE.sql.grounding import Grounding
from MoE.sql.validator import validate_sql
from MoE.sql.value_index import ValueIndex
from MoE.sql.values import ground_values
from support import shared_data

FILTER_STAGES = {"join_filter", "same_row"}


def test_every_spider_gold_query_passes_parse_catalog_and_dry_run():
    spider = load_spider(shared_data("spider"))
    catalogs = {db: spider.catalog(db) for db in spider.schemas}
    databases = {db: SQLAlchemyDatabase(f"sqlite:///{spider.database_path(db).resolve()}", 10)
                 for db in spider.schemas}
    indexes = {db: ValueIndex.build(catalogs[db], databases[db]) for db in spider.schemas}
    failures = []
    for q in spider.questions:
        grounding = Grounding(q.question, "", tuple(m.value for m in ground_values(q.question, indexes[q.db_id])),
                              definitions=tuple(schema_definitions(q.question, catalogs[q.db_id])))
        report = validate_sql(q.gold, catalogs[q.db_id], "sqlite", databases[q.db_id], grounding=grounding)
        if not report.ok or report.passed[-1] != "dry_run" or report.warnings:
            failures.append((q.index, str((report.issues or report.warnings)[:1])))
    for db in databases.values():
        db.close()
    assert failures == []


@pytest.mark.parametrize("file_dialect, dialect", [("sqlite", "sqlite"), ("mysql", "mysql"), ("postgresql", "postgres")])
def test_every_bird_gold_query_passes_the_static_checks(file_dialect, dialect):
    root = shared_data("bird_minidev")
    catalogs = bird_catalogs(root)
    questions = json.loads((root / f"questions_{file_dialect}.json").read_text())
    failures = [(q["question_id"], str((r.issues or r.warnings)[0])) for q in questions
                if not (r := validate_sql(q["SQL"], catalogs[q["db_id"]], dialect)).ok
                or any(w.stage in FILTER_STAGES for w in r.warnings)]
    assert len(questions) == 288 and failures == []
    joins = [q["question_id"] for q in questions if any(
        w.stage in ("fan_out", "unused_join") for w in validate_sql(q["SQL"], catalogs[q["db_id"]], dialect,
                                                                    question=q["question"]).warnings)]
    assert len(joins) <= 0.02 * len(questions), joins
    alarms = [q["question_id"] for q in questions if any(
        w.stage in ("ungrounded", "definition") for w in validate_sql(
            q["SQL"], catalogs[q["db_id"]], dialect, grounding=bird_grounding(q, catalogs[q["db_id"]])).warnings)]
    assert len(alarms) <= 0.02 * len(questions), alarms


def bird_grounding(q: dict, catalog) -> Grounding:
    """The question with its evidence as the extra context, and the schema's definitions of its words."""
    said = f"{q['question']} {q.get('evidence') or ''}"
    return Grounding(q["question"], q.get("evidence") or "", definitions=tuple(schema_definitions(said, catalog)))
