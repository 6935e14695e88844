"""A backend that replays fixed completions: for testing the orchestrator's control flow only."""

import json

from Qwen3 import Runner, load_config
from Qwen3.backends.base import cut_at_stop
from Qwen3.completion import Completion, Timings, Usage


class ScriptedBackend:
    model_name = "scripted"
    supports_json_schema = True

    def __init__(self, replies):
        self.replies = [r if isinstance(r, str) else json.dumps(r) for r in replies]
        self.requests = []
        self.batches = []   # how many requests each generate() call carried

    def generate(self, requests, on_delta=None):
        self.batches.append(len(requests))
        out = []
        for request in requests:
            self.requests.append(request)
            if not self.replies:
                raise AssertionError("the orchestrator asked for more completions than scripted")
            text = self.replies.pop(0)
            cut = cut_at_stop(text, request.stop)   # as a real backend does
            out.append(Completion(text=text if cut is None else cut, thinking=None, finish_reason="stop",
                                  usage=Usage(100, 20), timings=Timings(0.01)))
        return out

    def user_messages(self):
        return [r.messages[-1].content for r in self.requests]

    def close(self):
        pass


def scripted_runner(*replies) -> tuple[Runner, ScriptedBackend]:
    backend = ScriptedBackend(replies)
    return Runner(load_config({"generation": {"thinking": False}}), backend=backend), backend
