"""python -m Qwen3 --config Qwen3/qwen3_runner_config.yaml --prompt "..."  (streams the answer)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from .cli_support import one_line_errors, read_json_file
from .runner import load_runner
from .structured import check_schema

PROGRAM = "python -m Qwen3"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Ask a Qwen3 model one question.")
    parser.add_argument("--config", default="Qwen3/qwen3_runner_config.yaml", help="runner config YAML")
    parser.add_argument("--prompt", required=True, help="the user message")
    parser.add_argument("--system", help="an optional system message")
    parser.add_argument("--thinking", action=argparse.BooleanOptionalAction, default=None,
                        help="thinking mode on/off (default: the config's, or /think and /no_think in the prompt)")
    parser.add_argument("--json-schema", metavar="FILE", help="constrain the answer to this JSON schema")
    parser.add_argument("--max-new-tokens", type=int, help="cap on answer tokens")
    parser.add_argument("--max-thinking-tokens", type=int, help="cap on thinking tokens")
    parser.add_argument("--temperature", type=float, help="0 for greedy decoding")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--model", help="override the config's model")
    parser.add_argument("--no-stream", action="store_true", help="print the answer only when it is complete")
    parser.add_argument("--hide-thinking", action="store_true", help="do not print the thinking text")
    parser.add_argument("--json", action="store_true", help="print the whole completion as one JSON object")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    with one_line_errors(PROGRAM):
        schema = check_schema(read_json_file(args.json_schema, "JSON schema")) if args.json_schema else None
        overrides = {"model": args.model} if args.model else {}
        messages = ([{"role": "system", "content": args.system}] if args.system else []) + \
                   [{"role": "user", "content": args.prompt}]
        options = dict(thinking=args.thinking, json_schema=schema, max_new_tokens=args.max_new_tokens,
                       max_thinking_tokens=args.max_thinking_tokens, temperature=args.temperature, seed=args.seed)
        with load_runner(args.config, **overrides) as runner:
            if args.json or args.no_stream:
                completion = runner.chat(messages, **options)
                if args.json:
                    print(json.dumps(asdict(completion) | {"tokens_per_s": round(completion.tokens_per_s, 2)}))
                    return
                if completion.thinking and not args.hide_thinking:
                    print(completion.thinking, file=sys.stderr)
                print(completion.text)
            else:
                completion = _stream(runner, messages, options, show_thinking=not args.hide_thinking)
            _summary(completion)


def _stream(runner, messages, options, show_thinking: bool):
    channel = None
    for delta in runner.stream(messages, **options):
        if delta.completion is not None:
            print(flush=True)
            return delta.completion
        if delta.channel == "thinking":
            if show_thinking:
                print(delta.text, end="", file=sys.stderr, flush=True)
        else:
            if channel == "thinking" and show_thinking:
                print(file=sys.stderr)
            print(delta.text, end="", flush=True)
        channel = delta.channel
    return None


def _summary(completion) -> None:
    if completion is None:
        return
    u, t = completion.usage, completion.timings
    print(f"[{completion.model} | {u.prompt_tokens} prompt + {u.completion_tokens} generated tokens "
          f"({u.thinking_tokens} thinking) | {completion.tokens_per_s:.1f} tok/s | {t.total_s:.1f} s | "
          f"finish: {completion.finish_reason}]", file=sys.stderr)


if __name__ == "__main__":
    main()
