"""`python -m MoE.sql_moe_orchestrator --database ...` on every engine: the schema is read from the live database,
cached, and bad databases are one-line errors before any model call. The experts' answers come from a
replay server (control flow), the SQL runs for real."""

import json
import sqlite3
import subprocess
import sys

import pytest
import yaml

from replay_server import ReplayServer
from support import REPO

KEEP = json.dumps({"verdict": "keep", "revised_sql": "", "explanation": "Counts the pets."})
COUNT_PETS = {"duckdb": 'SELECT COUNT(*) AS pets FROM "Pets"', "sqlite": 'SELECT COUNT(*) AS pets FROM "Pets"',
              "postgres": 'SELECT COUNT(*) AS pets FROM "Pets"', "mysql": "SELECT COUNT(*) AS pets FROM `Pets`"}


def run(tmp_path, server: ReplayServer, *args):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"runner": {"inline": server.runner()}, "cache": {"dir": str(tmp_path / "cache")},
                                      "router": {"plan_threshold": 9}}))
    return subprocess.run([sys.executable, "-m", "MoE.sql_moe_orchestrator", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=300, cwd=REPO)


def test_connect_and_ask_then_start_warm(engine, tmp_path):
    answers = [f"```sql\n{COUNT_PETS[engine.dialect]}\n```", KEEP] * 3
    with ReplayServer(answers) as server:
        first = run(tmp_path, server, "--database", engine.url, "--query", "How many pets are there?",
                    "--execute", "--format", "json")
        assert first.returncode == 0, first.stderr
        out = json.loads(first.stdout)
        assert out["ok"] and out["dialect"] == engine.dialect and out["rows"]["rows"] == [[3]]
        assert out["schema"]["tables_total"] == 5          # read from the database (4 tables, a view), not the sample DDL
        prompt = server.prompts()[0]
        assert "Has_Pet" in prompt and "orders" not in prompt.lower().replace("order lines", "")
        warm = run(tmp_path, server, "--database", engine.url, "--query", "How many pets are there?")
        assert warm.returncode == 0, warm.stderr
        assert "schema: 5 tables, 19 columns (cached)" in warm.stderr and "values (cached)" in warm.stderr
        refreshed = run(tmp_path, server, "--database", engine.url, "--query", "How many pets?", "--refresh-schema")
        assert refreshed.returncode == 0 and "(cached)" not in refreshed.stderr


def test_a_ddl_file_wins_over_the_database(engine, tmp_path):
    ddl = tmp_path / "pets.sql"
    ddl.write_text('CREATE TABLE "Pets" ("PetID" INTEGER PRIMARY KEY, "PetType" VARCHAR(20));')
    with ReplayServer([f"```sql\n{COUNT_PETS[engine.dialect]}\n```", KEEP]) as server:
        done = run(tmp_path, server, "--database", engine.url, "--schema-file", str(ddl), "--query", "How many pets?",
                   "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["schema"]["tables_total"] == 1


def bad_databases(tmp_path, request):
    empty = tmp_path / "empty.sqlite"
    sqlite3.connect(empty).close()
    cases = [
        (["--database", "postgresql+psycopg://x@127.0.0.1:1/db"], "cannot connect to postgresql+psycopg://x@127.0.0.1:1/db"),
        (["--database", str(tmp_path / "typo.sqlite")], "SQLite file not found"),
        (["--database", str(tmp_path / "typo.duckdb")], "DuckDB file not found"),
        (["--database", str(empty)], "no tables or views"),
        (["--database", "nosuchdriver://host/db"], "cannot use database URL"),
    ]
    if request.param == "servers":
        pg = request.getfixturevalue("postgres_server")
        maria = request.getfixturevalue("mariadb_server")
        cases += [
            (["--database", pg.reader_url.replace("reader@", "nobody@")], 'role "nobody" does not exist'),
            (["--database", maria.reader_url.replace("reader@", "reader:wrong@")], "Access denied"),
            (["--database", pg.reader_url, "--schemas", "nosuch"], "config key 'schema.include': schema 'nosuch' not found"),
        ]
    return cases


@pytest.fixture(params=["files", "servers"])
def bad(request, tmp_path):
    return bad_databases(tmp_path, request)


def test_bad_databases_are_one_line_errors_before_any_model_call(bad, tmp_path):
    for args, message in bad:
        with ReplayServer([]) as server:
            done = run(tmp_path, server, *args, "--query", "How many pets?")
        lines = done.stderr.strip().splitlines()
        code = 2 if "config key" in message else 1   # a wrong setting, or a database that cannot serve
        assert done.returncode == code and "Traceback" not in done.stderr, (args, done.stderr)
        assert message in lines[-1] and lines[-1].startswith("python -m MoE.sql_moe_orchestrator: error:"), lines
        assert server.requests == []
    assert not (tmp_path / "typo.sqlite").exists() and not (tmp_path / "typo.duckdb").exists()


@pytest.mark.parametrize("question, message", [
    ("", "error: the question is empty"),
    ("  ", "error: the question is empty"),
    ("hello there", "error: not a question about the data: 'hello there'"),
    ("q" * 2500, "error: the question is 2,500 characters; the limit is 2,000 (limits.max_question_chars)"),
])
def test_a_question_that_is_not_one_is_refused_in_one_line(sqlite_warehouse, tmp_path, question, message):
    with ReplayServer([]) as server:
        done = run(tmp_path, server, "--database", str(sqlite_warehouse), "--query", question)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith(f"python -m MoE.sql_moe_orchestrator: {message}")
    assert server.requests == [] and done.stdout == ""
