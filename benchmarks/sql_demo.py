"""The README demo, timed and checked: the seed's question on the sample schema, end to end.

    python benchmarks/sql_demo.py [--runs 3] [--write] [--set experts.candidates=3 --set ...]

Each run builds the orchestrator from MoE/sql_moe_orchestrator_config.yaml (model load included), with
the --set changes if any (a configuration proposed as the default must pass this demo first), and
answers "List monthly revenue and refund totals for 2024." with --execute. With several candidates,
each one's SQL and verdict is printed too. The result rows are
compared with the hand-written reference MoE/schemas/ecommerce_demo_reference.sql (revenue without
cancelled orders, as the schema comment defines it) and, as a looser reading, revenue over all orders,
on the same embedded database (MoE/schemas/ecommerce_sample_data.sql), so "correct" means the same
multiset of rows, up to the column order. The baseline is a single plain prompt to the same
model (no experts, no checks), measured in the same run.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

from Qwen3.cli_support import one_line_errors

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "List monthly revenue and refund totals for 2024."
# The demo's answer as the schema defines revenue (orders not cancelled), and the looser reading over all orders.
REFERENCES = {
    "as the schema defines revenue": (ROOT / "MoE" / "schemas" / "ecommerce_demo_reference.sql").read_text(),
    "all orders, cancelled ones too (not the schema's definition)": """
        WITH r AS (SELECT date_trunc('month', order_date) AS m, SUM(total_amount) AS revenue FROM orders
                   WHERE order_date >= DATE '2024-01-01' AND order_date < DATE '2025-01-01' GROUP BY 1),
             f AS (SELECT date_trunc('month', refund_date) AS m, SUM(amount) AS refunds FROM refunds
                   WHERE refund_date >= DATE '2024-01-01' AND refund_date < DATE '2025-01-01' GROUP BY 1)
        SELECT COALESCE(r.m, f.m), r.revenue, f.refunds FROM r FULL JOIN f ON r.m = f.m""",
}


def normalise(rows) -> Counter:
    def cell(v):
        if isinstance(v, (float, Decimal)):
            return round(float(v), 2)
        return str(v)[:10] if hasattr(v, "year") else v
    return Counter(tuple(sorted(map(str, map(cell, row)))) for row in rows)


def verdict(rows, database) -> str:
    got = normalise(rows)
    for name, sql in REFERENCES.items():
        if got == normalise(database.execute(sql, limit=1000).rows):
            return f"correct ({name})"
    return "wrong"


def candidate_verdict(sql: str, database) -> str:
    from MoE.sql.database import DatabaseError

    try:
        return verdict(database.execute(sql, limit=1000).rows, database)
    except DatabaseError as exc:
        return f"fails: {str(exc)[:80]}"


def run_moe(overrides: list[str]):
    from MoE.eval.benchmark import with_overrides
    from MoE.sql import load_orchestrator, load_orchestrator_config

    started = time.perf_counter()
    config = with_overrides(load_orchestrator_config(ROOT / "MoE" / "sql_moe_orchestrator_config.yaml"), overrides)
    with load_orchestrator(config) as orchestrator:
        loaded = time.perf_counter() - started
        result = orchestrator.run(QUESTION, execute=True)
        check = verdict(result.rows.rows, orchestrator.database) if result.rows else "no rows (checks failed)"
        candidates = [dict(c, verdict=candidate_verdict(c["sql"], orchestrator.database) if c["ok"] else "failed its checks")
                      for c in result.candidates]
    mode = "MoE" + (f" ({', '.join(overrides)})" if overrides else " (the shipped config)")
    return {"mode": mode, "load_s": loaded, "answer_s": result.seconds,
            "total_s": time.perf_counter() - started, "verdict": check, "tokens": sum(result.tokens.values()),
            "repairs": result.repair_rounds, "sql": " ".join((result.sql or "").split()), "candidates": candidates}


def run_single_shot():
    from MoE.sql import load_orchestrator
    from MoE.sql.database import DatabaseError
    from MoE.sql.guard import UnsafeSQLError
    from MoE.sql.json_recovery import ExpertOutputError

    started = time.perf_counter()
    with load_orchestrator(ROOT / "MoE" / "sql_moe_orchestrator_config.yaml") as orchestrator:
        loaded = time.perf_counter() - started
        t0 = time.perf_counter()
        prompt = (f"Schema (DuckDB):\n{orchestrator.catalog.to_prompt()}\n\nQuestion: {QUESTION}\n"
                  "Answer with one DuckDB SELECT query only.")
        c = orchestrator.runner.chat(prompt, temperature=0, max_new_tokens=448)
        sql = c.text.strip().removeprefix("```sql").removeprefix("```").removesuffix("```").strip()
        try:
            rows = orchestrator.database.execute(sql, limit=1000).rows
            check = verdict(rows, orchestrator.database)
        except (DatabaseError, UnsafeSQLError, ExpertOutputError) as exc:
            check = f"fails: {str(exc)[:80]}"
        answer_s = time.perf_counter() - t0
    return {"mode": "single shot (same model, one prompt)", "load_s": loaded, "answer_s": answer_s,
            "total_s": time.perf_counter() - started, "verdict": check,
            "tokens": c.usage.total_tokens, "repairs": 0, "sql": " ".join(sql.split())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="change one setting of the shipped config for the MoE (repeatable)")
    args = parser.parse_args()
    rows = []
    with one_line_errors("sql_demo.py"):
        for _ in range(args.runs):
            rows.append(run_moe(args.set))
            rows.append(run_single_shot())
    import torch

    lines = [f"### SQL demo on the CPU ({datetime.date.today().isoformat()})", "",
             f"Command: `python benchmarks/sql_demo.py --runs {args.runs}{''.join(f' --set {o}' for o in args.set)}` "
             "(after `make setup-demo`)  ",
             f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch.__version__}; "
             "model from Qwen3/qwen3_runner_config.yaml (offline Qwen2.5-Coder-1.5B Q4_K_M, llama.cpp), greedy.",
             f"Question: \"{QUESTION}\"", "",
             "| mode | load (s) | answer (s) | total (s) | tokens | repair rounds | result |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['load_s']:.1f} | {r['answer_s']:.1f} | {r['total_s']:.1f} | {r['tokens']} | "
                     f"{r['repairs']} | {r['verdict']} |")
    lines.append("")
    for r in rows:
        lines.append(f"- {r['mode']}: `{r['sql'][:400]}`")
        for k, c in enumerate(r.get("candidates", []), 1):
            sql = " ".join(c["sql"].split())[:1200]
            lines.append(f"  - candidate {k} ({c['prompt']}, {c['votes']} vote(s){', chosen' if c['chosen'] else ''}): "
                         f"{c['verdict']}: `{sql}`")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.write:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as f:
            f.write("\n" + table)


if __name__ == "__main__":
    main()
