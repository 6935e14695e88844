"""The HTTP API and web page over one shared orchestrator (docs/service.md).

    POST /v1/sql/ask        a question (optionally a follow-up in a conversation); JSON or server-sent events
    POST /v1/sql/feedback   good / bad / corrected SQL: approved pairs become few-shot examples at once
    GET  /v1/sql/schema     the catalog the experts see
    GET  /healthz           liveness, the model and the line of waiting questions
    GET  /                  the page (static files; plotly.js from the plotly package draws the charts)

Questions are answered one at a time (answer_queue.py); the only path to the database is the
orchestrator's checked, read-only one. Errors are JSON: {"error": {"message": ..., "type": ...}}.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field

from Qwen3.errors import RunnerError

from ..sql.conversation import Conversation
from ..sql.orchestrator import SQLMoEOrchestrator
from ..sql.question import QuestionRefused
from .answer_queue import AnswerQueue, QueueFull
from .feedback import FeedbackStore

WEB = Path(__file__).parent / "web"
# The page runs only its own scripts; model text and database values are never markup.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@dataclass(frozen=True)
class ServiceSettings:
    api_key: str | None = None          # when set, /v1 and /healthz need "Authorization: Bearer KEY" or "X-API-Key"
    max_request_bytes: int = 64 * 1024
    max_waiting: int = 8                # questions waiting behind the one being answered; more get 503
    max_conversations: int = 500        # the least recently used are forgotten beyond this
    follow_up_turns: int = 3            # earlier turns a follow-up is answered with


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(max_length=20_000)     # the orchestrator's own limit (limits.*) gives the clear message
    extra_context: str | None = Field(default=None, max_length=20_000)
    execute: bool = True
    conversation_id: str | None = Field(default=None, max_length=64)
    stream: bool = False


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=4_000)
    sql: str = Field(min_length=1, max_length=20_000)
    verdict: Literal["good", "bad"]
    corrected_sql: str | None = Field(default=None, max_length=20_000)
    comment: str | None = Field(default=None, max_length=2_000)


class Conversations:
    """Conversations by id, the least recently used forgotten first."""

    def __init__(self, orchestrator: SQLMoEOrchestrator, limit: int, turns: int):
        self.orchestrator, self.limit, self.turns = orchestrator, limit, turns
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conversation_id: str | None) -> tuple[str, Conversation]:
        """The conversation with this id (KeyError if unknown), or a new one for None."""
        with self._lock:
            if conversation_id is None:
                conversation_id = uuid.uuid4().hex
                self._items[conversation_id] = Conversation(self.orchestrator, self.turns)
                while len(self._items) > self.limit:
                    self._items.popitem(last=False)
            conversation = self._items[conversation_id]
            self._items.move_to_end(conversation_id)
            return conversation_id, conversation


def create_app(orchestrator: SQLMoEOrchestrator, feedback: FeedbackStore | None = None,
               settings: ServiceSettings = ServiceSettings()):
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
    from fastapi.staticfiles import StaticFiles

    app = FastAPI(title="SQL experts", version="1", docs_url=None, redoc_url=None)
    line = AnswerQueue(settings.max_waiting)
    conversations = Conversations(orchestrator, settings.max_conversations, settings.follow_up_turns)
    app.state.queue = line

    def error(status: int, message: str, kind: str) -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        path = request.url.path
        if settings.api_key and (path.startswith("/v1/") or path == "/healthz"):
            given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
            if given != settings.api_key:
                return error(401, "missing or wrong API key (send 'Authorization: Bearer KEY' or 'X-API-Key: KEY')",
                             "authentication_error")
        limit = settings.max_request_bytes
        declared = request.headers.get("content-length")
        if (declared and declared.isdigit() and int(declared) > limit) or \
                (request.method == "POST" and len(await request.body()) > limit):
            return error(413, f"request body over {limit:,} bytes (--max-request-bytes)", "invalid_request_error")
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "body"
        return error(400, f"{where}: {first['msg']}", "invalid_request_error")

    @app.exception_handler(Exception)
    async def unexpected(_request, exc: Exception):
        return error(500, f"internal error: {type(exc).__name__}: {exc}", "server_error")

    @app.get("/healthz")
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "model": orchestrator.runner.model_name, "dialect": orchestrator.config.dialect,
                "tables": len(orchestrator.catalog.tables), "pending": line.pending,
                "feedback": feedback is not None}

    @app.get("/v1/sql/schema")
    def schema() -> dict[str, Any]:
        return catalog_json(orchestrator)

    @app.post("/v1/sql/ask")
    def ask(body: AskIn):
        try:
            conversation_id, conversation = conversations.get(body.conversation_id)
        except KeyError:
            return error(404, f"unknown conversation_id {body.conversation_id!r} (forgotten after a restart or "
                              "when many newer ones came); start a new conversation", "not_found")
        try:
            ticket = line.ticket()
        except QueueFull as exc:
            return error(503, str(exc), "overloaded")
        if body.stream:
            return StreamingResponse(_stream(conversation, conversation_id, ticket, body),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-store"})
        with ticket:
            try:
                result = conversation.ask(body.question, body.extra_context, execute=body.execute)
            except QuestionRefused as exc:
                return error(400, str(exc), "question_refused")
            except RunnerError as exc:
                return error(500, str(exc), "server_error")
        return dict(result.to_dict(), conversation_id=conversation_id)

    @app.post("/v1/sql/feedback")
    def give_feedback(body: FeedbackIn):
        if feedback is None:
            return error(404, "feedback is off on this server (started with --no-feedback)", "not_found")
        if body.verdict == "bad":
            feedback.log_bad(body.model_dump())
        approved = body.corrected_sql or (body.sql if body.verdict == "good" else None)
        if not approved:
            return {"stored": "log", "file": str(feedback.log_file)}
        try:
            with line.ticket():   # the checks use the orchestrator's database connection: one user at a time
                report = orchestrator.check(approved, body.question)
        except QueueFull as exc:
            return error(503, str(exc), "overloaded")
        if not report.ok:
            issues = "; ".join(str(i) for i in report.issues)
            return error(422, f"not added to the examples: the SQL failed the checks: {issues}", "sql_failed_checks")
        added = feedback.add_example(body.question, approved)
        orchestrator.reload_examples()
        return {"stored": "examples" if added else "duplicate", "file": str(feedback.examples_file),
                "examples": len(orchestrator.examples.examples) if orchestrator.examples else 0}

    @app.get("/")
    def page():
        return FileResponse(WEB / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/static/vendor/plotly.min.js")
    def plotly_js():
        bundled = _plotly_js()
        if bundled is None:
            return error(404, "charts need the plotly package: pip install '.[service]'", "not_found")
        return FileResponse(bundled, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=WEB), name="static")
    return app


def _stream(conversation: Conversation, conversation_id: str, ticket, body: AskIn) -> Iterator[str]:
    """Server-sent events: queued, route, stage, expert (each as it happens), then result or error, then done.
    The question is answered in a thread of its own that holds the ticket, so a client that goes away
    neither blocks the line nor leaves its place taken."""
    events: queue.Queue = queue.Queue()

    def answer() -> None:
        with ticket:
            events.put(("started", {}))
            try:
                result = conversation.ask(body.question, body.extra_context, execute=body.execute,
                                          on_step=lambda name: events.put(("stage", {"name": name})),
                                          on_event=lambda kind, data: events.put((kind, data)))
                events.put(("result", dict(result.to_dict(), conversation_id=conversation_id)))
            except QuestionRefused as exc:
                events.put(("error", {"error": {"message": str(exc), "type": "question_refused"}}))
            except Exception as exc:   # the stream must end with an error event, never silence
                events.put(("error", {"error": {"message": f"{type(exc).__name__}: {exc}", "type": "server_error"}}))
            finally:
                events.put(None)

    threading.Thread(target=answer, name="sql-answer", daemon=True).start()
    yield _event("queued", {"ahead": ticket.position, "conversation_id": conversation_id})
    while (item := events.get()) is not None:
        yield _event(*item)
    yield _event("done", {})


def _event(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, default=str)}\n\n"


def catalog_json(orchestrator: SQLMoEOrchestrator) -> dict[str, Any]:
    catalog = orchestrator.catalog
    return {"dialect": orchestrator.config.dialect, "tables": [
        {"name": t.ref, "comment": t.comment, "primary_key": list(t.primary_key),
         "columns": [{"name": c.name, "type": c.type, "comment": c.comment, "nullable": c.nullable,
                      "allowed_values": list(c.allowed_values)} for c in t.columns],
         "foreign_keys": [{"columns": list(f.columns), "ref_table": f.ref_table, "ref_columns": list(f.ref_columns)}
                          for f in t.foreign_keys]}
        for t in catalog.tables]}


def _plotly_js() -> Path | None:
    try:
        import plotly
    except ImportError:
        return None
    path = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    return path if path.is_file() else None
