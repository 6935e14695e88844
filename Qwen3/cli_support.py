"""Shared by the command-line entry points: one-line errors and exit codes, never a traceback."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from .errors import BackendError, ConfigError, ModelLoadError, RunnerError, StructuredOutputError

EXIT_CODES = {ConfigError: 2, StructuredOutputError: 2, ModelLoadError: 3, BackendError: 4}


def exit_code_for(error: RunnerError) -> int:
    return next((code for kind, code in EXIT_CODES.items() if isinstance(error, kind)), 1)


@contextmanager
def one_line_errors(program: str) -> Iterator[None]:
    """Turn the runner's errors (and Ctrl-C) into `program: error: ...` and a non-zero exit."""
    try:
        yield
    except RunnerError as exc:
        print(f"{program}: error: {exc}", file=sys.stderr)
        sys.exit(exit_code_for(exc))
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        sys.exit(130)


def read_json_file(path: str, what: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{what} file not found: {file}")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} file {file} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
