"""Precision of value grounding on the shared Spider subset: are the values offered to the experts used?

    python benchmarks/value_grounding.py

For every dev question, the values `ground_values` offers (exact matches and close spellings) are
counted, and a value counts as used when the gold SQL contains it. No model runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from MoE.eval.spider import load_spider  # noqa: E402
from MoE.sql.database import SQLAlchemyDatabase  # noqa: E402
from MoE.sql.value_index import ValueIndex  # noqa: E402
from MoE.sql.values import ground_values  # noqa: E402


def main() -> None:
    spider = load_spider(ROOT.parent / "shared" / "data" / "spider")
    offered, used = {True: 0, False: 0}, {True: 0, False: 0}
    for db_id in spider.schemas:
        database = SQLAlchemyDatabase(f"sqlite:///{spider.database_path(db_id).resolve()}", 10)
        index = ValueIndex.build(spider.catalog(db_id), database)
        for question in (q for q in spider.questions if q.db_id == db_id):
            for match in ground_values(question.question, index):
                offered[match.exact] += 1
                used[match.exact] += str(match.value).lower() in question.gold.lower()
        database.close()
    print(f"{len(spider.questions)} questions")
    for exact, label in ((True, "exact"), (False, "close spelling")):
        share = used[exact] / offered[exact] if offered[exact] else float("nan")
        print(f"{label}: {offered[exact]} offered, {used[exact]} in the gold SQL ({share:.0%})")


if __name__ == "__main__":
    main()
