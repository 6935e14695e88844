"""An OpenAI-compatible HTTP server over any runner backend: `python -m Qwen3.server --config ...`.

Endpoints: GET /v1/models, POST /v1/chat/completions (with "stream": true as server-sent events).
Thinking goes out as `reasoning_content`, the vLLM convention. Requests that arrive together are
answered in one batch (batching.py: up to --max-batch, gathered for --batch-window-ms), which the decode
engine decodes together; a streaming request has the model to itself.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
import uuid
from typing import Any, Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field

from .batching import RequestBatcher
from .cli_support import claim_port, one_line_errors, port_number
from .completion import Completion
from .errors import ContextOverflowError, RunnerError, StructuredOutputError
from .runner import Runner, load_runner

PROGRAM = "python -m Qwen3.server"


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text"]
    text: str


class ChatMessageIn(BaseModel):
    """A message as the OpenAI clients send it: `content` a string or a list of text parts."""
    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant"]
    content: str | list[TextPart]

    def as_chat(self) -> dict[str, str]:
        text = self.content if isinstance(self.content, str) else "\n".join(p.text for p in self.content)
        return {"role": self.role, "content": text}


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    model: str | None = None
    messages: list[ChatMessageIn] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0)
    top_p: float | None = Field(default=None, gt=0, le=1)
    top_k: int | None = Field(default=None, ge=-1)
    min_p: float | None = Field(default=None, ge=0, le=1)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    max_completion_tokens: int | None = Field(default=None, gt=0)
    stop: str | list[str] | None = None
    seed: int | None = None
    stream: bool = False
    response_format: dict[str, Any] | None = None
    chat_template_kwargs: dict[str, Any] | None = None


def _options(body: ChatCompletionRequest) -> dict[str, Any]:
    schema = None
    fmt = body.response_format or {}
    if fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if schema is None:
            raise StructuredOutputError("response_format.json_schema.schema is missing")
    elif fmt.get("type") == "json_object":
        schema = {"type": "object"}
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    thinking = (body.chat_template_kwargs or {}).get("enable_thinking")
    return dict(thinking=thinking if isinstance(thinking, bool) else None, json_schema=schema,
                max_new_tokens=body.max_completion_tokens or body.max_tokens, stop=stop, seed=body.seed,
                temperature=body.temperature, top_p=body.top_p,
                top_k=None if body.top_k in (None, -1) else body.top_k,
                min_p=body.min_p, presence_penalty=body.presence_penalty)


def _usage(c: Completion) -> dict[str, Any]:
    return {"prompt_tokens": c.usage.prompt_tokens, "completion_tokens": c.usage.completion_tokens,
            "total_tokens": c.usage.total_tokens,
            "completion_tokens_details": {"reasoning_tokens": c.usage.thinking_tokens},
            "prompt_tokens_details": {"cached_tokens": c.usage.reused_prompt_tokens}}


def create_app(runner: Runner, api_key: str | None = None, max_request_bytes: int = 1 << 20,
               max_batch: int = 8, batch_window_s: float = 0.005):
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, StreamingResponse

    app = FastAPI(title="Qwen3 runner", version="1")
    lock = threading.Lock()
    app.state.batcher = batcher = RequestBatcher(runner, lock, max_batch, batch_window_s)
    app.router.on_shutdown.append(batcher.close)
    model_id = runner.model_name

    def error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None) -> JSONResponse:
        return JSONResponse({"error": {"message": message, "type": kind, "code": code}}, status_code=status)

    def overflow(exc: ContextOverflowError) -> JSONResponse:
        return error(400, str(exc), code="context_length_exceeded")

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if api_key and request.headers.get("authorization") != f"Bearer {api_key}":
            return error(401, "missing or wrong bearer token", "authentication_error")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_request_bytes:
            return error(413, f"request body over {max_request_bytes} bytes")
        if request.method == "POST" and len(await request.body()) > max_request_bytes:
            return error(413, f"request body over {max_request_bytes} bytes")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        return error(400, f"{where}: {first['msg']}")

    @app.exception_handler(Exception)
    async def unexpected(_request, exc: Exception):   # the API's JSON error, never a plain-text 500
        return error(500, f"internal error: {type(exc).__name__}: {exc}", "server_error")

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": model_id, "object": "model", "owned_by": "local"}]}

    @app.post("/v1/chat/completions")
    def chat_completions(body: ChatCompletionRequest):
        messages = [m.as_chat() for m in body.messages]
        try:
            options = _options(body)
            request = runner.request(messages, **options)  # validated before any streaming starts
        except (RunnerError, ValueError) as exc:
            return error(400, str(exc))
        created, cid = int(time.time()), f"chatcmpl-{uuid.uuid4().hex[:24]}"
        if body.stream:
            return StreamingResponse(_events(runner, lock, messages, options, cid, created, model_id),
                                     media_type="text/event-stream")
        try:
            c = batcher.answer(request)
        except StructuredOutputError as exc:
            return error(422, str(exc), "structured_output_error")
        except ContextOverflowError as exc:
            return overflow(exc)
        except RunnerError as exc:
            return error(500, str(exc), "server_error")
        message = {"role": "assistant", "content": c.text, "reasoning_content": c.thinking}
        return {"id": cid, "object": "chat.completion", "created": created, "model": model_id,
                "choices": [{"index": 0, "message": message, "finish_reason": c.finish_reason}],
                "usage": _usage(c)}

    return app


def _events(runner: Runner, lock: threading.Lock, messages, options, cid: str, created: int,
            model_id: str) -> Iterator[str]:
    def event(delta: dict[str, Any], finish: str | None = None, usage: dict | None = None) -> str:
        chunk = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model_id,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if usage is not None:
            chunk["usage"] = usage
        return f"data: {json.dumps(chunk)}\n\n"

    with lock:
        yield event({"role": "assistant"})
        try:
            for d in runner.stream(messages, **options):
                if d.completion is not None:
                    yield event({}, d.completion.finish_reason, _usage(d.completion))
                elif d.text:
                    key = "reasoning_content" if d.channel == "thinking" else "content"
                    yield event({key: d.text})
        except Exception as exc:   # an error event, then the end of the stream: never silence
            yield f"data: {json.dumps({'error': _error_body(exc)})}\n\n"
    yield "data: [DONE]\n\n"


def _error_body(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, ContextOverflowError):
        return {"message": str(exc), "type": "invalid_request_error", "code": "context_length_exceeded"}
    if isinstance(exc, RunnerError):
        return {"message": str(exc), "type": "server_error", "code": None}
    return {"message": f"internal error: {type(exc).__name__}: {exc}", "type": "server_error", "code": None}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Serve a Qwen3 runner over an OpenAI-compatible API.")
    parser.add_argument("--config", default="Qwen3/qwen3_runner_config.yaml")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    parser.add_argument("--port", type=port_number, default=8000)
    parser.add_argument("--api-key-env", default=None,
                        help="name of an environment variable holding the bearer token clients must send")
    parser.add_argument("--max-request-bytes", type=int, default=1 << 20)
    parser.add_argument("--max-batch", type=int, default=8, help="requests answered together at most (default 8)")
    parser.add_argument("--batch-window-ms", type=float, default=5.0,
                        help="how long the first waiting request waits for others to join its batch (default 5)")
    args = parser.parse_args(argv)
    with one_line_errors(PROGRAM):
        try:
            import uvicorn
        except ImportError:
            raise RunnerError("the server needs FastAPI and uvicorn: pip install '.[server]'") from None
        api_key = None
        if args.api_key_env:
            api_key = os.environ.get(args.api_key_env)
            if not api_key:
                raise RunnerError(f"--api-key-env {args.api_key_env}: that environment variable is empty")
        listening = claim_port(args.host, args.port)   # a port in use fails now (exit 5), before the model loads
        runner = load_runner(args.config)
        if args.max_batch < 1 or args.batch_window_ms < 0:
            raise RunnerError("--max-batch must be at least 1 and --batch-window-ms at least 0")
        app = create_app(runner, api_key=api_key, max_request_bytes=args.max_request_bytes,
                         max_batch=args.max_batch, batch_window_s=args.batch_window_ms / 1000)
        host, port = listening.getsockname()[:2]
        print(f"{PROGRAM}: serving {runner.model_name} on http://{host}:{port}/v1", flush=True)
        try:
            uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[listening])
        finally:
            runner.close()


if __name__ == "__main__":
    main()
