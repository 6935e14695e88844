"""What users say about answers: approved or corrected pairs become few-shot examples; bad ones a log.

The example file is the orchestrator's `few_shot.file` (JSON list, JSONL or YAML). A pair is added by
rewriting the whole file atomically (a temporary file beside it, then a rename), so a crash leaves the
old file or the new one, never half of one. A pair already there (same question and same SQL, spacing
and case aside) is not added twice. Bad verdicts go to a JSONL log beside the file, never to the
examples. Both paths are fixed when the store is made; nothing in a request chooses where to write.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path

import yaml

from ..sql.few_shot import load_examples


class FeedbackStore:
    def __init__(self, examples_file: str | Path, log_file: str | Path | None = None):
        self.examples_file = Path(examples_file).expanduser().resolve()
        self.log_file = Path(log_file).expanduser().resolve() if log_file else \
            self.examples_file.with_name(self.examples_file.stem + ".rejected.jsonl")
        self._lock = threading.Lock()

    def ensure_exists(self) -> None:
        """An empty example file, so the orchestrator can load it before the first pair."""
        if not self.examples_file.exists():
            self.examples_file.parent.mkdir(parents=True, exist_ok=True)
            self._write([])

    def add_example(self, question: str, sql: str) -> bool:
        """Add a pair; False when it was already there."""
        with self._lock:
            examples = [{"question": e.question, "sql": e.sql} for e in load_examples(self.examples_file).examples] \
                if self.examples_file.exists() else []
            key = (_normal(question), _normal(sql))
            if any((_normal(e["question"]), _normal(e["sql"])) == key for e in examples):
                return False
            examples.append({"question": question.strip(), "sql": sql.strip()})
            self._write(examples)
            return True

    def log_bad(self, record: dict) -> None:
        with self._lock:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            with self.log_file.open("a", encoding="utf-8") as log:
                log.write(json.dumps(dict(record, time=time.strftime("%Y-%m-%dT%H:%M:%S%z"))) + "\n")

    def _write(self, examples: list[dict]) -> None:
        suffix = self.examples_file.suffix
        if suffix == ".jsonl":
            text = "".join(json.dumps(e) + "\n" for e in examples)
        elif suffix in (".yaml", ".yml"):
            text = yaml.safe_dump(examples, sort_keys=False, allow_unicode=True)
        else:
            text = json.dumps(examples, indent=2) + "\n"
        handle, temporary = tempfile.mkstemp(dir=self.examples_file.parent, prefix=".examples-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.examples_file)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def _normal(text: str) -> str:
    return " ".join(text.split()).rstrip(";").lower()
