"""The SQL mixture of experts, end to end.

    route -> [planner] -> sql_writer -> checks -> (repair rounds) -> validator expert -> checks -> [execute]

Every SQL the experts write is checked for real (validator.py) before anything is trusted; errors go
back to the sql_writer with the messages, a bounded number of times. Only read-only SQL that passed
the guard ever reaches a database.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Mapping, Sequence


from Qwen3 import Runner, load_runner
from Qwen3.errors import ContextOverflowError

from .candidates import Candidate, candidate_report, preview, vote
from .confidence import assess
from .conversation import Turn, history_prompt
from .describe import sql_reading
from .definitions import format_definitions, schema_definitions
from .config import OrchestratorConfig, load_orchestrator_config
from .database import Database, DatabaseError, open_embedded
from .embeddings import TextEmbedder
from .experts import (ExpertCall, ExpertFailed, ExpertRun, build_messages, call_experts, candidate_messages,
                      ground_plan, whole_sentences, writer_context)
from .few_shot import ExampleBank, format_examples, load_examples
from .grounding import Grounding
from .json_recovery import ExpertOutputError
from .linking import link_schema
from .question import check_about_data, check_length
from .repair import SEVERAL_MEASURES_ADVICE, mechanical_fix
from .repair_rounds import Repairing, repair_together
from .result import OrchestrationResult
from .router import route
from .validator import ValidationReport, compact_sql, foreign_key_pairs, normal_form, transpile, validate_sql
from .value_index import ValueIndex
from .values import ValueMatch, format_values, ground_values
from .warehouse import load_catalog, load_value_index, open_live_database

__all__ = ["OrchestrationResult", "SQLMoEOrchestrator", "load_orchestrator", "open_live_database"]


class SQLMoEOrchestrator:
    def __init__(self, config: OrchestratorConfig, runner: Runner | None = None,
                 database: Database | None | str = "from-config", refresh_schema: bool = False,
                 on_progress=None):
        """`database`: "from-config", or a database to use instead (None: static checks only).
        `refresh_schema`: read the live schema and rebuild the value index even when cached.
        `on_progress(message)`: told about slow start-up work (reading the schema, indexing values)."""
        self.config = config
        self.refresh_schema = refresh_schema
        self._progress = on_progress or (lambda _message: None)
        self._deadline = float("inf")   # set per question by run()
        self._failed_tokens = Counter()  # per question: tokens of expert calls with no usable answer
        self._grounding: Grounding | None = None   # what the question's filters may come from, set by run()
        self._on_event = lambda _kind, _data: None   # set per question by run()
        self.ddl = ddl = config.schema_ddl()
        self.database = open_live_database(config) if database == "from-config" else database
        try:
            self.catalog, self._schema_cache = load_catalog(config, self.database, ddl, refresh_schema,
                                                            self._progress)
            if database == "from-config" and self.database is None and config.database.kind == "embedded":
                settings = config.database
                self.database = open_embedded(self.catalog, ddl, settings.sample_rows, settings.seed,
                                              config.safety.statement_timeout_s, config.sample_data_sql())
            self.examples: ExampleBank | None = \
                load_examples(config.resolve(config.few_shot.file)) if config.few_shot.file else None
            self._value_index: ValueIndex | None = None
            self.embedder = TextEmbedder(config.linking.embedding_model) if config.linking.embedding_model else None
            self.runner = runner if runner is not None else load_runner(config.runner_config())
        except BaseException:
            if self.database is not None:
                self.database.close()
            raise

    def run(self, query: str | None = None, extra_context: str | None = None, execute: bool = False,
            on_step=None, history: Sequence[Turn] = (), on_event=None) -> OrchestrationResult:
        """Answer one question; one at a time per orchestrator (a server queues them).
        `history`: earlier turns of a conversation (conversation.py) that this question follows up on.
        `on_step(name)` is called as each stage starts (for progress display); `on_event(kind, data)` is
        told what each stage found as it happens: "route" (the plan) and "expert" (one expert's answer)."""
        cfg = self.config
        question = (query if query is not None else cfg.run.query).strip()
        context = (extra_context if extra_context is not None else cfg.run.extra_context).strip()
        limits = cfg.limits
        check_length(question, context, limits.max_question_chars, limits.max_context_chars)
        started = time.perf_counter()
        self._deadline = started + limits.time_budget_s
        self._failed_tokens = Counter()
        self._on_event = on_event or (lambda _kind, _data: None)
        earlier = " ".join(t.question for t in history)  # a follow-up's words include what it follows up on
        definitions = schema_definitions(" ".join((question, context)), self.catalog)
        values = self._ground(" ".join((question, context, earlier)))
        check_about_data(question, " ".join((context, earlier)), self.catalog, values_found=bool(values))
        shrunk = None
        for shrink in (False, True):  # a prompt too long for the model: once more without examples, linked
            link = cfg.linking
            linked = link_schema(" ".join((question, context, earlier)), self.catalog, link.enabled or shrink,
                                 0 if shrink else link.full_schema_max_columns, link.max_tables, link.column_budget,
                                 keep=[(v.table, v.column) for v in values], embedder=self.embedder,
                                 embedding_weight=link.embedding_weight)
            plan = route(question, linked, cfg.router.always_plan, cfg.router.plan_threshold, cfg.experts.validator_expert)
            result = OrchestrationResult(question, context, cfg.dialect, plan, linked, values=values,
                                         history=[t.question for t in history], definitions=definitions)
            self._on_event("route", {"experts": list(plan.experts), "complexity": plan.complexity,
                                     "reasons": list(plan.reasons), "schema": linked.summary()})
            examples = self.examples.most_similar(question, cfg.few_shot.count) if self.examples and not shrink else []
            self._grounding = Grounding(question, " ".join((context, earlier)), tuple(v.value for v in values),
                                        tuple(e.sql for e in examples) + tuple(t.sql for t in history),
                                        tuple(definitions))
            try:
                self._solve(result, on_step or (lambda _name: None), execute, examples, history_prompt(history))
            except ContextOverflowError as exc:
                if shrink:
                    result.error = f"{exc} (even without examples and with only the linked columns)"
                else:
                    shrunk = (f"the prompt ({exc.prompt_tokens:,} tokens) did not fit the model's context "
                              f"({exc.context_tokens:,}); asked again without examples, with only the linked columns")
                    continue
            except (ExpertOutputError, DatabaseError) as exc:
                result.error = str(exc)
            break
        if shrunk:
            result.notes.insert(0, shrunk)
        result.out_of_time = time.perf_counter() > self._deadline
        if result.out_of_time:
            result.notes.append(f"the time budget of {limits.time_budget_s:g} s (limits.time_budget_s) ran out; "
                                "the answer is what was ready then")
        if not result.ok:  # never a description of what failing SQL "does"
            why = result.error or "; ".join(str(i) for i in result.report.issues)
            result.explanation = f"FAILED: {why}. The SQL was not run."
        result.failed_tokens = {k: self._failed_tokens[k] for k in ("prompt", "completion", "reused")}
        result.confidence = assess(result)
        result.seconds = time.perf_counter() - started
        return result

    def _solve(self, result: OrchestrationResult, step, execute: bool, examples: list, history: str) -> None:
        cfg, dialect = self.config, self.config.dialect
        common = dict(dialect=dialect, schema_prompt=result.linked.catalog.to_prompt(dialect), question=result.question,
                      extra_context=result.extra_context, values=format_values(result.values), history=history,
                      definitions=format_definitions(result.definitions), examples=format_examples(examples))
        result.examples = len(examples)
        common_writer = dict(common, sql_block=cfg.experts.sql_writer_format == "sql_block",
                             advice=SEVERAL_MEASURES_ADVICE if result.plan.several_measures else "")
        plan_output = None
        several = cfg.experts.candidates > 1 and self.database is not None
        views = cfg.experts.views_for(result.plan.several_measures)
        if "planner" in result.plan.experts and several and "planned" not in views:
            result.notes.append("the router asked for a plan, but no candidate view reads one: no planner call")
        elif "planner" in result.plan.experts:
            step("planner")
            try:
                planner = self._ask("planner", build_messages("planner", **common))
            except ExpertOutputError as exc:  # a plan helps but is not needed: write the SQL without one
                result.notes.append(f"planner gave no usable answer ({exc}); the SQL is written without a plan")
            else:
                result.experts.append(planner)
                plan_output, dropped = ground_plan(planner.output, result.question,
                                                   " ".join([result.extra_context] + [str(d) for d in result.definitions]),
                                                   join_ok=self._follows_foreign_key)
                result.notes += dropped

        step("sql_writer")
        if several:
            sql, report = self._select_candidate(result, plan_output, common_writer, views, step)
        else:
            writer = self._ask("sql_writer", build_messages("sql_writer", plan=plan_output, **common_writer))
            result.experts.append(writer)
            sql, report = writer.output["sql"], self._check(writer.output["sql"], result.question)
        if not (several and cfg.experts.repair_candidates):  # else each candidate had its rounds
            sql, report = self._repair(result, sql, report, writer_context("planned", plan_output, common_writer),
                                       step)

        if cfg.experts.validator_expert:
            report = self._review(result, report, common, step)
        else:
            result.explanation = sql_reading(report.sql, cfg.dialect, "the validator expert is off")
        result.report, result.sql = report, report.sql

        if execute and report.ok and self.database is not None:
            step("execute")
            result.rows = self.database.execute(self._runnable(report.sql), limit=cfg.safety.row_limit)

    def _review(self, result: OrchestrationResult, report: ValidationReport, common: dict, step) -> ValidationReport:
        """The validator expert explains the checked SQL and may propose a revision (see _adopt_revision)."""
        dialect = self.config.dialect
        step("validator")
        checks = ("passed " + ", ".join(report.passed)) if report.ok else \
            "FAILED: " + "; ".join(str(i) for i in report.issues)
        compact = compact_sql(report.sql, dialect)
        try:
            validator = self._ask("validator", build_messages("validator", sql=compact, checks=checks, **common))
        except ExpertOutputError as exc:  # the checked SQL stands without the expert's review
            result.notes.append(f"validator expert gave no usable answer ({exc}); kept the checked SQL")
            result.explanation = sql_reading(report.sql, dialect, "the validator expert gave no usable answer")
        else:
            result.experts.append(validator)
            result.explanation = whole_sentences(validator.output["explanation"])
            revised = validator.output["revised_sql"].strip()
            if validator.output["verdict"] == "revise" and revised and normal_form(revised, dialect) != normal_form(compact, dialect):
                checked, report = report, self._adopt_revision(result, report, revised)
                if report is not checked:  # the explanation was written about the SQL before the revision
                    result.explanation = f"The validator expert revised the SQL. Before the revision: {result.explanation}"
        return report

    def _repair(self, result: OrchestrationResult, sql: str, report: ValidationReport, context: dict, step
                ) -> tuple[str, ValidationReport]:
        """Send SQL with errors (every round) or warnings (one round) back to the sql_writer, trying a
        mechanical fix first; `context` is the writer's prompt arguments for the view that wrote it."""
        item = Repairing(sql, report, context)
        self._repair_together([item], result.question, step)
        item.record_into(result)
        return item.sql, item.report

    def _repair_together(self, items: list[Repairing], question: str, step) -> None:
        e = self.config.experts
        repair_together(items, ask_all=lambda calls: self._ask_all("sql_writer", calls),
                        check=lambda sql: self._check(sql, question),
                        fix=lambda sql, report: self._mechanical_repair(sql, report, question),
                        max_rounds=e.max_repair_rounds, repairable=e.repair_warnings, dialect=self.config.dialect,
                        step=step)

    def _select_candidate(self, result: OrchestrationResult, plan_output, common: dict, prompts: tuple[str, ...],
                          step):
        """Several sql_writer candidates, written together from `prompts` (the question's views) in turn, checked
        and executed; the answer their results agree on."""
        cfg = self.config.experts
        views = [prompts[k % len(prompts)] for k in range(cfg.candidates)]
        contexts = [writer_context(view, plan_output, common, cfg.plain_advice) for view in views]
        plain_schema = self.ddl if result.linked.whole and self.ddl else common["schema_prompt"]
        calls = [ExpertCall(candidate_messages(view, context, plain_schema),
                            temperature=None if k < len(prompts) else cfg.candidate_temperature, seed=k + 1,
                            sql_block=True if view == "plain" else None)
                 for k, (view, context) in enumerate(zip(views, contexts))]
        written: list[tuple[str, ExpertRun, Repairing]] = []
        for k, (view, writer) in enumerate(zip(views, self._ask_all("sql_writer", calls))):
            if isinstance(writer, ExpertOutputError):
                result.notes.append(f"candidate {k + 1}: {writer}")
                continue
            sql = writer.output["sql"]
            plain = calls[k].messages if view == "plain" and cfg.plain_repairs == "conversation" else None
            written.append((view, writer, Repairing(sql, self._check(sql, result.question), contexts[k],
                                                    f"candidate {k + 1}: ", plain=plain)))
        if cfg.repair_candidates:   # every candidate's rounds, a batch a round
            self._repair_together([item for *_, item in written], result.question, step)
        candidates: list[Candidate] = []
        for view, writer, item in written:
            result.experts.append(writer)
            item.record_into(result)
            sql, report = item.sql, item.report
            if not cfg.repair_candidates and (fixed := self._mechanical_repair(sql, report, result.question)) is not None:
                sql, report = fixed[0], fixed[1]
            rows = None
            if report.ok:
                try:
                    rows = self.database.execute(self._runnable(report.sql), limit=self.config.safety.row_limit)
                except DatabaseError:
                    rows = None
            candidates.append(Candidate(report.sql if report.ok else sql, report, rows, view))
        if not candidates:
            raise ExpertOutputError("the sql_writer gave no usable candidate")
        outcome = vote(candidates, cfg.tie_break)
        chosen = self._break_tie(result, outcome.tie, candidates, common, step) if outcome.tie else outcome.chosen
        result.candidates = candidate_report(candidates, chosen, outcome.votes)
        result.notes.append(f"candidate {chosen + 1} of {len(candidates)} chosen ({outcome.how})")
        best = candidates[chosen]
        return best.sql, best.report

    def _break_tie(self, result: OrchestrationResult, options: list[int], candidates: list[Candidate],
                   common: dict, step) -> int:
        step("validator (tie-break)")
        shown = [f"{compact_sql(candidates[i].sql, self.config.dialect)}\nResult: {preview(candidates[i].result)}"
                 for i in options]
        messages = build_messages("tie_break", **dict(common, sql_block=False, advice=""), candidates=shown)
        try:
            judge = self._ask("tie_break", messages)
        except ExpertOutputError as exc:
            result.notes.append(f"tie-break gave no usable answer ({exc}); kept the first candidate")
            return options[0]
        result.experts.append(judge)
        pick = judge.output["choice"]
        return options[pick - 1] if 1 <= pick <= len(options) else options[0]

    def _runnable(self, sql: str) -> str:
        dialect = self.config.dialect
        return sql if self.database.dialect == dialect else transpile(sql, dialect, self.database.dialect)

    def _ground(self, text: str) -> list[ValueMatch]:
        settings = self.config.values
        if not settings.enabled or settings.max_matches == 0 or self.database is None:
            return []
        if self._value_index is None:
            self._value_index = self.value_index()
        return ground_values(text, self._value_index, settings.max_matches)

    def value_index(self) -> ValueIndex:
        """The index of database values, from the cache when the schema has not changed (live databases)."""
        return load_value_index(self.catalog, self.database, self._schema_cache, self.config.values,
                                self.refresh_schema, self._progress)

    def _ask(self, name: str, messages: list[dict[str, str]], temperature: float | None = None,
             seed: int = 1, sql_block: bool | None = None) -> ExpertRun:
        [run] = self._ask_all(name, [ExpertCall(messages, temperature, seed, sql_block)])
        if isinstance(run, ExpertOutputError):
            raise run
        return run

    def _ask_all(self, name: str, calls: list[ExpertCall]) -> list[ExpertRun | ExpertFailed]:
        """Independent calls to one expert, sent to the runner together. A call's temperature None is the
        experts' temperature; sql_block None is the sql_writer's configured format."""
        if time.perf_counter() > self._deadline:
            raise OutOfTime(f"the time budget of {self.config.limits.time_budget_s:g} s (limits.time_budget_s) "
                            f"ran out before the {name} could answer")
        e = self.config.experts
        calls = [replace(c, temperature=e.temperature if c.temperature is None else c.temperature,
                         sql_block=(name == "sql_writer" and e.sql_writer_format == "sql_block")
                         if c.sql_block is None else c.sql_block) for c in calls]
        runs = call_experts(self.runner, name, calls, e.json_retries, e.max_new_tokens.get(name, 256), e.thinking)
        for run in runs:
            if isinstance(run, ExpertRun):
                self._on_event("expert", asdict(run))
            else:
                self._failed_tokens.update(prompt=run.prompt_tokens, completion=run.completion_tokens,
                                           reused=run.reused_prompt_tokens)
        return runs

    def _adopt_revision(self, result: OrchestrationResult, report: ValidationReport, revised: str) -> ValidationReport:
        """Take the validator expert's rewrite if it checks out better, or - with validator_revises: always -
        at least as well. SQL that passed every check stands by default: small models' rewrites of
        correct SQL were wrong more often than right (docs/benchmarks.md)."""
        new = self._check(revised, result.question)
        repairable = [w for w in report.warnings if w.stage in self.config.experts.repair_warnings]
        if report.ok and not repairable and self.config.experts.validator_revises == "on_failure":
            result.notes.append("validator expert proposed a revision of SQL that passed every check; kept the checked SQL")
            return report
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

    def _mechanical_repair(self, sql: str, report: ValidationReport, question: str):
        return mechanical_fix(sql, report, question, self.config.dialect, self.catalog,
                              lambda fixed: self._check(fixed, question))

    def check(self, sql: str, question: str | None = None) -> ValidationReport:
        """Every check the experts' SQL gets (guard, parse, schema, dry run), on SQL from anywhere."""
        self._grounding = Grounding(question or "")
        return self._check(sql, question)

    def reload_examples(self) -> None:
        """Read the few-shot example file again (after feedback added a pair); the next question uses it."""
        file = self.config.few_shot.file
        self.examples = load_examples(self.config.resolve(file)) if file else None

    def _check(self, sql: str, question: str | None = None) -> ValidationReport:
        return validate_sql(sql, self.catalog, self.config.dialect, self.database, self.config.safety.dry_run_limit,
                            question, self._grounding)

    def close(self) -> None:
        self.runner.close()
        if self.database is not None:
            self.database.close()

    def __enter__(self) -> "SQLMoEOrchestrator":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class OutOfTime(ExpertOutputError):
    """The question's time budget ran out before an expert call; like an unusable answer, what is ready stands."""


def load_orchestrator(config: str | Path | Mapping[str, Any] | OrchestratorConfig,
                      runner: Runner | None = None, refresh_schema: bool = False,
                      on_progress=None) -> SQLMoEOrchestrator:
    if not isinstance(config, OrchestratorConfig):
        config = load_orchestrator_config(config)
    return SQLMoEOrchestrator(config, runner=runner, refresh_schema=refresh_schema, on_progress=on_progress)

