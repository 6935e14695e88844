"""Requests that arrive together are answered together: the server's side of batching.

A local model answers one call at a time, but one call can hold many rows (the decode engine decodes
them as one batch). The RequestBatcher's worker takes the first waiting request, waits up to `window_s`
for others (or until `max_batch` are waiting), and answers them with one `Runner.answer` call. Clients
that send concurrent requests - the OpenAI-compatible backend with `openai.concurrency` > 1 - are so
served as vLLM or SGLang would serve them, on a smaller scale.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from typing import Sequence

from .completion import ChatRequest, Completion
from .runner import Runner


class RequestBatcher:
    def __init__(self, runner: Runner, lock: threading.Lock, max_batch: int = 8, window_s: float = 0.005):
        """`lock`: held while the model works (a streaming request holds it too)."""
        if max_batch < 1 or window_s < 0:
            raise ValueError("max_batch must be at least 1 and window_s at least 0")
        self.runner, self.lock, self.max_batch, self.window_s = runner, lock, max_batch, window_s
        self.batches: list[int] = []   # the size of every batch answered so far (for tests and benchmarks)
        self._waiting: queue.Queue[tuple[ChatRequest, Future] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="qwen3-request-batcher", daemon=True)
        self._worker.start()

    def answer(self, request: ChatRequest) -> Completion:
        """The request's completion, answered in a batch with whatever arrived with it; raises its error."""
        done: Future = Future()
        self._waiting.put((request, done))
        return done.result()

    def close(self) -> None:
        self._waiting.put(None)
        self._worker.join()

    def _work(self) -> None:
        while True:
            first = self._waiting.get()
            if first is None:
                return
            batch, deadline = [first], time.perf_counter() + self.window_s
            while len(batch) < self.max_batch:
                try:
                    item = self._waiting.get(timeout=max(0.0, deadline - time.perf_counter()))
                except queue.Empty:
                    break
                if item is None:
                    self._waiting.put(None)   # answer this batch, then stop
                    break
                batch.append(item)
            self._answer(batch)

    def _answer(self, batch: Sequence[tuple[ChatRequest, Future]]) -> None:
        requests = [request for request, _ in batch]
        with self.lock:
            self.batches.append(len(batch))
            try:
                answers = self.runner.answer(requests, return_errors=True)
            except Exception:   # one request's failure (say a prompt over the context) fails the call:
                answers = [self._alone(r) for r in requests]   # each gets its own answer or error
        for (_, done), answer in zip(batch, answers):
            if isinstance(answer, BaseException):
                done.set_exception(answer)
            else:
                done.set_result(answer)

    def _alone(self, request: ChatRequest) -> Completion | Exception:
        try:
            return self.runner.answer([request], return_errors=True)[0]
        except Exception as exc:
            return exc
