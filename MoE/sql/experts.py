"""The three experts: a specialist prompt each, and the JSON contract its answer must meet.

An expert call uses the runner's JSON-constrained decoding; if the answer still fails (a server
without structured output, a cut-off answer), the text is recovered with json_recovery and, failing
that, retried a bounded number of times.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable

from Qwen3 import Runner
from Qwen3.completion import Completion
from Qwen3.errors import StructuredOutputError
from Qwen3.structured import parse_json_output

from .dialects import display_name
from .json_recovery import ExpertOutputError, recover_json


_LIST = {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 8}

CONTRACTS: dict[str, dict[str, Any]] = {
    "planner": {
        "type": "object",
        "properties": {"intent": {"type": "string", "maxLength": 300}, "tables": _LIST, "joins": _LIST,
                       "filters": _LIST, "grouping": _LIST, "ordering": _LIST, "steps": _LIST},
        "required": ["intent", "tables", "joins", "filters", "grouping", "ordering", "steps"],
    },
    "sql_writer": {
        "type": "object",
        "properties": {"sql": {"type": "string", "maxLength": 2000}, "notes": {"type": "string", "maxLength": 300}},
        "required": ["sql", "notes"],
    },
    "validator": {
        "type": "object",
        # explanation first: generated before the verdict, it describes the SQL that was checked
        "properties": {"explanation": {"type": "string", "maxLength": 600},
                       "verdict": {"enum": ["keep", "revise"]},
                       "revised_sql": {"type": "string", "maxLength": 2000}},
        "required": ["explanation", "verdict", "revised_sql"],
    },
    "tie_break": {
        "type": "object",
        "properties": {"choice": {"type": "integer", "minimum": 1, "maximum": 9},
                       "reason": {"type": "string", "maxLength": 300}},
        "required": ["choice", "reason"],
    },
}

# Every expert prompt of a question starts with the same block - this system message (rules, schema), then
# the examples, the question and what belongs to it - and puts its role after it, so a prefix cache (the
# decode engine's, llama.cpp's, vLLM's) computes that block once for all the experts (build_messages).
SHARED_SYSTEM = ("You are one expert in a text-to-SQL team working on a {dialect} database. Use only the tables "
                 "and columns of this schema, and only the tables the question needs; join tables along their "
                 "foreign keys.\n\nSchema:\n{schema}")

JSON_ANSWER = "Answer with one JSON object: the SQL and a short note."
SQL_BLOCK_ANSWER = "Answer with the SQL in one ```sql code block, then at most one short sentence of notes."
# Generation stops where the block closes: the orchestrator reads no notes after it, and a batch waits for
# its longest row (MoE x3 on the 0.5B model wrote 17% fewer tokens with it; docs/benchmarks.md). A fence
# followed by a newline is a closing one; an opening one carries its language ("```sql").
SQL_BLOCK_END = ("\n```\n",)

ROLE = {
    "planner": (
        "Role: planner. Plan the query for the question above, without writing SQL: the intent, the tables, "
        "the join conditions (table.column = table.column, along foreign keys), the filters the question "
        "states (invent none), the grouping, the ordering, and a few short steps. Answer with one JSON object."),
    "sql_writer": (
        "Role: SQL writer. Write one {dialect} query that answers the question above. Select only the columns "
        "it asks for, use only the tables it needs, add no condition it does not ask for, and use {dialect} "
        "functions for dates and text. {answer}"),
    "validator": (
        "Role: validator. Automatic checks of the SQL below: {checks}. First explain in two or three plain "
        "sentences what the SQL returns. Then check that it answers the question (right tables, filters, "
        "grouping, totals): if it does, verdict \"keep\" with an empty revised_sql; otherwise verdict "
        "\"revise\" with a corrected {dialect} SELECT. Answer with one JSON object."),
    "tie_break": (
        "Role: validator. The SQL writer gave candidate queries that pass every check but return different "
        "results. Choose the candidate that answers the question above exactly (right columns, filters, "
        "grouping, ordering). Answer with one JSON object: the candidate's number and a short reason."),
}


# The plain view: the prompt one writes without a team of experts - also the benchmark's single-shot
# baseline, so the candidates can include what the bare model says.
PLAIN_SYSTEM = "You are a {dialect} expert. Answer with one {dialect} query in a ```sql code block and nothing else."
PLAIN_USER = "Database schema:\n{schema}\n\n{hint}Question: {question}"
PLAIN_REPAIR = "That query {failed}\nAnswer with the corrected query in a ```sql code block and nothing else."


def plain_messages(dialect: str, schema: str, question: str, extra_context: str = "",
                   history: str = "", definitions: str = "", advice: str = "") -> list[dict[str, str]]:
    """`definitions`: the schema comments that define a word of the question (definitions.py), as the
    expert prompt has them; none on a schema without such comments, and then the bare baseline prompt.
    `advice`: the router's advice for the question (experts.plain_advice), after the question."""
    name = display_name(dialect)
    hint = "".join(f"{part}\n\n" for part in (history, definitions) if part) + \
        (f"Hint: {extra_context}\n\n" if extra_context else "")
    user = PLAIN_USER.format(schema=schema.strip(), hint=hint, question=question)
    return [{"role": "system", "content": PLAIN_SYSTEM.format(dialect=name)},
            {"role": "user", "content": f"{user}\n\n{advice}" if advice else user}]


def plain_repair_messages(plain: list[dict[str, str]], sql: str, feedback: list[str]) -> list[dict[str, str]]:
    """A plain candidate's repair as the plain conversation continued (experts.plain_repairs: conversation):
    its prompt, the SQL as its answer, then the checks' feedback. The prompt so far is the first call's, so a
    prefix cache serves it; the plain system message asks for the block and nothing else."""
    return [*plain, {"role": "assistant", "content": f"```sql\n{sql}\n```"},
            {"role": "user", "content": PLAIN_REPAIR.format(failed=failed_checks(feedback))}]


def failed_checks(feedback: list[str]) -> str:
    """The checks' feedback as the repair prompts (expert and plain) list it."""
    return "failed these checks; fix every one:\n" + "\n".join(f"- {f}" for f in feedback)


class ExpertFailed(ExpertOutputError):
    """No usable answer after every attempt; it still cost the tokens of those attempts."""

    def __init__(self, message: str, prompt_tokens: int = 0, completion_tokens: int = 0, reused_prompt_tokens: int = 0):
        super().__init__(message)
        self.prompt_tokens, self.completion_tokens = prompt_tokens, completion_tokens
        self.reused_prompt_tokens = reused_prompt_tokens


@dataclass(frozen=True)
class ExpertRun:
    name: str
    output: dict[str, Any]
    attempts: int
    seconds: float
    prompt_tokens: int
    completion_tokens: int
    errors: tuple[str, ...] = field(default=())
    reused_prompt_tokens: int = 0    # of prompt_tokens, served by the backend's prefix cache


def writer_context(view: str, plan: dict[str, Any] | None, common: dict[str, Any],
                   plain_advice: bool = False) -> dict[str, Any]:
    """The sql_writer's prompt arguments for a candidate view (and its repairs): "planned" has the plan,
    the value hints and the router's advice; "direct" and "plain" have neither, but "plain" keeps the
    advice with `plain_advice` (experts.plain_advice)."""
    if view == "planned":
        return dict(common, plan=plan)
    return dict(common, plan=None, values="", advice=common.get("advice", "") if view == "plain" and plain_advice else "")


def candidate_messages(view: str, context: dict[str, Any], plain_schema: str) -> list[dict[str, str]]:
    """The sql_writer's prompt for one candidate view; `context` is writer_context's for that view, and
    `plain_schema` the schema the plain view shows (the user's own DDL when linking kept all of it)."""
    if view == "plain":   # no team: the schema and the question, with what writer_context kept for this view
        return plain_messages(context["dialect"], plain_schema, context["question"], context["extra_context"],
                              context["history"], context["definitions"], context["advice"])
    return build_messages("sql_writer", **context)


def build_messages(name: str, dialect: str, schema_prompt: str, question: str, extra_context: str = "",
                   plan: dict | None = None, sql: str | None = None, feedback: list[str] | None = None,
                   checks: str = "", values: str = "", examples: str = "",
                   candidates: list[str] | None = None, sql_block: bool = False,
                   advice: str = "", history: str = "", definitions: str = "") -> list[dict[str, str]]:
    """One expert's prompt: the question's shared block first (the same for every expert, so it is cached),
    then this expert's role and its own material (advice, candidates, plan, SQL, feedback)."""
    dialect_name = display_name(dialect)
    system = SHARED_SYSTEM.format(dialect=dialect_name, schema=schema_prompt)
    answer = SQL_BLOCK_ANSWER if sql_block else JSON_ANSWER
    parts = []
    if examples:
        parts.append("Examples of questions and SQL on this database:\n\n" + examples)
    if history:
        parts.append(history)
    parts.append(f"Question: {question}")
    if extra_context:
        parts.append(f"Constraints from the user: {extra_context}")
    if definitions:
        parts.append(definitions)
    if values:
        parts.append("Values the question mentions, as the database spells them, and the columns that hold "
                     "them (filter only the column the question means):\n" + values)
    parts.append(ROLE[name].format(dialect=dialect_name, checks=checks or "none", answer=answer))
    if advice:
        parts.append(advice)
    if candidates:
        parts.append("\n\n".join(f"Candidate {i}:\n{c}" for i, c in enumerate(candidates, 1)))
    if plan:
        parts.append("Plan:\n" + "\n".join(f"- {k}: {v}" for k, v in plan.items() if v))
    if sql:
        parts.append(f"SQL:\n{sql}")
    if feedback:
        parts.append("The SQL " + failed_checks(feedback))
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


@dataclass(frozen=True)
class ExpertCall:
    """One question to an expert: its prompt and how to sample the answer."""
    messages: list[dict[str, str]]
    temperature: float | None = None
    seed: int = 1
    sql_block: bool | None = False   # None: the orchestrator fills in the configured format


def call_expert(runner: Runner, name: str, messages: list[dict[str, str]], retries: int,
                max_new_tokens: int, thinking: bool | None, temperature: float | None, seed: int = 1,
                sql_block: bool = False) -> ExpertRun:
    """Ask one expert; recover or retry until its answer meets the contract (bounded).

    With sql_block, the sql_writer writes its SQL as a fenced block rather than inside JSON (small
    models write better SQL that way, see docs/benchmarks.md); its answer becomes {"sql", "notes"}.
    """
    [run] = call_experts(runner, name, [ExpertCall(messages, temperature, seed, sql_block)], retries,
                         max_new_tokens, thinking)
    if isinstance(run, ExpertOutputError):
        raise run
    return run


def call_experts(runner: Runner, name: str, calls: list[ExpertCall], retries: int, max_new_tokens: int,
                 thinking: bool | None) -> list[ExpertRun | ExpertFailed]:
    """Ask one expert several independent questions: the first attempts go to the runner together (a
    batch on local backends, concurrent requests to a server), the retries one by one. Each result is
    the expert's run or the ExpertFailed that ended it; a run's seconds are from the batch's start."""
    started = time.perf_counter()
    first = _attempt(runner, name, calls, 1, max_new_tokens, thinking)
    runs: list[ExpertRun | ExpertFailed] = []
    for call, answer in zip(calls, first):
        errors: list[str] = []
        prompt_tokens = completion_tokens = reused = 0
        for attempt in range(1, retries + 2):
            output, completion, error = answer if attempt == 1 else \
                _attempt(runner, name, [call], attempt, max_new_tokens, thinking)[0]
            errors += error
            if completion is not None:
                prompt_tokens += completion.usage.prompt_tokens
                completion_tokens += completion.usage.completion_tokens
                reused += completion.usage.reused_prompt_tokens
            if output is not None:
                runs.append(ExpertRun(name, output, attempt, time.perf_counter() - started, prompt_tokens,
                                      completion_tokens, tuple(errors), reused))
                break
        else:
            runs.append(ExpertFailed(f"the {name} expert gave no valid answer after {retries + 1} attempt(s): "
                                     f"{errors[-1] if errors else 'missing fields'}", prompt_tokens, completion_tokens,
                                     reused))
    return runs


def _attempt(runner: Runner, name: str, calls: list[ExpertCall], attempt: int, max_new_tokens: int,
             thinking: bool | None) -> list[tuple[dict | None, Completion | None, list[str]]]:
    """(output or None, completion, errors) for each call's `attempt`-th try, all in one runner call.
    Retries sample (temperature 0.7) with the next seed, so they do not repeat the failed answer."""
    contract = CONTRACTS[name]
    requests = [_request(runner, c, contract, attempt, max_new_tokens, thinking) for c in calls]
    results = []
    for call, answer in zip(calls, runner.answer(requests, return_errors=True)):
        errors: list[str] = []
        if isinstance(answer, StructuredOutputError):
            errors.append(str(answer))
            completion = answer.completion
            output = _recover(completion.text, contract, errors) if completion is not None else None
        elif call.sql_block:
            completion = answer
            sql, notes = split_sql_answer(completion.text)
            output = {"sql": sql, "notes": notes} if sql else None
            if output is None:
                errors.append("the answer holds no SELECT query")
        else:
            completion, output = answer, answer.parsed
        results.append((output, completion, errors))
    return results


def _request(runner: Runner, call: ExpertCall, contract: dict, attempt: int, max_new_tokens: int,
             thinking: bool | None):
    request = runner.request(call.messages, json_schema=None if call.sql_block else contract,
                             max_new_tokens=max_new_tokens, thinking=thinking,
                             temperature=call.temperature if attempt == 1 else 0.7, seed=call.seed + attempt - 1)
    if call.sql_block and not request.enable_thinking:   # a thought may hold a closed block of its own
        request = replace(request, stop=request.stop + SQL_BLOCK_END)
    return request


_FENCE = re.compile(r"```[ \t]*(?:sql|sqlite|postgresql|mysql|duckdb)?[ \t]*\n?(.*?)(?:```|$)", re.S | re.I)
_STATEMENT_START = re.compile(r"\b(SELECT|WITH)\b", re.I)


def split_sql_answer(text: str) -> tuple[str, str]:
    """(sql, notes) from a plain answer: the first fenced block (else the text from its first SELECT or
    WITH) up to a semicolon, and whatever text follows the block."""
    match = _FENCE.search(text)
    body = match.group(1) if match else text
    start = _STATEMENT_START.search(body)
    if not start:
        return "", ""
    sql = body[start.start():].split(";")[0].strip()
    notes = " ".join(text[match.end():].split())[:300] if match else ""
    return sql, notes


def _recover(text: str, contract: dict, errors: list[str]) -> dict | None:
    """Salvage an answer that missed its schema (e.g. a server that ignored response_format)."""
    try:
        return parse_json_output(json.dumps(recover_json(text)), contract)
    except (ExpertOutputError, StructuredOutputError) as exc:
        errors.append(str(exc))
        return None


_LITERAL = re.compile(r"'([^']*)'")
_JOIN = re.compile(r"(\w+)\.(\w+)\s*=\s*(\w+)\.(\w+)")


def ground_plan(plan: dict[str, Any], question: str, context: str,
                join_ok: Callable[[str, str, str, str], bool] | None = None) -> tuple[dict[str, Any], list[str]]:
    """Drop planned filters with values the user never gave, and joins that follow no foreign key.

    Small models like to invent conditions ("method = 'card'") and join on whatever looks close; a
    value the user never gave is not a filter the user asked for. Dates count as given when their
    year (or the year before, for a range end) is mentioned.
    """
    said = f"{question} {context}".lower()
    notes: list[str] = []
    filters = []
    for condition in plan.get("filters") or []:
        values = [v for v in _LITERAL.findall(str(condition)) if v.strip()]
        if any(v.lower() not in said and not _year_mentioned(v, said) for v in values):
            notes.append(f"dropped planned filter not grounded in the question: {condition}")
        else:
            filters.append(condition)
    joins = []
    for join in plan.get("joins") or []:
        match = _JOIN.search(str(join))
        if join_ok is not None and match and not join_ok(*match.groups()):
            notes.append(f"dropped planned join that follows no foreign key: {join}")
        else:
            joins.append(join)
    return {**plan, "filters": filters, "joins": joins}, notes


def _year_mentioned(value: str, said: str) -> bool:
    """A date whose year, or the year before (the end of a range), is mentioned."""
    match = re.match(r"(\d{4})-\d{2}(-\d{2})?", value)
    if not match:
        return False
    year = int(match.group(1))
    return str(year) in said or str(year - 1) in said


def whole_sentences(text: str) -> str:
    """Text cut at its contract's length limit, without the unfinished last sentence."""
    text = " ".join(text.split())
    end = text.rfind(". ")
    return text if text.endswith((".", "!", "?")) or end < 0 else text[: end + 1]
