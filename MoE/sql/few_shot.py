"""Few-shot examples: a user's own question/SQL pairs; the ones most like the question go to the sql_writer.

The file is JSON (a list), JSONL or YAML; each example has `question` and `sql`. Similarity is BM25
over the questions' words, so "monthly revenue by category" finds the example about revenue per month.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from Qwen3.errors import ConfigError

from .bm25 import BM25, tokens


@dataclass(frozen=True)
class Example:
    question: str
    sql: str


@dataclass(frozen=True)
class ExampleBank:
    examples: tuple[Example, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", BM25([tokens(e.question) for e in self.examples]))

    def most_similar(self, question: str, count: int) -> list[Example]:
        if not self.examples or count <= 0:
            return []
        scores = self._index.scores(tokens(question))
        ranked = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        return [self.examples[i] for i in ranked[:count] if scores[i] > 0]


def load_examples(path: str | Path) -> ExampleBank:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config key 'few_shot.file': file not found: {path}")
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".jsonl":
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        elif path.suffix in (".yaml", ".yml"):
            items = yaml.safe_load(text)
        else:
            items = json.loads(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"config key 'few_shot.file': {path} does not parse: {str(exc).splitlines()[0]}") from None
    if not isinstance(items, list):
        raise ConfigError(f"config key 'few_shot.file': {path} must hold a list of {{question, sql}} examples")
    examples = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("question"), str) or not isinstance(item.get("sql"), str):
            raise ConfigError(f"config key 'few_shot.file': example {i} in {path} needs a 'question' and an 'sql' string")
        examples.append(Example(item["question"].strip(), item["sql"].strip()))
    return ExampleBank(tuple(examples))


def format_examples(examples: list[Example]) -> str:
    return "\n\n".join(f"Question: {e.question}\nSQL: {e.sql}" for e in examples)
