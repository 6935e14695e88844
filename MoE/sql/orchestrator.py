"""The SQL mixture of experts, end to end.

    route -> [planner] -> sql_writer -> checks -> (repair rounds) -> validator expert -> checks -> [execute]

Every SQL the experts write is checked for real (validator.py) before anything is trusted; errors go
back to the sql_writer with the messages, a bounded number of times. Only read-only SQL that passed
the guard ever reaches a database.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

import sqlglot

from Qwen3 import Runner, load_runner

from .catalog import Catalog, parse_ddl
from .config import OrchestratorConfig, load_orchestrator_config
from .database import Database, DatabaseError, QueryResult, open_database
from .experts import ExpertRun, build_messages, call_expert, ground_plan
from .json_recovery import ExpertOutputError
from .linking import LinkedSchema, link_schema
from .repair import MECHANICAL_REPAIRS
from .router import RoutePlan, route
from .validator import ValidationReport, foreign_key_pairs, transpile, validate_sql


@dataclass
class OrchestrationResult:
    question: str
    extra_context: str
    dialect: str
    plan: RoutePlan
    linked: LinkedSchema
    experts: list[ExpertRun] = field(default_factory=list)
    sql: str | None = None
    explanation: str = ""
    report: ValidationReport | None = None
    repair_rounds: int = 0
    repair_reasons: list[str] = field(default_factory=list)
    rows: QueryResult | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.report is not None and self.report.ok

    @property
    def tokens(self) -> dict[str, int]:
        return {"prompt": sum(e.prompt_tokens for e in self.experts),
                "completion": sum(e.completion_tokens for e in self.experts)}

    def to_dict(self) -> dict[str, Any]:
        report = self.report
        return {
            "question": self.question, "extra_context": self.extra_context, "dialect": self.dialect, "ok": self.ok,
            "plan": {"experts": list(self.plan.experts), "complexity": self.plan.complexity,
                     "reasons": list(self.plan.reasons)},
            "schema": {"tables_kept": len(self.linked.catalog.tables), "tables_total": self.linked.total_tables,
                       "columns_kept": self.linked.kept_columns, "columns_total": self.linked.total_columns},
            "experts": [asdict(e) for e in self.experts],
            "sql": self.sql, "explanation": self.explanation,
            "checks": None if report is None else {"passed": list(report.passed),
                                                   "issues": [str(i) for i in report.issues],
                                                   "dry_run_rows": report.dry_run_rows, "notes": list(report.notes)},
            "repair_rounds": self.repair_rounds, "repair_reasons": self.repair_reasons,
            "rows": None if self.rows is None else {"columns": list(self.rows.columns),
                                                    "rows": [[_jsonable(v) for v in r] for r in self.rows.rows],
                                                    "truncated": self.rows.truncated},
            "notes": self.notes, "error": self.error, "seconds": round(self.seconds, 3), "tokens": self.tokens,
        }


class SQLMoEOrchestrator:
    def __init__(self, config: OrchestratorConfig, runner: Runner | None = None,
                 database: Database | None | str = "from-config"):
        self.config = config
        ddl = config.schema_ddl()
        self.catalog: Catalog = parse_ddl(ddl, config.schema_.dialect)
        self.runner = runner if runner is not None else load_runner(config.runner_config())
        self.database = open_database(config, self.catalog, ddl) if database == "from-config" else database

    def run(self, query: str | None = None, extra_context: str | None = None, execute: bool = False,
            on_step=None) -> OrchestrationResult:
        """Answer one question. `on_step(name)` is called as each stage starts (for progress display)."""
        cfg = self.config
        question = (query if query is not None else cfg.run.query).strip()
        context = (extra_context if extra_context is not None else cfg.run.extra_context).strip()
        started = time.perf_counter()
        linked = link_schema(question, self.catalog, cfg.linking.enabled, cfg.linking.full_schema_max_columns,
                             cfg.linking.max_tables)
        plan = route(question, linked, cfg.router.always_plan, cfg.router.plan_threshold)
        result = OrchestrationResult(question, context, cfg.dialect, plan, linked)
        try:
            self._solve(result, on_step or (lambda _name: None), execute)
        except (ExpertOutputError, DatabaseError) as exc:
            result.error = str(exc)
        result.seconds = time.perf_counter() - started
        return result

    def _solve(self, result: OrchestrationResult, step, execute: bool) -> None:
        cfg, dialect = self.config, self.config.dialect
        common = dict(dialect=dialect, schema_prompt=result.linked.catalog.to_prompt(), question=result.question,
                      extra_context=result.extra_context)
        plan_output = None
        if "planner" in result.plan.experts:
            step("planner")
            planner = self._ask("planner", build_messages("planner", **common))
            result.experts.append(planner)
            plan_output, dropped = ground_plan(planner.output, result.question, result.extra_context,
                                               join_ok=self._follows_foreign_key)
            result.notes += dropped

        step("sql_writer")
        writer = self._ask("sql_writer", build_messages("sql_writer", plan=plan_output, **common))
        result.experts.append(writer)
        sql, report = writer.output["sql"], self._check(writer.output["sql"])
        while _needs_repair(report, result.repair_rounds) and result.repair_rounds < cfg.experts.max_repair_rounds:
            result.repair_rounds += 1
            feedback = [str(i) for i in report.issues or report.warnings]
            fixed = self._mechanical_repair(sql, report)
            if fixed is not None:
                sql, report, note = fixed
                result.repair_reasons.append(f"{'; '.join(feedback)} -> mechanical fix: {note}")
                continue
            result.repair_reasons.append("; ".join(feedback) + " -> back to the sql_writer")
            step(f"sql_writer (repair {result.repair_rounds})")
            writer = self._ask("sql_writer", build_messages("sql_writer", plan=plan_output, sql=sql,
                                                            feedback=feedback, **common),
                               temperature=0.5, seed=result.repair_rounds + 1)
            result.experts.append(writer)
            sql, report = writer.output["sql"], self._check(writer.output["sql"])

        step("validator")
        checks = ("passed " + ", ".join(report.passed)) if report.ok else \
            "FAILED: " + "; ".join(str(i) for i in report.issues)
        compact = _compact(report.sql, dialect)
        try:
            validator = self._ask("validator", build_messages("validator", sql=compact, checks=checks, **common))
        except ExpertOutputError as exc:  # the checked SQL stands without the expert's review
            result.notes.append(f"validator expert gave no usable answer ({exc}); kept the checked SQL")
            result.explanation = "(no explanation: the validator expert gave no usable answer)"
        else:
            result.experts.append(validator)
            result.explanation = validator.output["explanation"].strip()
            revised = validator.output["revised_sql"].strip()
            if validator.output["verdict"] == "revise" and revised and _normal(revised, dialect) != _normal(compact, dialect):
                report = self._adopt_revision(result, report, revised)
        result.report, result.sql = report, report.sql

        if execute and report.ok and self.database is not None:
            step("execute")
            runnable = report.sql if self.database.dialect == dialect else transpile(report.sql, dialect,
                                                                                     self.database.dialect)
            result.rows = self.database.execute(runnable, limit=cfg.safety.row_limit)

    def _ask(self, name: str, messages: list[dict[str, str]], temperature: float | None = None,
             seed: int = 1) -> ExpertRun:
        e = self.config.experts
        return call_expert(self.runner, name, messages, e.json_retries, e.max_new_tokens.get(name, 384),
                           e.thinking, e.temperature if temperature is None else temperature, seed)

    def _adopt_revision(self, result: OrchestrationResult, report: ValidationReport, revised: str) -> ValidationReport:
        """Take the validator expert's rewrite only if it checks out at least as well."""
        new = self._check(revised)
        better = (new.ok and len(new.warnings) <= len(report.warnings)) or \
            (not report.ok and len(new.passed) > len(report.passed))
        if better:
            result.notes.append("validator expert revised the SQL" + ("" if report.ok else " that failed the checks"))
            return new
        reason = "; ".join(str(i) for i in new.issues or new.warnings) or "no improvement"
        result.notes.append(f"validator expert's revision was not taken ({reason}); kept the checked SQL")
        return report

    def _follows_foreign_key(self, t1: str, c1: str, t2: str, c2: str) -> bool:
        pair = {(t1.lower(), c1.lower()), (t2.lower(), c2.lower())}
        return pair in foreign_key_pairs(self.catalog, t1, t2)

    def _mechanical_repair(self, sql: str, report: ValidationReport):
        if report.ok:
            return None
        for repair in MECHANICAL_REPAIRS:
            fixed = repair(sql, self.config.dialect)
            if fixed is not None:
                new_report = self._check(fixed[0])
                if len(new_report.passed) > len(report.passed) or new_report.ok:
                    return fixed[0], new_report, fixed[1]
        return None

    def _check(self, sql: str) -> ValidationReport:
        return validate_sql(sql, self.catalog, self.config.dialect, self.database, self.config.safety.dry_run_limit)

    def close(self) -> None:
        self.runner.close()
        if self.database is not None:
            self.database.close()

    def __enter__(self) -> "SQLMoEOrchestrator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_orchestrator(config: str | Path | Mapping[str, Any] | OrchestratorConfig,
                      runner: Runner | None = None) -> SQLMoEOrchestrator:
    if not isinstance(config, OrchestratorConfig):
        config = load_orchestrator_config(config)
    return SQLMoEOrchestrator(config, runner=runner)


def _needs_repair(report: ValidationReport, rounds_done: int) -> bool:
    """Errors always go back to the writer; warnings get one round, since they may be intended."""
    return not report.ok or (bool(report.warnings) and rounds_done == 0)


def _compact(sql: str, dialect: str) -> str:
    try:
        return sqlglot.transpile(sql, read=dialect, write=dialect)[0]
    except sqlglot.errors.SqlglotError:
        return " ".join(sql.split())


def _normal(sql: str, dialect: str) -> str:
    try:
        return transpile(sql, dialect, dialect).lower()
    except Exception:  # unparsable SQL is simply "different"; the checks will say why
        return " ".join(sql.split()).lower()


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
