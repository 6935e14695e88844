"""python -m MoE.sql_server --config MoE/sql_moe_orchestrator_config.yaml [--database URL_OR_FILE]

Serves the SQL experts on http://127.0.0.1:8001: the web page at /, the API under /v1/sql
(docs/service.md). The orchestrator (model, schema, value index) is loaded once; questions are answered
one at a time and up to --max-waiting more wait their turn. Approved answers from the page go to the
few-shot example file (few_shot.file, or one per database under the cache folder).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

from Qwen3.cli_support import claim_port, one_line_errors, port_number
from Qwen3.errors import ConfigError

from .sql import load_orchestrator, load_orchestrator_config
from .sql_moe_orchestrator import add_database_arguments, config_data

PROGRAM = "python -m MoE.sql_server"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description="Ask your data in a browser: the SQL experts over HTTP.")
    parser.add_argument("--config", default="MoE/sql_moe_orchestrator_config.yaml")
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    parser.add_argument("--port", type=port_number, default=8001)
    parser.add_argument("--api-key-env", metavar="NAME",
                        help="an environment variable holding the key the API and page must send")
    parser.add_argument("--max-waiting", type=int, default=8,
                        help="questions that may wait behind the one being answered; more get 503 (default 8)")
    parser.add_argument("--max-request-bytes", type=int, default=64 * 1024)
    parser.add_argument("--examples-file", help="where approved question/SQL pairs go (default: few_shot.file, "
                                                "else examples.jsonl in a folder per database under cache.dir)")
    parser.add_argument("--no-feedback", action="store_true", help="refuse feedback; write no files")
    add_database_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    with one_line_errors(PROGRAM):
        try:
            import uvicorn

            from .service import FeedbackStore, ServiceSettings, create_app
        except ImportError:
            raise ConfigError("the server needs FastAPI and uvicorn: pip install '.[service]'") from None
        if args.max_waiting < 0:
            raise ConfigError("--max-waiting must be 0 or more")
        api_key = None
        if args.api_key_env:
            api_key = os.environ.get(args.api_key_env)
            if not api_key:
                raise ConfigError(f"--api-key-env {args.api_key_env}: that environment variable is empty")
        data = config_data(args)
        store = None
        if not args.no_feedback:
            configured = (data.get("few_shot") or {}).get("file")
            store = FeedbackStore(args.examples_file or (load_orchestrator_config(data).resolve(configured)
                                                         if configured else default_examples_file(data)))
            store.ensure_exists()
            data["few_shot"] = dict(data.get("few_shot") or {}, file=str(store.examples_file))
        config = load_orchestrator_config(data)
        listening = claim_port(args.host, args.port)   # a port in use fails now, not after the model loads
        starting = lambda message: print(f"... {message}", file=sys.stderr, flush=True)
        orchestrator = load_orchestrator(config, refresh_schema=args.refresh_schema, on_progress=starting)
        settings = ServiceSettings(api_key=api_key, max_request_bytes=args.max_request_bytes,
                                   max_waiting=args.max_waiting)
        app = create_app(orchestrator, store, settings)
        host, port = listening.getsockname()[:2]
        print(f"{PROGRAM}: serving {orchestrator.runner.model_name} on {orchestrator.config.dialect} "
              f"({len(orchestrator.catalog.tables)} tables) at http://{host}:{port}/", flush=True)
        if store is not None:
            print(f"{PROGRAM}: approved answers go to {store.examples_file}", flush=True)
        try:
            server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
            server.run(sockets=[listening])
        finally:
            orchestrator.close()


def default_examples_file(data: dict) -> Path:
    """One example file per database: examples written for one schema mean nothing on another."""
    database, schema = data.get("database") or {}, data.get("schema") or {}
    identity = "|".join(str(x) for x in (database.get("url"), database.get("path"), database.get("data_file"),
                                          schema.get("schema_file"), schema.get("ddl")))
    cache = Path((data.get("cache") or {}).get("dir") or "~/.cache/qwen3-moe/sql").expanduser()
    return cache / "feedback" / hashlib.sha256(identity.encode()).hexdigest()[:12] / "examples.jsonl"


if __name__ == "__main__":
    main()
