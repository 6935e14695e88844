"""The HTTP API on loopback: a real orchestrator and DuckDB behind it, the model scripted by role (control flow)."""

import json
import threading

import httpx
import pytest

from MoE.service import FeedbackStore, ServiceSettings, create_app
from MoE.sql import load_orchestrator
from service_load import scripted_runner, sample_config

ORDERS_BY_STATUS = "How many orders are there for each status?"


@pytest.fixture
def service(serve, tmp_path):
    """serve the app; returns (url, orchestrator, feedback store)."""
    made = []

    def start(**settings):
        delay = settings.pop("delay", 0.0)
        config = sample_config(None, str(tmp_path / "cache"))
        store = FeedbackStore(tmp_path / "examples.jsonl")
        store.ensure_exists()
        config["few_shot"] = {"file": str(store.examples_file)}
        config["router"] = {"plan_threshold": 9}   # no planner: the scripted stages stay two
        orchestrator = load_orchestrator(config, runner=scripted_runner(delay))
        made.append(orchestrator)
        return serve(create_app(orchestrator, store, ServiceSettings(**settings))), orchestrator, store

    yield start
    for orchestrator in made:
        orchestrator.close()


def ask(url, **body):
    return httpx.post(f"{url}/v1/sql/ask", json=body, timeout=60, headers=body.pop("headers", None))


def test_an_answer_has_the_checked_sql_its_rows_and_a_conversation(service):
    url, orchestrator, _ = service()
    answer = ask(url, question=ORDERS_BY_STATUS).json()
    assert answer["status"] == "ok" and answer["confidence"]["level"] == "high"
    assert answer["sql"].startswith("SELECT") and "safety" in answer["checks"]["passed"]
    expected = orchestrator.database.execute("SELECT status, COUNT(*) FROM orders GROUP BY status", 100).rows
    assert sorted(map(tuple, answer["rows"]["rows"])) == sorted(map(tuple, expected))
    assert len(answer["conversation_id"]) == 32 and answer["history"] == []
    assert [e["name"] for e in answer["experts"]] == ["sql_writer", "validator"]


def test_a_follow_up_is_asked_with_the_turn_before(service):
    url, orchestrator, _ = service()
    first = ask(url, question=ORDERS_BY_STATUS).json()
    second = ask(url, question="only the cancelled ones", conversation_id=first["conversation_id"]).json()
    assert second["history"] == [ORDERS_BY_STATUS] and second["conversation_id"] == first["conversation_id"]
    writer_prompt = [p for p in orchestrator.runner.backend.prompts if "Role: SQL writer" in p][-1]
    assert "Earlier in this conversation" in writer_prompt and first["sql"].split()[0] in writer_prompt
    assert " ".join(first["sql"].split()) in writer_prompt
    fresh = ask(url, question=ORDERS_BY_STATUS).json()
    assert fresh["history"] == [] and fresh["conversation_id"] != first["conversation_id"]


def test_an_unknown_conversation_is_404(service):
    url, _, _ = service()
    response = ask(url, question=ORDERS_BY_STATUS, conversation_id="nope")
    assert response.status_code == 404 and "unknown conversation_id" in response.json()["error"]["message"]


def events_of(url, **body):
    with httpx.stream("POST", f"{url}/v1/sql/ask", json=dict(body, stream=True), timeout=60) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        blocks = response.read().decode().strip().split("\n\n")
    return [(b.split("\n")[0].removeprefix("event: "), json.loads(b.split("\n")[1].removeprefix("data: ")))
            for b in blocks]


def test_a_streamed_answer_shows_each_stage_as_it_happens(service):
    url, _, _ = service()
    events = events_of(url, question=ORDERS_BY_STATUS)
    kinds = [k if k not in ("stage", "expert") else f"{k}:{d['name']}" for k, d in events]
    assert kinds == ["queued", "started", "route", "stage:sql_writer", "expert:sql_writer", "stage:validator",
                     "expert:validator", "stage:execute", "result", "done"]
    assert events[-2][1]["rows"]["columns"] and events[2][1]["experts"] == ["sql_writer", "validator"]


@pytest.mark.parametrize("question, message", [("   ", "the question is empty"),
                                               ("write me a poem about love", "not a question about the data")])
def test_a_refused_question_is_one_clear_error_and_no_model_call(service, question, message):
    url, orchestrator, _ = service()
    response = ask(url, question=question)
    assert response.status_code == 400 and response.json()["error"]["type"] == "question_refused"
    assert message in response.json()["error"]["message"]
    events = events_of(url, question=question)
    assert [k for k, _ in events] == ["queued", "started", "error", "done"]
    assert orchestrator.runner.backend.calls == 0


def test_a_full_line_answers_503_at_once(service):
    url, _, _ = service(max_waiting=0, delay=1.0)
    outcomes = []
    slow = threading.Thread(target=lambda: outcomes.append(ask(url, question=ORDERS_BY_STATUS).status_code))
    slow.start()
    for _ in range(100):   # wait until the first question holds the line
        if httpx.get(f"{url}/healthz").json()["pending"] == 1:
            break
        threading.Event().wait(0.02)
    refused = ask(url, question=ORDERS_BY_STATUS)
    slow.join()
    assert refused.status_code == 503 and "Try again" in refused.json()["error"]["message"]
    assert outcomes == [200]


def test_the_api_key_guards_the_api_but_not_the_page(service):
    url, _, _ = service(api_key="k3y")
    assert ask(url, question=ORDERS_BY_STATUS).status_code == 401
    assert httpx.get(f"{url}/v1/sql/schema").status_code == 401
    assert ask(url, question=ORDERS_BY_STATUS, headers={"X-API-Key": "k3y"}).status_code == 200
    assert httpx.get(f"{url}/healthz", headers={"Authorization": "Bearer k3y"}).status_code == 200
    assert httpx.get(f"{url}/").status_code == 200


def test_requests_over_the_size_limit_get_413(service):
    url, _, _ = service(max_request_bytes=2000)
    response = ask(url, question="x" * 5000)
    assert response.status_code == 413 and "over 2,000 bytes" in response.json()["error"]["message"]


def test_an_approved_pair_teaches_the_next_question(service):
    url, orchestrator, store = service()
    pair = {"question": "Revenue per country", "sql": "SELECT c.country_code, SUM(o.total_amount) FROM orders o "
                                                       "JOIN customers c ON c.customer_id = o.customer_id GROUP BY 1"}
    saved = httpx.post(f"{url}/v1/sql/feedback", json=dict(pair, verdict="good")).json()
    assert saved["stored"] == "examples" and saved["examples"] == 1
    again = httpx.post(f"{url}/v1/sql/feedback", json=dict(pair, verdict="good")).json()
    assert again["stored"] == "duplicate"
    assert [json.loads(line)["sql"] for line in store.examples_file.read_text().splitlines()] == [pair["sql"]]
    ask(url, question="What is the revenue for each country?")
    writer_prompt = [p for p in orchestrator.runner.backend.prompts if "Role: SQL writer" in p][-1]
    assert "Examples of questions and SQL" in writer_prompt and pair["sql"] in writer_prompt


@pytest.mark.parametrize("sql, message", [("DELETE FROM orders", "only SELECT queries may run"),
                                          ("SELECT nonexistent FROM orders", "nonexistent")])
def test_a_pair_that_fails_the_checks_is_not_kept(service, sql, message):
    url, _, store = service()
    response = httpx.post(f"{url}/v1/sql/feedback", json={"question": "q about orders", "sql": sql, "verdict": "good"})
    assert response.status_code == 422 and message in response.json()["error"]["message"]
    assert store.examples_file.read_text() == ""


def test_a_bad_verdict_is_logged_and_its_correction_kept(service):
    url, _, store = service()
    bad = {"question": "How many orders?", "sql": "SELECT COUNT(*) FROM customers", "verdict": "bad"}
    assert httpx.post(f"{url}/v1/sql/feedback", json=bad).json()["stored"] == "log"
    assert store.examples_file.read_text() == ""
    corrected = httpx.post(f"{url}/v1/sql/feedback", json=dict(bad, corrected_sql="SELECT COUNT(*) FROM orders")).json()
    assert corrected["stored"] == "examples"
    assert [json.loads(line)["verdict"] for line in store.log_file.read_text().splitlines()] == ["bad", "bad"]
    assert "SELECT COUNT(*) FROM orders" in store.examples_file.read_text()


def test_the_schema_health_and_page(service):
    url, _, _ = service()
    schema = httpx.get(f"{url}/v1/sql/schema").json()
    orders = next(t for t in schema["tables"] if t["name"] == "orders")
    assert "status" in [c["name"] for c in orders["columns"]] and orders["foreign_keys"]
    health = httpx.get(f"{url}/healthz").json()
    assert health == {"status": "ok", "model": "scripted-by-role", "dialect": "duckdb", "tables": 8, "pending": 0,
                      "feedback": True}
    page = httpx.get(f"{url}/")
    assert "<form id=\"ask-form\">" in page.text and "script-src 'self'" in page.headers["content-security-policy"]
    chart_library = httpx.get(f"{url}/static/vendor/plotly.min.js")
    assert chart_library.status_code == 200 and len(chart_library.content) > 1_000_000
