"""False alarms of filter grounding on correct SQL: the shared Spider and BIRD Mini-Dev gold queries.

    python benchmarks/filter_grounding.py [--show 10]

A gold query draws a false alarm when grounding.py finds a filter in it that nothing the user gave asks
for. Spider: the question, with the database values value grounding finds for it (as the orchestrator
does); BIRD Mini-Dev: the question with its evidence as the extra context, in its three dialects (no
database rows ship with it, so no values). Goal: at most 2% of the gold queries. The last column counts
the questions that question.py would refuse as not about the data (before value grounding, which can
only rescue more); the last, the gold queries that draw a fan_out or unused_join warning for their
question (lint.py; goal: none on Spider, at most 2% on BIRD).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import sqlglot

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from MoE.eval.linking_recall import bird_catalogs  # noqa: E402
from MoE.eval.spider import load_spider  # noqa: E402
from MoE.sql.database import SQLAlchemyDatabase  # noqa: E402
from MoE.sql.definitions import schema_definitions, unmet_definitions  # noqa: E402
from MoE.sql.grounding import Grounding, ungrounded_filters  # noqa: E402
from MoE.sql.question import QuestionRefused, check_about_data  # noqa: E402
from MoE.sql.validator import validate_sql  # noqa: E402
from MoE.sql.value_index import ValueIndex  # noqa: E402
from MoE.sql.values import ground_values  # noqa: E402

DIALECTS = {"sqlite": "sqlite", "mysql": "mysql", "postgresql": "postgres"}


def alarms(sql: str, dialect: str, grounding: Grounding) -> list[str]:
    """Ungrounded filters, and definitions of the schema's comments the SQL does not follow."""
    tree = sqlglot.parse_one(sql, read=dialect)
    return [p for select in tree.find_all(sqlglot.exp.Select) for p in ungrounded_filters(select, grounding)] + \
        unmet_definitions(tree, grounding.definitions)


def refused(grounding: Grounding, catalog) -> bool:
    """Would the orchestrator refuse the question as not about the data (before value grounding)?"""
    try:
        check_about_data(grounding.question, grounding.context, catalog)
    except QuestionRefused:
        return True
    return False


def spider_cases(data: Path):
    spider = load_spider(data)
    for db_id in spider.schemas:
        database = SQLAlchemyDatabase(f"sqlite:///{spider.database_path(db_id).resolve()}", 10)
        catalog = spider.catalog(db_id)
        index = ValueIndex.build(catalog, database)
        for q in (q for q in spider.questions if q.db_id == db_id):
            values = tuple(m.value for m in ground_values(q.question, index))
            definitions = tuple(schema_definitions(q.question, catalog))
            yield "spider", q.gold, "sqlite", Grounding(q.question, "", values, definitions=definitions), catalog
        database.close()


def bird_cases(data: Path):
    catalogs = bird_catalogs(data)
    for name, dialect in DIALECTS.items():
        for q in json.loads((data / f"questions_{name}.json").read_text()):
            evidence, catalog = q.get("evidence") or "", catalogs[q["db_id"]]
            definitions = tuple(schema_definitions(f"{q['question']} {evidence}", catalog))
            yield f"bird/{dialect}", q["SQL"], dialect, Grounding(q["question"], evidence, definitions=definitions), catalog


def join_alarms(sql: str, dialect: str, catalog, question: str) -> list[str]:
    """The fan_out and unused_join warnings (lint.py) the validator gives the query for its question."""
    report = validate_sql(sql, catalog, dialect, question=question)
    return [str(w) for w in report.warnings if w.stage in ("fan_out", "unused_join")]


def measure(spider: Path, bird: Path) -> dict[str, tuple[int, int, int, list[tuple[str, str]], int]]:
    """{set: (queries, queries with a filter false alarm, questions refused as not about the data, examples,
    queries with a join warning)}"""
    out: dict[str, list] = {}
    for name, sql, dialect, grounding, catalog in list(spider_cases(spider)) + list(bird_cases(bird)):
        found = alarms(sql, dialect, grounding)
        joins = join_alarms(sql, dialect, catalog, grounding.question)
        entry = out.setdefault(name, [0, 0, 0, [], 0])
        entry[0] += 1
        entry[2] += refused(grounding, catalog)
        entry[4] += bool(joins)
        if found or joins:
            entry[1] += bool(found)
            entry[3].append((grounding.question, (found + joins)[0]))
    return {k: tuple(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spider", default=str(ROOT.parent / "shared" / "data" / "spider"))
    parser.add_argument("--bird", default=str(ROOT.parent / "shared" / "data" / "bird_minidev"))
    parser.add_argument("--show", type=int, default=5)
    args = parser.parse_args()
    results = measure(Path(args.spider), Path(args.bird))
    print("| gold queries | queries | false alarms | share | questions refused as not about the data | "
          "join warnings (fan_out, unused_join) |\n|---|---|---|---|---|---|")
    for name, (total, flagged, refusals, _, joins) in results.items():
        print(f"| {name} | {total} | {flagged} | {flagged / total:.1%} | {refusals} | {joins} ({joins / total:.1%}) |")
    for name, (_, _, _, examples, _) in results.items():
        for question, problem in examples[:args.show]:
            print(f"{name}: {question} -> {problem}", file=sys.stderr)


if __name__ == "__main__":
    main()
