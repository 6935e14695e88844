"""Dialect knowledge in one place: quoting, value sampling, session setup, dry runs - small literal cases."""

import pytest
import sqlglot

from MoE.sql.dialects import DIALECTS, dialect_of_backend, dialect_spec, display_name


@pytest.mark.parametrize("dialect, quoted", [
    ("duckdb", '"Region Name"'), ("postgres", '"Region Name"'), ("sqlite", '"Region Name"'),
    ("mysql", "`Region Name`"), ("bigquery", "`Region Name`"), ("snowflake", '"Region Name"'),
    ("tsql", "[Region Name]"),
])
def test_quote_is_the_dialects_own(dialect, quoted):
    assert dialect_spec(dialect).quote("Region Name") == quoted


@pytest.mark.parametrize("dialect, name, shown", [
    ("postgres", "customer_id", "customer_id"),
    ("postgres", "Select", '"Select"'),          # a keyword, and a case PostgreSQL would fold
    ("postgres", "StuID", '"StuID"'),            # folded to stuid unquoted
    ("duckdb", "StuID", "StuID"),                # DuckDB matches names without regard to case
    ("mysql", "order", "`order`"),
    ("snowflake", "amount", '"amount"'),         # Snowflake folds unquoted names to upper case
    ("snowflake", "AMOUNT", "AMOUNT"),
    ("sqlite", "line id", '"line id"'),
])
def test_identifier_is_bare_only_where_the_engine_reads_it_back(dialect, name, shown):
    assert dialect_spec(dialect).identifier(name) == shown


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_value_sampling_reads_a_bounded_sample_with_quoted_names(dialect):
    sql = dialect_spec(dialect).sample_values_sql("order lines", "Select", "sales", limit=50, scan_rows=1000)
    tree = sqlglot.parse_one(sql, read=dialect)
    assert tree.args.get("distinct") is not None
    table = next(tree.find_all(sqlglot.exp.Table))
    assert (table.name, table.db) == ("order lines", "sales")
    assert "1000" in sql and "50" in sql and dialect_spec(dialect).quote("Select") in sql


def test_mysql_names_are_never_double_quoted_strings():
    sql = dialect_spec("mysql").sample_values_sql("Pets", "PetType")
    assert '"' not in sql and "`PetType`" in sql


@pytest.mark.parametrize("dialect, expected", [
    ("postgres", ["SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "SET statement_timeout = 1500"]),
    ("sqlite", ["PRAGMA query_only = ON"]),
    ("snowflake", ["ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS = 2"]),
    ("bigquery", []), ("tsql", []),
])
def test_session_setup(dialect, expected):
    assert dialect_spec(dialect).session_setup(1500) == expected


def test_mysql_and_mariadb_name_their_timeouts_differently():
    spec = dialect_spec("mysql")
    assert spec.session_setup(2000, "8.0.36")[-1] == "SET SESSION max_execution_time = 2000"
    assert spec.session_setup(2000, "10.11.6-MariaDB-0+deb12u1")[-1] == "SET SESSION max_statement_time = 2"


def test_every_dialect_states_its_timeout_and_read_only_lock():
    for spec in DIALECTS.values():
        assert spec.timeout and spec.read_only
    assert dialect_spec("bigquery").timeout.startswith("none")   # said plainly, not pretended


def test_dry_run_wrapper():
    assert dialect_spec("postgres").dry_run("SELECT 1") == "EXPLAIN SELECT 1"
    assert dialect_spec("tsql").dry_run("SELECT 1") is None


def test_names():
    assert dialect_of_backend("postgresql") == "postgres" and dialect_of_backend("mariadb") == "mysql"
    assert dialect_of_backend("mssql") == "tsql" and display_name("tsql") == "T-SQL (SQL Server)"
    with pytest.raises(ValueError, match="unknown dialect 'oracle'"):
        dialect_spec("oracle")


def test_the_config_accepts_exactly_the_known_dialects():
    from typing import get_args

    from MoE.sql.config import Dialect

    assert set(get_args(Dialect)) == set(DIALECTS)


def test_case_of_quoted_names():
    assert not dialect_spec("postgres").quoted_names_ignore_case and not dialect_spec("snowflake").quoted_names_ignore_case
    assert all(dialect_spec(d).quoted_names_ignore_case for d in ("mysql", "sqlite", "duckdb", "tsql", "bigquery"))
