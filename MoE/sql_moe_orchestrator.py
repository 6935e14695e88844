"""python -m MoE.sql_moe_orchestrator --config MoE/sql_moe_orchestrator_config.yaml --query "..."
python -m MoE.sql_moe_orchestrator --database postgresql+psycopg://reader@host/db --query "..."

Prints the router's plan, each expert's JSON (unless --quiet), the checks, the final SQL and the
validator's explanation; --execute runs the SQL and prints the rows; --format json prints one object.
--database points the experts at a live database (a URL or a DuckDB / SQLite file) and reads its schema
from it, unless --schema-file is also given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from Qwen3.cli_support import one_line_errors
from Qwen3.config import read_yaml_mapping
from Qwen3.errors import ConfigError

from .sql import load_orchestrator, load_orchestrator_config
from .sql.config import OrchestratorConfig
from .sql.orchestrator import OrchestrationResult
from .sql.question import check_length

PROGRAM = "python -m MoE.sql_moe_orchestrator"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Natural-language questions to checked, read-only SQL.")
    parser.add_argument("--config", default="MoE/sql_moe_orchestrator_config.yaml")
    parser.add_argument("--query", help="the question (default: run.query from the config)")
    parser.add_argument("--extra-context", help="more constraints for the experts, e.g. 'amounts in EUR'")
    parser.add_argument("--quiet", action="store_true", help="do not print each expert's JSON")
    parser.add_argument("--execute", action="store_true", help="run the final SQL and print the rows")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    add_database_arguments(parser)
    return parser


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("your own database")
    source.add_argument("--database", metavar="URL_OR_FILE",
                        help="a SQLAlchemy URL (postgresql+psycopg://reader@host/db, mysql+pymysql://...) or a "
                             "DuckDB / SQLite file; its schema is read from it")
    source.add_argument("--schema-file", help="a DDL file to use instead of reading the schema from the database")
    source.add_argument("--schemas", metavar="A,B", help="the database schemas (namespaces) to read, e.g. sales,finance")
    source.add_argument("--dialect", help="the SQL dialect to write (default: the database's)")
    source.add_argument("--refresh-schema", action="store_true",
                        help="read the schema and rebuild the value index even if they are cached")


def config_for(args: argparse.Namespace) -> OrchestratorConfig:
    return load_orchestrator_config(config_data(args))


def config_data(args: argparse.Namespace) -> dict[str, Any]:
    """The config file, with what the command line says about the database put over it. A database given
    here replaces the file's schema source too: the file's DDL describes its own database, not this one."""
    path = Path(args.config)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    data: dict[str, Any] = read_yaml_mapping(path)
    data.setdefault("base_dir", str(path.resolve().parent))
    schema = dict(data.get("schema") or {})
    if args.database:
        url = args.database if "://" in args.database else str(Path(args.database).expanduser().resolve())
        data["database"] = {"kind": "url", "url": url, **{k: v for k, v in (data.get("database") or {}).items()
                                                            if k not in ("kind", "url", "path")}}
        schema = {k: v for k, v in schema.items() if k not in ("schema_file", "ddl", "dialect")}
        data.pop("dialect", None)
    if args.schema_file:
        schema = {k: v for k, v in schema.items() if k not in ("schema_file", "ddl")}
        schema["schema_file"] = str(Path(args.schema_file).expanduser().resolve())
    if args.schemas:
        schema["include"] = [s.strip() for s in args.schemas.split(",") if s.strip()]
    if args.dialect:
        data["dialect"] = args.dialect
    data["schema"] = schema
    return data


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    with one_line_errors(PROGRAM):
        config = config_for(args)
        question = args.query if args.query is not None else config.run.query
        check_length(question, args.extra_context or "", config.limits.max_question_chars,
                     config.limits.max_context_chars)   # before anything slow is loaded
        starting = None if args.format == "json" else (lambda m: print(f"... {m}", file=sys.stderr, flush=True))
        with load_orchestrator(config, refresh_schema=args.refresh_schema, on_progress=starting) as orchestrator:
            progress = None if args.format == "json" else (lambda name: print(f"... {name}", file=sys.stderr, flush=True))
            result = orchestrator.run(args.query, args.extra_context, execute=args.execute, on_step=progress)
        if args.format == "json":
            print(json.dumps(result.to_dict(), indent=2, default=str))
        else:
            print_text(result, quiet=args.quiet)
        if not result.ok:
            sys.exit(1)


def print_text(r: OrchestrationResult, quiet: bool) -> None:
    if not r.ok:
        print(f"FAILED: {r.confidence.reasons[0] if r.confidence else r.error}\n")
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
        print(f"\nConfidence: none - {r.error}")
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
    if r.confidence is not None:
        print(f"\nConfidence: {r.confidence.level} - {'; '.join(r.confidence.reasons)}")
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
