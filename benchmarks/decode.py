"""Decode speed of the runner's engine against transformers' generate(), side by side in one run.

    python benchmarks/decode.py                      # Qwen3-8B shape, random bf16 weights, on CUDA
    python benchmarks/decode.py --shape tiny --device cpu --batches 1 4 --new-tokens 32 --prompt-tokens 64
    python benchmarks/decode.py --model offline:qwen2.5-coder-0.5b --device cpu --batches 1 4   # real weights

Measures, on one device and one model: tokens/s of generate() (eager, dynamic cache) at batch 1 and of
the engine at each batch size; time to first token for a long prompt (cold) for both; the three-expert
pattern (three prompts that share a long system prefix) with and without prefix reuse; the MoE's three
candidates of one prompt (one greedy row, two sampled) against the greedy row alone; peak memory of
each configuration. On the CPU the engine also runs with F.linear for every product, at each batch
size: the baseline for its weight-major decode steps (Qwen3/engine/forward.py). Random weights decode
as fast as real ones; greedy decoding never stops early here (no end token), so every row produces
exactly --new-tokens tokens.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SHAPES = {  # Qwen3-8B's config.json, and a tiny shape for a CPU smoke run
    "qwen3-8b": dict(vocab_size=151936, hidden_size=4096, intermediate_size=12288, num_hidden_layers=36,
                     num_attention_heads=32, num_key_value_heads=8, head_dim=128),
    "tiny": dict(vocab_size=1024, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, head_dim=32),
}


def build_model(shape: str, device: torch.device, dtype: torch.dtype):
    from transformers import Qwen3Config, Qwen3ForCausalLM

    config = Qwen3Config(**SHAPES[shape], max_position_embeddings=40960, rope_theta=1e6, tie_word_embeddings=False)
    with torch.device("meta"):
        model = Qwen3ForCausalLM(config)
    model = model.to_empty(device=device).to(dtype)
    generator = torch.Generator(device=device).manual_seed(0)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "norm" in name:
                parameter.fill_(1.0)
            else:
                parameter.normal_(0.0, 0.02, generator=generator)
        model.model.rotary_emb.inv_freq.copy_(1.0 / (1e6 ** (torch.arange(0, config.head_dim, 2, device=device).float()
                                                              / config.head_dim)))
    return model.eval()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def peak_reset(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_gb(device: torch.device) -> float | None:
    return torch.cuda.max_memory_allocated() / 1e9 if device.type == "cuda" else None


def prompts(count: int, length: int, vocab: int, seed: int, shared: int = 0) -> list[list[int]]:
    generator = torch.Generator().manual_seed(seed)
    prefix = torch.randint(0, vocab, (shared,), generator=generator).tolist()
    return [prefix + torch.randint(0, vocab, (length - shared,), generator=generator).tolist() for _ in range(count)]


@torch.inference_mode()
def run_generate(model, batch: list[list[int]], new_tokens: int, device) -> dict:
    ids = torch.tensor(batch, device=device)  # equal lengths: no padding needed
    peak_reset(device)
    sync(device)
    started = time.perf_counter()
    model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=1, min_new_tokens=1, do_sample=False,
                   eos_token_id=None, pad_token_id=0)
    sync(device)
    first = time.perf_counter() - started
    started = time.perf_counter()
    model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                   do_sample=False, eos_token_id=None, pad_token_id=0)
    sync(device)
    total = time.perf_counter() - started
    return {"ttft_s": first, "decode_s": total - first, "tokens": len(batch) * new_tokens, "peak_gb": peak_gb(device)}


def run_engine(engine, batch: list[list[int]], new_tokens: int, device) -> dict:
    from Qwen3.completion import SamplingParams

    greedy = SamplingParams(temperature=0)
    peak_reset(device)
    sync(device)
    started = time.perf_counter()
    engine.generate(batch, greedy, max_new_tokens=1)
    sync(device)
    first = time.perf_counter() - started
    engine.prefixes and engine.prefixes.clear()
    started = time.perf_counter()
    out = engine.generate(batch, greedy, max_new_tokens=new_tokens)
    sync(device)
    total = time.perf_counter() - started
    assert all(len(g.tokens) == new_tokens for g in out)
    return {"ttft_s": first, "decode_s": total - first, "tokens": len(batch) * new_tokens, "peak_gb": peak_gb(device)}


def experts_pattern(engine, shared: int, own: int, new_tokens: int, vocab: int, device) -> list[float]:
    """Time to first token of three prompts sharing `shared` tokens, asked one after another."""
    from Qwen3.completion import SamplingParams

    times = []
    for prompt in prompts(3, shared + own, vocab, seed=7, shared=shared):
        sync(device)
        started = time.perf_counter()
        engine.generate([prompt], SamplingParams(temperature=0), max_new_tokens=1)
        sync(device)
        times.append(time.perf_counter() - started)
    return times


def candidates_pattern(engine, prompt_tokens: int, new_tokens: int, vocab: int, device) -> tuple[float, float]:
    """Seconds for one greedy row, then for the MoE's three candidates of that prompt in one batch (one
    greedy, two sampled with the runner's default filters), each from a cold cache: prefill included."""
    from Qwen3.completion import SamplingParams

    [prompt] = prompts(1, prompt_tokens, vocab, seed=11)
    greedy, sampled = SamplingParams(temperature=0), SamplingParams(temperature=0.8)
    times = []
    for rows, sampling, seeds in (([prompt], [greedy], [None]), ([prompt] * 3, [greedy, sampled, sampled], [None, 2, 3])):
        sync(device)
        started = time.perf_counter()
        engine.generate(rows, sampling, max_new_tokens=new_tokens, seed=seeds)
        sync(device)
        times.append(time.perf_counter() - started)
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="qwen3-8b")
    parser.add_argument("--model", help="real weights instead: a directory, hub id or offline:<name> (as in the runner)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=["bfloat16", "float32"], default=None)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32, 128])
    parser.add_argument("--prompt-tokens", type=int, default=128)
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--long-prompt", type=int, default=2000, help="prompt length for time to first token")
    parser.add_argument("--write", action="store_true", help="append the tables to docs/benchmarks.md")
    args = parser.parse_args()

    from Qwen3.engine import DecodeEngine, EngineSettings

    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype or ("bfloat16" if device.type == "cuda" else "float32"))
    if args.model:
        from Qwen3.backends.hf import TransformersGenerator
        from Qwen3.config import load_config

        dtype_name = str(dtype).removeprefix("torch.")
        model = TransformersGenerator(load_config({"model": args.model, "transformers": {
            "engine": "off", "device": args.device, "dtype": dtype_name}})).model
    else:
        model = build_model(args.shape, device, dtype)
    label = args.model or f"{args.shape} shape with random weights"
    vocab = model.config.vocab_size
    engine = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(prefix_cache_mb=0))
    rows = []

    def add(name, batch, result):
        rate = result["tokens"] / result["decode_s"] if result["decode_s"] > 0 else float("nan")
        rows.append((name, batch, rate, 1000 * result["decode_s"] / max(result["tokens"] // batch, 1),
                     result["ttft_s"], result["peak_gb"]))
        print(rows[-1], flush=True)

    warm = prompts(1, args.prompt_tokens, vocab, seed=0)
    run_generate(model, warm, 4, device), run_engine(engine, warm, 4, device)  # warm-up: kernels, allocator
    add("generate() eager", 1, run_generate(model, warm, args.new_tokens, device))
    # On the CPU the engine's steps of a few rows use a weight-major product; the same engine with
    # F.linear throughout is measured beside it, at each batch size, as the baseline.
    linear_engine = (DecodeEngine(model, end_token_ids=[], settings=EngineSettings(prefix_cache_mb=0,
                                                                                   weight_major_steps=False))
                     if device.type == "cpu" else None)
    for batch in args.batches:
        batch_prompts = prompts(batch, args.prompt_tokens, vocab, seed=batch)
        add("engine", batch, run_engine(engine, batch_prompts, args.new_tokens, device))
        if linear_engine is not None:
            add("engine, F.linear steps", batch, run_engine(linear_engine, batch_prompts, args.new_tokens, device))
    long = prompts(1, args.long_prompt, vocab, seed=1)
    ttft_generate = run_generate(model, long, 1, device)["ttft_s"]
    ttft_engine = run_engine(engine, long, 1, device)["ttft_s"]
    reuse = DecodeEngine(model, end_token_ids=[], settings=EngineSettings(prefix_cache_mb=4096))
    shared, own = args.long_prompt - 100, 100
    one_row, candidates = candidates_pattern(engine, args.prompt_tokens, args.new_tokens, vocab, device)
    cold = experts_pattern(engine, shared, own, 1, vocab, device)
    warm_times = experts_pattern(reuse, shared, own, 1, vocab, device)

    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {os.cpu_count()} cores ({platform.machine()})"
    import transformers

    lines = [f"### Decode engine ({datetime.date.today().isoformat()})", "",
             f"Command: `python benchmarks/decode.py {f'--model {args.model}' if args.model else f'--shape {args.shape}'} "
             f"--device {args.device} --batches "
             f"{' '.join(map(str, args.batches))} --prompt-tokens {args.prompt_tokens} --new-tokens {args.new_tokens} "
             f"--long-prompt {args.long_prompt}`  ",
             f"Device: {gpu}; torch {torch.__version__}, transformers {transformers.__version__}, {dtype}; "
             f"{label}; greedy; prompts of {args.prompt_tokens} tokens, "
             f"{args.new_tokens} new tokens per row.", "",
             "| path | batch | tokens/s (all rows) | ms per step | time to first token (s) | peak memory (GB) |",
             "|---|---|---|---|---|---|"]
    for name, batch, rate, ms, ttft, peak in rows:
        lines.append(f"| {name} | {batch} | {rate:.1f} | {ms:.2f} | {ttft:.3f} | "
                     f"{'-' if peak is None else f'{peak:.1f}'} |")
    lines += ["", f"Time to first token, {args.long_prompt}-token prompt: generate() {ttft_generate:.3f} s, "
                  f"engine {ttft_engine:.3f} s.",
              f"Three experts sharing a {shared}-token prefix ({own} own tokens each), time to first token: "
              f"without reuse {', '.join(f'{t:.3f}' for t in cold)} s; with reuse "
              f"{', '.join(f'{t:.3f}' for t in warm_times)} s "
              f"(second and third: {100 * warm_times[1] / cold[0]:.0f}% and {100 * warm_times[2] / cold[0]:.0f}% "
              f"of a cold prefill).",
              f"Three candidates of one {args.prompt_tokens}-token prompt in one batch (one greedy, two sampled at "
              f"temperature 0.8 with top-k 20 and top-p 0.8), {args.new_tokens} tokens each, cold: {candidates:.2f} s "
              f"against {one_row:.2f} s for the greedy row alone ({candidates / one_row:.2f}x).", ""]
    table = "\n".join(lines)
    print("\n" + table)
    if args.write:
        with (ROOT / "docs" / "benchmarks.md").open("a", encoding="utf-8") as f:
            f.write("\n" + table + "\n")


if __name__ == "__main__":
    main()
