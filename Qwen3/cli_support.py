"""Shared by the command-line entry points: one-line errors and exit codes, never a traceback."""

from __future__ import annotations

import errno
import json
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from .errors import BackendError, ConfigError, ModelLoadError, RunnerError, ServeError, StructuredOutputError

EXIT_CODES = {ConfigError: 2, StructuredOutputError: 2, ModelLoadError: 3, BackendError: 4, ServeError: 5}


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


def port_number(text: str) -> int:
    """argparse type for --port: 1-65535 (0 asks the system for a free one)."""
    import argparse

    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0-65535)")
    return port


def claim_port(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, made before anything slow loads, so a port in use is one line
    (exit 5) at once; the server then serves on this very socket."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is already in use: stop what serves there or pass another --port") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock
