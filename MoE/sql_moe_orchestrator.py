"""python -m MoE.sql_moe_orchestrator --config MoE/sql_moe_orchestrator_config.yaml --query "..."

Prints the router's plan, each expert's JSON (unless --quiet), the checks, the final SQL and the
validator's explanation; --execute runs the SQL and prints the rows; --format json prints one object.
"""

from __future__ import annotations

import argparse
import json
import sys

from Qwen3.cli_support import one_line_errors

from .sql import load_orchestrator
from .sql.orchestrator import OrchestrationResult

PROGRAM = "python -m MoE.sql_moe_orchestrator"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Natural-language questions to checked, read-only SQL.")
    parser.add_argument("--config", default="MoE/sql_moe_orchestrator_config.yaml")
    parser.add_argument("--query", help="the question (default: run.query from the config)")
    parser.add_argument("--extra-context", help="more constraints for the experts, e.g. 'amounts in EUR'")
    parser.add_argument("--quiet", action="store_true", help="do not print each expert's JSON")
    parser.add_argument("--execute", action="store_true", help="run the final SQL and print the rows")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    with one_line_errors(PROGRAM):
        with load_orchestrator(args.config) as orchestrator:
            progress = None if args.format == "json" else (lambda name: print(f"... {name}", file=sys.stderr, flush=True))
            result = orchestrator.run(args.query, args.extra_context, execute=args.execute, on_step=progress)
        if args.format == "json":
            print(json.dumps(result.to_dict(), indent=2, default=str))
        else:
            print_text(result, quiet=args.quiet)
        if not result.ok:
            sys.exit(1)


def print_text(r: OrchestrationResult, quiet: bool) -> None:
    print("== Router plan ==")
    print(f"experts: {r.plan.describe()}")
    print(f"schema: {r.linked.summary()}")
    for e in r.experts:
        if not quiet:
            print(f"\n== {e.name} ({e.seconds:.1f} s, {e.prompt_tokens} prompt + {e.completion_tokens} generated "
                  f"tokens, attempt {e.attempts}) ==")
            print(json.dumps(e.output, indent=2))
    for note in r.notes:
        print(f"note: {note}")
    if r.error:
        print(f"\n== Failed ==\n{r.error}")
        return
    report = r.report
    print("\n== Checks ==")
    marks = " ".join(f"{stage} ok" for stage in report.passed)
    print(marks + (f" ({report.dry_run_rows} dry-run rows)" if report.dry_run_rows is not None else ""))
    for issue in report.issues:
        print(f"FAILED {issue}")
    for warning in report.warnings:
        print(f"warning {warning}")
    for note in report.notes:
        print(f"note: {note}")
    print(f"repair rounds: {r.repair_rounds}" + "".join(f"\n  round {i + 1}: {why}" for i, why in enumerate(r.repair_reasons)))
    print(f"\n== Final SQL ({r.dialect}) ==")
    print(r.sql)
    print("\n== Explanation ==")
    print(r.explanation)
    if r.rows is not None:
        print(f"\n== Result ({len(r.rows.rows)} rows{', truncated' if r.rows.truncated else ''}) ==")
        print(format_table(r.rows.columns, r.rows.rows))
    print(f"\n[{r.seconds:.1f} s | {r.tokens['prompt']} prompt + {r.tokens['completion']} generated tokens]")


def format_table(columns, rows, max_rows: int = 50) -> str:
    shown = [[("NULL" if v is None else str(v)) for v in row] for row in rows[:max_rows]]
    widths = [max([len(c)] + [len(row[i]) for row in shown]) for i, c in enumerate(columns)]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths))
    out = [line(columns), "-+-".join("-" * w for w in widths)] + [line(row) for row in shown]
    if len(rows) > max_rows:
        out.append(f"... {len(rows) - max_rows} more rows")
    return "\n".join(out)


if __name__ == "__main__":
    main()
