"""The OpenAI-compatible backend: vLLM, SGLang, Ollama, llama.cpp server, LM Studio, or our own server.

Thinking is switched with `chat_template_kwargs.enable_thinking` (vLLM/SGLang); the thought comes
back in `reasoning_content` or `reasoning` when the server parses it, or inline in `<think>` tags
otherwise. JSON schemas go in `response_format`. Connection errors, timeouts, 429 and 5xx answers
are retried with exponential backoff a bounded number of times; other 4xx answers fail at once.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator, Sequence

import httpx

from ..chat import split_thinking
from ..completion import ChatRequest, Completion, Delta, Timings, Usage
from ..errors import BackendError
from .base import DeltaCallback

_RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAIBackend:
    supports_json_schema = True

    def __init__(self, config):
        settings = config.openai
        self.settings = settings
        self.model_name = config.model
        self.base_url = settings.base_url.rstrip("/")
        headers = {}
        key = os.environ.get(settings.api_key_env) if settings.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        timeout = httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        self.client = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def generate(self, requests: Sequence[ChatRequest], on_delta: DeltaCallback | None = None) -> list[Completion]:
        if len(requests) == 1:
            return [self._one(requests[0], 0, on_delta)]
        with ThreadPoolExecutor(max_workers=min(self.settings.concurrency, len(requests))) as pool:
            return list(pool.map(lambda ir: self._one(ir[1], ir[0], on_delta), enumerate(requests)))

    def payload(self, request: ChatRequest, stream: bool) -> dict[str, Any]:
        s = request.sampling
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "max_tokens": request.max_new_tokens + (request.max_thinking_tokens if request.enable_thinking else 0),
            "temperature": s.temperature, "top_p": s.top_p, "presence_penalty": s.presence_penalty,
            "chat_template_kwargs": {"enable_thinking": request.enable_thinking},
            "stream": stream,
        }
        if self.settings.send_top_k and s.top_k:
            body["top_k"] = s.top_k
        if s.min_p:
            body["min_p"] = s.min_p
        if request.stop:
            body["stop"] = list(request.stop)
        if request.seed is not None:
            body["seed"] = request.seed
        if request.json_schema is not None:
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "response", "schema": dict(request.json_schema),
                                                       "strict": True}}
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    def _one(self, request: ChatRequest, row: int, on_delta: DeltaCallback | None) -> Completion:
        started = time.perf_counter()
        if on_delta is None:
            data = self._post(self.payload(request, stream=False))
            return self._completion(request, data, started, None)
        thinking, answer, finish, usage, first = [], [], "stop", {}, None
        for event in self._stream(self.payload(request, stream=True)):
            usage = event.get("usage") or usage
            for choice in event.get("choices", []):
                delta = choice.get("delta", {})
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if first is None and (reasoning or delta.get("content")):
                    first = time.perf_counter() - started
                if reasoning:
                    thinking.append(reasoning)
                    on_delta(row, Delta(reasoning, "thinking"))
                if delta.get("content"):
                    answer.append(delta["content"])
                    on_delta(row, Delta(delta["content"], "answer"))
                finish = choice.get("finish_reason") or finish
        message = {"content": "".join(answer),
                   "reasoning_content": "".join(thinking) if thinking or request.enable_thinking else None}
        data = {"choices": [{"message": message, "finish_reason": finish}], "usage": usage}
        return self._completion(request, data, started, first)

    def _completion(self, request: ChatRequest, data: dict, started: float, first: float | None) -> Completion:
        try:
            choice = data["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise BackendError(f"server at {self.base_url} sent a response without choices") from None
        content = message.get("content") or ""
        reasoning = message.get("reasoning_content")
        if reasoning is None:
            reasoning = message.get("reasoning")
        inline_thinking, answer = split_thinking(content, request.enable_thinking)
        usage = data.get("usage") or {}
        return Completion(
            text=answer, thinking=reasoning.strip() if reasoning is not None else inline_thinking,
            finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
            usage=Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)),
                        int((usage.get("completion_tokens_details") or {}).get("reasoning_tokens", 0)),
                        int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)),
            timings=Timings(total_s=time.perf_counter() - started, first_token_s=first),
            model=data.get("model", self.model_name))

    def _post(self, body: dict) -> dict:
        response = self._with_retries(lambda: self.client.post("/chat/completions", json=body))
        try:
            return response.json()
        except json.JSONDecodeError:
            raise BackendError(f"server at {self.base_url} answered with invalid JSON") from None

    def _stream(self, body: dict) -> Iterator[dict]:
        def open_stream() -> httpx.Response:
            request = self.client.build_request("POST", "/chat/completions", json=body)
            return self.client.send(request, stream=True)

        response = self._with_retries(open_stream)
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                event = json.loads(payload)
                if "error" in event:
                    raise BackendError(f"server error while streaming: {_error_text(event)}")
                yield event
        except httpx.HTTPError as exc:
            raise BackendError(f"stream from {self.base_url} broke off: {type(exc).__name__}") from None
        finally:
            response.close()

    def _with_retries(self, send) -> httpx.Response:
        attempts = self.settings.max_retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.settings.backoff_s * 2 ** (attempt - 1))
            try:
                response = send()
            except httpx.TimeoutException:
                problem = f"timed out after {self.settings.timeout_s:g}s"
                continue
            except httpx.TransportError as exc:
                problem = f"cannot connect ({type(exc).__name__})"
                continue
            if response.status_code < 400:
                return response
            response.read()
            problem = f"HTTP {response.status_code}: {_error_text(_safe_json(response))}"
            response.close()
            if response.status_code not in _RETRY_STATUS:
                raise BackendError(f"server at {self.base_url} refused the request: {problem}")
        raise BackendError(f"server at {self.base_url} failed after {attempts} attempt(s): {problem}")

    def close(self) -> None:
        self.client.close()


def _safe_json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text[:200]


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body))
        if isinstance(error, dict):
            return str(error.get("message", error))
        return str(error)
    return str(body).strip() or "no details"
