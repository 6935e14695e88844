"""Does llama.cpp's prompt-prefix reuse change the logits? A probe of run-to-run variation.

    python benchmarks/prefix_reuse.py [--model offline:qwen2.5-coder-0.5b] [--n-batch 512]

Builds one long prompt (a made-up 39-table schema and a question), takes its next-token logits from
a fresh context, then again right after another prompt that shares all but its last k tokens, so
that llama.cpp reuses that prefix's KV cache. Prints the largest logit difference for each k; 0.0
means bitwise equal. Needs llama-cpp-python and the offline model (`make setup-demo`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SUFFIXES = (8, 16, 31, 32, 48, 64, 100, 128, 150, 199, 300)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="offline:qwen2.5-coder-0.5b")
    parser.add_argument("--n-batch", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import numpy as np
    from llama_cpp import Llama

    from Qwen3 import offline

    llm = Llama(model_path=str(offline.locate(args.model)), n_ctx=2048, n_batch=args.n_batch,
                n_threads=args.threads, verbose=False)
    schema = " ".join(f"CREATE TABLE t{i} (id INT PRIMARY KEY, name TEXT, value REAL, t{i - 1}_id INT);"
                      for i in range(1, 40))
    prompt = llm.tokenize(f"You write SQL. Schema: {schema} Question: list the names in t7 with value over 3"
                          .encode())

    def next_token_logits(tokens: list[int], fresh: bool) -> np.ndarray:
        if fresh:
            llm.reset()
        seen: list[np.ndarray] = []

        def keep_first(_ids, scores):
            if not seen:
                seen.append(scores.copy())
            return scores

        llm.create_completion(prompt=tokens, max_tokens=1, temperature=0, logits_processor=[keep_first])
        return seen[0]

    reference = next_token_logits(prompt, fresh=True)
    print(f"prompt {len(prompt)} tokens, n_batch {args.n_batch}, {args.threads} thread(s)")
    print("k (tokens not shared with the previous prompt) | max |logit difference| against a fresh run")
    other = llm.tokenize(b" something else entirely", add_bos=False)
    for k in SUFFIXES:
        next_token_logits(prompt[:len(prompt) - k] + other, fresh=True)
        after = next_token_logits(prompt, fresh=False)
        print(f"{k:4d} | {float(np.abs(after - reference).max()):.6f}")


if __name__ == "__main__":
    main()
