"""The llama.cpp backend (llama-cpp-python): GGUF models, the way many people run Qwen3 locally.

The chat template comes from the GGUF metadata (rendered with `enable_thinking`), falling back to
the built-in Qwen3 format. JSON schemas are enforced by the same llguidance grammar as the transformers backend (llama.cpp's
own GBNF converter unrolls string length caps into grammars too large to parse). Requests run one by one.

The prompt prefix a request shares with the previous one need not be evaluated again, but llama.cpp's own
reuse makes a request's logits depend on what came before: the rest of the prompt is then evaluated in
batches cut at other places, and batches of other sizes round differently. `llamacpp.prefix_cache:
exact` (the default) keeps only whole n_batch chunks of the shared prefix that the previous request
evaluated as prompt, so the batches are cut where a fresh run cuts them and the tokens are the same as
from a fresh context (benchmarks/prefix_reuse.py measures both).
"""

from __future__ import annotations

import os
import time
import warnings
from typing import Callable, Sequence

import numpy as np

from .. import offline
from ..chat import render_jinja, render_qwen3
from ..completion import ChatRequest, SamplingParams
from ..errors import ModelLoadError
from ..structured import GrammarState, compile_json_grammar, new_bitmask
from .base import TextResult


def resolve_gguf_path(config):
    if offline.is_offline_reference(config.model):
        return offline.locate(config.model)
    path = config.resolve_path(config.model)
    if not path.is_file():
        raise ModelLoadError(f"GGUF file not found: {path} (config key 'model'; the llamacpp backend "
                             f"needs a .gguf file or 'offline:qwen2.5-coder-1.5b')")
    return path


class LlamaCppGenerator:
    mixed_sampling = True   # rows are answered one by one, each with its own settings

    def __init__(self, config):
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ModelLoadError("the llamacpp backend needs llama-cpp-python: pip install '.[llamacpp]'") from None
        settings = config.llamacpp
        path = resolve_gguf_path(config)
        self.config = config
        self.model_name = config.model
        try:
            self.llm = Llama(model_path=str(path), n_ctx=settings.n_ctx, n_batch=settings.n_batch,
                             n_threads=settings.n_threads or max(1, os.cpu_count() or 1),
                             n_gpu_layers=settings.n_gpu_layers, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"llama.cpp could not load {path}: {exc}") from None
        self.context_tokens = self.llm.n_ctx()
        self.context_setting = "llamacpp.n_ctx"
        self.template = self.llm.metadata.get("tokenizer.chat_template")
        self._bos = self._token_text(self.llm.token_bos())
        self._eos = self._token_text(self.llm.token_eos())
        self._lltokenizer = None
        self._prompt_length = 0     # tokens of the previous request's prompt (evaluated in n_batch chunks)

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="ignore")

    def render(self, request: ChatRequest) -> str:
        if self.config.chat_template == "auto" and self.template:
            return render_jinja(self.template, request.messages, request.enable_thinking, self._bos, self._eos)
        return render_qwen3(request.messages, request.enable_thinking)

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def generate_text(self, prompts: Sequence[str], samplings: Sequence[SamplingParams], max_new_tokens: int,
                      stop: Sequence[str], json_schema: dict | None, seeds: Sequence[int | None],
                      on_text: Callable[[int, str], None] | None) -> list[TextResult]:
        grammar = compile_json_grammar(json_schema) if json_schema else None
        results = []
        for row, (prompt, sampling, seed) in enumerate(zip(prompts, samplings, seeds)):
            processors = [self._json_processor(grammar)] if grammar else None
            started = time.perf_counter()
            first_token_s, pieces, finish, count = None, [], "length", 0
            tokens = self.llm.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
            reused = self.keep_cached_prefix(tokens)
            stream = self.llm.create_completion(
                prompt=tokens,
                max_tokens=max_new_tokens, stop=list(stop) or None, stream=True, logits_processor=processors,
                temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k,
                min_p=sampling.min_p, presence_penalty=sampling.presence_penalty, repeat_penalty=1.0,
                seed=seed if seed is not None else -1)
            for chunk in stream:
                choice = chunk["choices"][0]
                if first_token_s is None:
                    first_token_s = time.perf_counter() - started
                if choice["text"]:
                    count += 1
                    pieces.append(choice["text"])
                    if on_text is not None:
                        on_text(row, choice["text"])
                if choice.get("finish_reason"):
                    finish = "length" if choice["finish_reason"] == "length" else "stop"
            text = "".join(pieces)
            results.append(TextResult(text, finish, self.count_tokens(text) if text else count, first_token_s, reused))
        return results

    def keep_cached_prefix(self, tokens: list[int]) -> int:
        """Trim llama.cpp's cache to what `llamacpp.prefix_cache` allows this prompt to reuse; returns the
        number of tokens kept (llama.cpp's generate() then reuses at most those)."""
        mode, batch = self.config.llamacpp.prefix_cache, self.config.llamacpp.n_batch
        cached = self.llm._input_ids
        shared = 0
        for a, b in zip(cached[: self._prompt_length], tokens):
            if a != b:
                break
            shared += 1
        if mode == "reuse":
            keep = self.llm.n_tokens
        elif mode == "off":
            keep = 0
        else:   # whole chunks, and never the whole prompt (that would replay its last token alone)
            keep = (min(shared, len(tokens) - 1) // batch) * batch
        if keep == 0:
            self.llm.reset()
        elif keep < self.llm.n_tokens:
            self.llm.n_tokens = keep
        self._prompt_length = len(tokens)
        return keep

    def _json_processor(self, grammar: str):
        from llama_cpp import LogitsProcessorList

        if self._lltokenizer is None:
            import llguidance.llamacpp

            with warnings.catch_warnings():  # it calls a deprecated llama.cpp function once per token
                warnings.simplefilter("ignore", DeprecationWarning)
                self._lltokenizer = llguidance.llamacpp.lltokenizer_from_vocab(self.llm._model.vocab)
        return LogitsProcessorList([_NumpyGrammarProcessor(GrammarState(self._lltokenizer, grammar,
                                                                         self.llm.token_eos()))])

    def close(self) -> None:
        self.llm.close()


class _NumpyGrammarProcessor:
    """llama-cpp-python calls this with (all token ids so far, next-token logits) as numpy arrays."""

    def __init__(self, state: GrammarState):
        self.state = state
        self.bitmask = new_bitmask(1, state.words)
        self.prompt_len: int | None = None

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self.prompt_len is None:
            self.prompt_len = len(input_ids)
        elif len(input_ids) > self.prompt_len:
            self.state.consume(int(input_ids[-1]))
        self.state.fill_bitmask(self.bitmask, 0)
        allowed = np.unpackbits(self.bitmask.numpy().view(np.uint8), bitorder="little")[: scores.shape[-1]]
        scores[allowed == 0] = -np.inf
        return scores
