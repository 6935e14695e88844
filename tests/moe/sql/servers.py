"""Real database engines for the tests: PostgreSQL and MariaDB servers started on 127.0.0.1 in a temporary
folder, and the `Engine` record the engine fixtures (conftest.py) hand out.

Each start function returns a Server (admin URL, a read-only user's URL, how to stop it) or skips the test -
unless QWEN3_REQUIRE_POSTGRES=1 / QWEN3_REQUIRE_MARIADB=1 (set by .ci/run), which turns a missing server into
a failure. The `reader` user of each server may only SELECT, as a user's warehouse login should.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest


@dataclass
class Server:
    admin_url: str            # may write: loads the test data
    reader_url: str           # SELECT only
    dump: Callable[[str], str]   # schema-only dump of a database/schema, as the engine's own tool writes it
    stop: Callable[[], None]


def binary(name: str, *globs: str) -> str | None:
    return shutil.which(name) or next(iter(sorted(p for g in globs for p in glob.glob(g))), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _missing(what: str, flag: str):
    if os.environ.get(flag) == "1":
        pytest.fail(f"{flag}=1 but {what} is missing")
    pytest.skip(f"{what} not installed")


def start_postgres() -> Server:
    initdb, pg_ctl = binary("initdb", "/usr/lib/postgresql/*/bin/initdb"), binary("pg_ctl", "/usr/lib/postgresql/*/bin/pg_ctl")
    pg_dump = binary("pg_dump", "/usr/lib/postgresql/*/bin/pg_dump")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _missing("psycopg", "QWEN3_REQUIRE_POSTGRES")
    if not initdb or not pg_ctl or not pg_dump:
        _missing("PostgreSQL server binaries", "QWEN3_REQUIRE_POSTGRES")
    root = Path(tempfile.mkdtemp(prefix="moe-pg-"))  # pytest's own temp folders are closed to other users
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    as_user = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    subprocess.run(as_user + [initdb, "-D", str(data), "-A", "trust", "-U", "tester"], check=True, capture_output=True)
    subprocess.run(as_user + [pg_ctl, "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                              f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1", "start"],
                   check=True, capture_output=True)

    def dump(database: str) -> str:
        return subprocess.run([pg_dump, "--schema-only", "-h", "127.0.0.1", "-p", str(port), "-U", "tester", database],
                              check=True, capture_output=True, text=True).stdout

    def stop():
        subprocess.run(as_user + [pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

    return Server(f"postgresql+psycopg://tester@127.0.0.1:{port}/postgres",
                  f"postgresql+psycopg://reader@127.0.0.1:{port}/postgres", dump, stop)


def start_mariadb() -> Server:
    server = binary("mariadbd", "/usr/sbin/mariadbd") or binary("mysqld", "/usr/sbin/mysqld")
    install = binary("mariadb-install-db", "/usr/bin/mariadb-install-db") or binary("mysql_install_db")
    dumper = binary("mariadb-dump") or binary("mysqldump")
    try:
        import pymysql  # noqa: F401
    except ImportError:
        _missing("PyMySQL", "QWEN3_REQUIRE_MARIADB")
    if not server or not install or not dumper:
        _missing("MariaDB server binaries", "QWEN3_REQUIRE_MARIADB")
    root = Path(tempfile.mkdtemp(prefix="moe-mariadb-"))
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run([install, "--no-defaults", f"--datadir={root / 'data'}", "--auth-root-authentication-method=normal",
                    "--skip-test-db", *user], check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([server, "--no-defaults", f"--datadir={root / 'data'}", f"--socket={root / 'sock'}",
                                f"--port={port}", "--bind-address=127.0.0.1", "--skip-name-resolve",
                                f"--pid-file={root / 'pid'}", *user],
                               stdout=subprocess.DEVNULL, stderr=open(root / "log", "w"))
    import pymysql

    deadline = time.monotonic() + 60
    while True:
        try:
            pymysql.connect(host="127.0.0.1", port=port, user="root").close()
            break
        except pymysql.err.OperationalError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"MariaDB did not start: {(root / 'log').read_text()[-500:]}") from None
            time.sleep(0.2)

    def dump(database: str) -> str:
        return subprocess.run([dumper, "--no-defaults", "--no-data", "-h", "127.0.0.1", "-P", str(port), "-u", "root",
                               database], check=True, capture_output=True, text=True).stdout

    def stop():
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)

    return Server(f"mysql+pymysql://root@127.0.0.1:{port}/shop", f"mysql+pymysql://reader@127.0.0.1:{port}/shop",
                  dump, stop)


@dataclass
class Engine:
    """A real database engine holding the sample warehouse (sample_warehouse.py)."""
    dialect: str
    url: str                 # what a user passes as --database: a read-only login, or a file
    admin_url: str | None    # a login that may write (servers only)
    files: tuple[Path, ...]  # files whose bytes must not change
    server: Server | None = None


def engine_named(name: str, request) -> Engine:
    if name in ("duckdb", "sqlite"):
        path = request.getfixturevalue(f"{name}_warehouse")
        return Engine(name, str(path), None, (path,))
    server = request.getfixturevalue(f"{name}_server")
    return Engine("postgres" if name == "postgres" else "mysql", server.reader_url, server.admin_url, (), server)
