"""llama.cpp's prompt-prefix cache: does reuse change the logits, and what does exact reuse cost?

    python benchmarks/prefix_reuse.py [--model offline:qwen2.5-coder-0.5b] [--n-batch 512] [--threads 1]
                                      [--parts probe cost] [--modes reuse exact off]

Part 1 (probe): one long prompt (a made-up 39-table schema and a question); its next-token logits from a
fresh context, then right after another prompt sharing all but its last k tokens. Prints the largest
logit difference for each k under each `llamacpp.prefix_cache` mode (0.0: bitwise equal).
Part 2 (cost): twelve questions on that schema, answered greedily (32 new tokens) through the runner in
order and again in reverse order, per mode: the seconds per request and how many answers differ
between the two orders. Needs llama-cpp-python and the offline model (`make setup-demo`).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from Qwen3 import load_runner  # noqa: E402
from Qwen3.backends.llamacpp import LlamaCppGenerator  # noqa: E402
from Qwen3.config import load_config  # noqa: E402

SUFFIXES = (8, 16, 31, 32, 48, 64, 100, 128, 150, 199, 300)
MODES = ("reuse", "exact", "off")
SCHEMA = " ".join(f"CREATE TABLE t{i} (id INT PRIMARY KEY, name TEXT, value REAL, t{i - 1}_id INT);"
                  for i in range(1, 40))
QUESTIONS = [f"{what} of t{table}" for what in ("the names", "the largest value", "how many rows")
             for table in (3, 7, 12, 25)]


def settings(args, mode: str) -> dict:
    return {"backend": "llamacpp", "model": args.model, "generation": {"thinking": False, "seed": 0},
            "llamacpp": {"n_ctx": 2048, "n_batch": args.n_batch, "n_threads": args.threads, "prefix_cache": mode}}


def probe(args, mode: str) -> list[float]:
    generator = LlamaCppGenerator(load_config(settings(args, mode)))
    llm = generator.llm
    prompt = llm.tokenize(f"You write SQL. Schema: {SCHEMA} Question: list the names in t7 with value over 3".encode())

    def first_logits(tokens: list[int]) -> np.ndarray:
        seen: list[np.ndarray] = []
        generator.keep_cached_prefix(tokens)
        llm.create_completion(prompt=tokens, max_tokens=1, temperature=0,
                              logits_processor=[lambda _ids, scores: seen.append(scores.copy()) or scores])
        return seen[0]

    llm.reset()
    reference = first_logits(prompt)
    other = llm.tokenize(b" something else entirely", add_bos=False)
    differences = []
    for k in SUFFIXES:
        llm.reset()
        first_logits(prompt[:len(prompt) - k] + other)
        differences.append(float(np.abs(first_logits(prompt) - reference).max()))
    generator.close()
    return differences


def cost(args, mode: str) -> tuple[float, int]:
    with load_runner(settings(args, mode)) as runner:
        def answer(question: str) -> str:
            return runner.chat(f"Schema: {SCHEMA}\nWrite one SQL query for: {question}.", temperature=0,
                               max_new_tokens=32).text
        started = time.perf_counter()
        forward = {q: answer(q) for q in QUESTIONS}
        backward = {q: answer(q) for q in reversed(QUESTIONS)}
        seconds = (time.perf_counter() - started) / (2 * len(QUESTIONS))
    return seconds, sum(forward[q] != backward[q] for q in QUESTIONS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="offline:qwen2.5-coder-0.5b")
    parser.add_argument("--n-batch", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--parts", nargs="+", choices=("probe", "cost"), default=["probe", "cost"])
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    args = parser.parse_args()
    print(f"Command: `python benchmarks/prefix_reuse.py {' '.join(sys.argv[1:])}`  ")
    print(f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"{args.threads} thread(s), n_batch {args.n_batch}; {time.strftime('%Y-%m-%d')}\n")
    if "probe" in args.parts:
        print("Largest |logit difference| against a fresh context, by tokens not shared with the prompt before:\n")
        print("| prefix_cache | " + " | ".join(f"k={k}" for k in SUFFIXES) + " |")
        print("|---" * (len(SUFFIXES) + 1) + "|")
        for mode in args.modes:
            print(f"| {mode} | " + " | ".join(f"{d:.3f}" for d in probe(args, mode)) + " |", flush=True)
    if "cost" in args.parts:
        print(f"\n{len(QUESTIONS)} questions in order, then in reverse order:\n")
        print("| prefix_cache | seconds per request | answers that differ between the orders |\n|---|---|---|")
        for mode in args.modes:
            seconds, differ = cost(args, mode)
            print(f"| {mode} | {seconds:.2f} | {differ} of {len(QUESTIONS)} |", flush=True)


if __name__ == "__main__":
    main()
