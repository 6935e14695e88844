"""The server's request batcher on the tiny random Qwen3 with the decode engine: requests that arrive
together are decoded as one batch and answered as they would be alone."""

import sys
import threading

import pytest

from Qwen3 import load_runner
from Qwen3.batching import RequestBatcher
from Qwen3.errors import ContextOverflowError
from Qwen3.server import create_app
from support import REPO


@pytest.fixture(scope="module")
def engine_runner(tiny_config):
    with load_runner(dict(tiny_config, transformers={"engine": "on"})) as runner:
        yield runner


def answer_together(batcher, requests):
    results = [None] * len(requests)

    def ask(i):
        try:
            results[i] = batcher.answer(requests[i])
        except Exception as exc:   # noqa: BLE001 - the test looks at which error
            results[i] = exc

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_requests_that_arrive_together_are_one_batch_with_the_same_answers(engine_runner):
    prompts = ["one", "two two", "three three three"]
    requests = [engine_runner.request(p, temperature=0, max_new_tokens=12) for p in prompts]
    batcher = RequestBatcher(engine_runner, threading.Lock(), max_batch=8, window_s=0.5)
    try:
        together = answer_together(batcher, requests)
    finally:
        batcher.close()
    assert batcher.batches == [3]
    assert [c.text for c in together] == [engine_runner.chat(p, temperature=0, max_new_tokens=12).text for p in prompts]


def test_max_batch_splits_and_a_failing_request_fails_alone(engine_runner):
    too_long = engine_runner.request("one two " * 1900, max_new_tokens=4)   # past the tiny model's 4,096 positions
    fine = [engine_runner.request(p, temperature=0, max_new_tokens=4) for p in ("a", "b c", "d e f")]
    batcher = RequestBatcher(engine_runner, threading.Lock(), max_batch=2, window_s=0.5)
    try:
        results = answer_together(batcher, [*fine, too_long])
    finally:
        batcher.close()
    assert sorted(batcher.batches) == [2, 2]
    assert isinstance(results[3], ContextOverflowError)
    assert all(r.text == engine_runner.chat(p, temperature=0, max_new_tokens=4).text
               for r, p in zip(results[:3], ("a", "b c", "d e f")))


def test_bad_settings_are_refused(engine_runner):
    with pytest.raises(ValueError, match="max_batch must be at least 1"):
        RequestBatcher(engine_runner, threading.Lock(), max_batch=0)


def test_the_openai_backend_keeps_its_concurrency_bound_and_our_server_batches(engine_runner):
    """Five requests through the OpenAI-compatible backend (concurrency 2) to the runner's own server on
    loopback: never more than two at once reach the model, and two that arrive together are one batch."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    from service_load import LoopbackServer

    app = create_app(engine_runner, batch_window_s=0.3)
    prompts = ["one", "two two", "three", "four four", "five"]
    with LoopbackServer(app) as server:
        client = {"backend": "openai", "model": "tiny", "generation": {"thinking": False, "max_new_tokens": 8},
                  "openai": {"base_url": f"{server.url}/v1", "api_key_env": None, "concurrency": 2}}
        with load_runner(client) as remote:
            texts = [c.text for c in remote.chat_batch(prompts, temperature=0)]
    batches = app.state.batcher.batches
    assert sum(batches) == 5 and max(batches) == 2
    assert texts == [engine_runner.chat(p, temperature=0, max_new_tokens=8).text for p in prompts]
