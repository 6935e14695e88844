"""An OpenAI-compatible chat server on 127.0.0.1 that replays fixed answers in order, so a command-line run
(a subprocess) can be driven through the runner's real HTTP backend. For control flow only: what the
experts are asked is recorded in `requests`; asking past the last answer gets a 500."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ReplayServer:
    def __init__(self, answers: list[str]):
        self.answers = list(answers)
        self.requests: list[dict] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
                replay.requests.append(body)
                if not replay.answers:
                    self._send(500, {"error": {"message": "no more scripted answers"}})
                    return
                text = replay.answers.pop(0)
                self._send(200, {"choices": [{"message": {"role": "assistant", "content": text},
                                              "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 10, "completion_tokens": 5}})

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "ReplayServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def runner(self) -> dict:
        """Inline runner settings that send every expert call here."""
        return {"backend": "openai", "model": "replay", "generation": {"thinking": False},
                "openai": {"base_url": self.url, "api_key_env": None, "max_retries": 0}}

    def prompts(self) -> list[str]:
        return ["\n".join(m["content"] for m in r["messages"]) for r in self.requests]
