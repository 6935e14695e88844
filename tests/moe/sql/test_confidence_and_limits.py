"""No confident wrong answers: the confidence rule, honest failure, and limits on every input."""

import time

import pytest

from MoE.sql.confidence import rate
from MoE.sql.question import QuestionRefused

from test_orchestrator import GOOD, KEEP, orchestrator

PASSED = ("safety", "parse", "catalog", "joins", "dry_run")


@pytest.mark.parametrize("kwargs, level", [
    (dict(), "high"),
    (dict(votes=(3, 3)), "high"),
    (dict(votes=(2, 3)), "high"),
    (dict(votes=(1, 3)), "low"),                  # no majority
    (dict(rows=0), "low"),                        # an empty result
    (dict(warnings=["[fan_out] SUM after join"]), "low"),
    (dict(writer_rounds=2), "low"),
    (dict(out_of_time=True), "low"),
    (dict(writer_rounds=1), "medium"),
    (dict(revised=True), "medium"),
    (dict(rows=None), "medium"),                  # never run on a database
])
def test_the_rule(kwargs, level):
    args = dict(passed=PASSED, warnings=[], rows=5, writer_rounds=0, votes=None, revised=False, out_of_time=False)
    confidence = rate(**{**args, **kwargs})
    assert confidence.level == level and confidence.reasons


def test_a_clean_answer_is_high_and_says_why():
    orch, _ = orchestrator({"sql": GOOD, "notes": ""}, KEEP)
    result = orch.run("Orders per customer", execute=True)
    assert result.confidence.level == "high"
    assert result.confidence.reasons[0] == "passed " + ", ".join(PASSED)
    assert result.to_dict()["confidence"]["level"] == "high" and result.to_dict()["status"] == "ok"


def test_a_failed_answer_says_failed_first_and_never_describes_the_query():
    bad = {"sql": "SELECT nope FROM customers", "notes": ""}
    orch, _ = orchestrator(bad, bad, {"verdict": "keep", "revised_sql": "", "explanation": "Lists the names."},
                           experts={"max_repair_rounds": 1})
    result = orch.run("List customer names", execute=True)
    assert not result.ok and result.rows is None
    assert result.explanation.startswith("FAILED: [catalog] unknown column 'nope'")
    assert result.explanation.endswith("The SQL was not run.") and "Lists the names" not in result.explanation
    assert result.confidence.level == "none" and result.to_dict()["status"] == "failed"


@pytest.mark.parametrize("question, message", [
    ("", "the question is empty"),
    ("   \n ", "the question is empty"),
    ("hello", "not a question about the data: 'hello' names no table, column or value"),
    ("write me a poem about the sea", "not a question about the data"),
    ("x" * 2001, "the question is 2,001 characters; the limit is 2,000 (limits.max_question_chars)"),
])
def test_questions_refused_before_any_model_call(question, message):
    orch, backend = orchestrator()
    with pytest.raises(QuestionRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        orch.run(question)
    assert backend.requests == []


def test_context_has_its_own_limit():
    orch, backend = orchestrator(limits={"max_context_chars": 10})
    with pytest.raises(QuestionRefused, match="the extra context is 11 characters; the limit is 10"):
        orch.run("How many customers?", extra_context="x" * 11)
    assert backend.requests == []


class Slow:
    """Wraps the scripted backend: every answer takes `seconds`."""

    def __init__(self, backend, seconds):
        self.backend, self.seconds = backend, seconds

    def generate(self, requests, on_delta=None):
        time.sleep(self.seconds)
        return self.backend.generate(requests, on_delta)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def test_the_time_budget_keeps_the_answer_so_far():
    orch, backend = orchestrator({"sql": GOOD, "notes": ""}, KEEP, limits={"time_budget_s": 0.4})
    orch.runner.backend = Slow(backend, 0.5)
    result = orch.run("Orders per customer", execute=True)
    assert result.ok and [e.name for e in result.experts] == ["sql_writer"]   # the validator never started
    assert result.out_of_time and result.confidence.level == "low"
    assert "the time budget ran out before every step ran" in result.confidence.reasons
    assert any("limits.time_budget_s" in n for n in result.notes)


def test_a_budget_spent_before_any_sql_is_a_failure():
    orch, backend = orchestrator({"sql": GOOD, "notes": ""}, limits={"time_budget_s": 0.001})
    time.sleep(0.01)
    orch._deadline = 0   # as if the question had started long ago
    result = orch.run("Orders per customer")
    assert not result.ok and "ran out before the sql_writer could answer" in result.error


class SmallContext:
    """Wraps the scripted backend: a prompt longer than `chars` overflows, as a real backend's check says."""

    def __init__(self, backend, chars):
        self.backend, self.chars = backend, chars

    def generate(self, requests, on_delta=None):
        from Qwen3.errors import ContextOverflowError

        size = max(sum(len(m.content) for m in r.messages) for r in requests)
        if size > self.chars:
            raise ContextOverflowError(f"the prompt is {size} tokens, more than the model's context of {self.chars}",
                                       size, self.chars)
        return self.backend.generate(requests, on_delta)

    def __getattr__(self, name):
        return getattr(self.backend, name)


def overflowing(limit_chars):
    orch, backend = orchestrator({"sql": "SELECT COUNT(*) FROM customers", "notes": ""}, KEEP,
                                 linking={"full_schema_max_columns": 1000})
    whole = len(orch.catalog.to_prompt("duckdb"))
    orch.runner.backend = SmallContext(backend, whole + limit_chars)
    return orch, backend


def test_a_prompt_too_long_for_the_model_is_asked_again_with_the_linked_schema():
    orch, backend = overflowing(limit_chars=200)   # the whole schema does not fit with the question, linked it does
    result = orch.run("How many customers are there?", execute=True)
    assert result.ok and result.rows.rows == [(60,)]
    assert result.notes[0].startswith("the prompt (") and "asked again without examples" in result.notes[0]
    assert result.linked.kept_columns < result.linked.total_columns
    assert len(backend.requests) == 2


def test_a_prompt_that_cannot_shrink_enough_fails_in_one_line():
    orch, backend = overflowing(limit_chars=-10_000)
    result = orch.run("How many customers are there?")
    assert not result.ok and result.error.endswith("(even without examples and with only the linked columns)")
    assert "\n" not in result.error and result.confidence.level == "none" and backend.requests == []
