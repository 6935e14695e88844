"""Load on the SQL service: N clients asking at once for a fixed time, on loopback.

    python benchmarks/service_load.py                       # 16 clients, 60 s, scripted model (0.05 s a call)
    python benchmarks/service_load.py --model offline:qwen2.5-coder-0.5b --clients 4 --seconds 120

The server is the real one (create_app under uvicorn, a real orchestrator on the sample schema and its
embedded DuckDB); only the model is scripted by default: it answers each expert by its role, after a
fixed delay, so what is measured is the service - the line, the 503s, the checks, the database - not
the model. Every request must be answered (200) or refused (503) before its timeout; the server's memory
is read before and after. Prints a JSON summary and a Markdown row for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import threading
import time
from collections import deque
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from Qwen3 import Runner, load_config  # noqa: E402
from Qwen3.completion import Completion, Timings, Usage  # noqa: E402

QUESTIONS = ["How many orders are there for each status?", "How many customers are there in each country?",
             "What is the total amount of refunds per reason?", "List the ten most expensive products."]
ANSWERS = {
    "each status": "SELECT status, COUNT(*) AS orders FROM orders GROUP BY status",
    "each country": "SELECT country_code, COUNT(*) AS customers FROM customers GROUP BY country_code",
    "refunds per reason": "SELECT reason, SUM(amount) AS refunded FROM refunds GROUP BY reason",
    "most expensive": "SELECT name, unit_price FROM products ORDER BY unit_price DESC LIMIT 10",
    "every customer": "SELECT customer_id, full_name, email FROM customers ORDER BY customer_id",
    "per month": "SELECT date_trunc('month', order_date) AS month, COUNT(*) AS orders FROM orders GROUP BY 1",
}


class RoleBackend:
    """A scripted model: the sql_writer gets the SQL for the question, the validator keeps it. Control flow only."""

    model_name = "scripted-by-role"
    supports_json_schema = True

    def __init__(self, delay_s: float = 0.05, answers: dict[str, str] | None = None,
                 default: str = "SELECT COUNT(*) FROM orders"):
        """`answers`: the SQL for a question (its exact text, else a phrase in it); default ANSWERS."""
        self.delay_s, self.answers, self.default = delay_s, ANSWERS if answers is None else answers, default
        self.calls = 0
        self.prompts: deque[str] = deque(maxlen=50)   # the last user messages, for tests to read

    def generate(self, requests, on_delta=None):
        out = []
        for request in requests:
            self.calls += 1
            if self.delay_s:
                time.sleep(self.delay_s)
            user = request.messages[-1].content
            self.prompts.append(user)
            question = user.rsplit("Question: ", 1)[-1].split("\n", 1)[0]
            sql = self.answers.get(question) or next((s for key, s in self.answers.items() if key in question),
                                                     self.default)
            if "\n\nRole: validator." in user:
                text = json.dumps({"verdict": "keep", "revised_sql": "", "explanation": "Answers the question."})
            elif "\n\nRole: planner." in user:
                text = json.dumps({"intent": question, "tables": [], "joins": [], "filters": [], "grouping": [],
                                   "ordering": [], "steps": []})
            else:
                text = json.dumps({"sql": sql, "notes": ""}) if request.json_schema else f"```sql\n{sql}\n```"
            out.append(Completion(text=text, thinking=None, finish_reason="stop", usage=Usage(100, 20),
                                  timings=Timings(self.delay_s)))
        return out

    def close(self):
        pass


def scripted_runner(delay_s: float) -> Runner:
    return Runner(load_config({"generation": {"thinking": False}}), backend=RoleBackend(delay_s))


def sample_config(runner_model: str | None, cache_dir: str) -> dict:
    config = {"schema": {"schema_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql")},
              "database": {"kind": "embedded", "data_file": str(REPO / "MoE" / "schemas" / "ecommerce_sample_data.sql")},
              "cache": {"dir": cache_dir}, "experts": {"max_repair_rounds": 1, "json_retries": 1}}
    if runner_model:
        config["runner"] = {"inline": {"backend": "llamacpp", "model": runner_model, "generation": {"thinking": False},
                                       "llamacpp": {"n_ctx": 4096}}}
    else:
        config["experts"]["sql_writer_format"] = "json"
    return config


class LoopbackServer:
    """uvicorn serving an app on 127.0.0.1 in a thread of this process."""

    def __init__(self, app):
        import uvicorn

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="error"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "LoopbackServer":
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("the server did not start in 30 s")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def load(url: str, clients: int, seconds: float, timeout_s: float) -> dict:
    """`clients` threads asking in a loop for `seconds`; every outcome counted, every latency kept."""
    outcomes: list[tuple[str, float]] = []
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(k: int) -> None:
        with httpx.Client(timeout=timeout_s) as http:
            i = k
            while time.perf_counter() < stop:
                started = time.perf_counter()
                try:
                    response = http.post(f"{url}/v1/sql/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]})
                    kind = {200: "answered", 503: "refused"}.get(response.status_code, f"http {response.status_code}")
                except httpx.TimeoutException:
                    kind = "timed out"
                except httpx.HTTPError as exc:
                    kind = f"error {type(exc).__name__}"
                with lock:
                    outcomes.append((kind, time.perf_counter() - started))
                if kind == "refused":
                    time.sleep(0.05)   # a polite client backs off a little
                i += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + timeout_s + 30)
    elapsed = time.perf_counter() - began
    answered = sorted(s for kind, s in outcomes if kind == "answered")
    counts: dict[str, int] = {}
    for kind, _ in outcomes:
        counts[kind] = counts.get(kind, 0) + 1

    def pct(q: float) -> float | None:
        return round(answered[min(len(answered) - 1, int(q * len(answered)))], 3) if answered else None

    return {"clients": clients, "seconds": round(elapsed, 1), "requests": len(outcomes), "outcomes": counts,
            "answered_per_s": round(len(answered) / elapsed, 2), "p50_s": pct(0.5), "p95_s": pct(0.95),
            "mean_s": round(statistics.mean(answered), 3) if answered else None,
            "hung": sum(t.is_alive() for t in threads)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--timeout", type=float, default=60, help="each request's client timeout")
    parser.add_argument("--max-waiting", type=int, default=8)
    parser.add_argument("--delay", type=float, default=0.05, help="the scripted model's seconds per call")
    parser.add_argument("--model", help="a real model instead of the scripted one, e.g. offline:qwen2.5-coder-0.5b")
    args = parser.parse_args(argv)

    import platform
    import tempfile

    from MoE.service import ServiceSettings, create_app
    from MoE.sql import load_orchestrator

    with tempfile.TemporaryDirectory() as cache:
        runner = None if args.model else scripted_runner(args.delay)
        orchestrator = load_orchestrator(sample_config(args.model, cache), runner=runner)
        app = create_app(orchestrator, settings=ServiceSettings(max_waiting=args.max_waiting))
        with LoopbackServer(app) as server:
            before = rss_mb()
            summary = load(server.url, args.clients, args.seconds, args.timeout)
            summary["rss_mb_before"], summary["rss_mb_after"] = round(before, 1), round(rss_mb(), 1)
            summary["alive_after"] = httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        orchestrator.close()
    summary.update(model=args.model or f"scripted ({args.delay:g} s a call)", max_waiting=args.max_waiting,
                   machine=f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
                   date=time.strftime("%Y-%m-%d"))
    print(json.dumps(summary, indent=2))
    o = summary["outcomes"]
    print(f"| {summary['model']} | {args.clients} | {summary['seconds']:g} | {o.get('answered', 0)} | "
          f"{o.get('refused', 0)} | {summary['requests'] - o.get('answered', 0) - o.get('refused', 0)} | "
          f"{summary['answered_per_s']} | {summary['p50_s']} | {summary['p95_s']} | "
          f"{summary['rss_mb_before']} -> {summary['rss_mb_after']} |")


if __name__ == "__main__":
    main()
