import pytest

from MoE.sql.catalog import parse_ddl
from support import SAMPLE_DDL, shared_data

import sample_warehouse
import servers


@pytest.fixture(scope="session")
def catalog():
    return parse_ddl(SAMPLE_DDL)


@pytest.fixture(scope="session")
def duck(catalog):
    from MoE.sql.database import DuckDBDatabase

    db = DuckDBDatabase.from_catalog(catalog, SAMPLE_DDL, rows=120, seed=7, timeout_s=5)
    yield db
    db.close()


@pytest.fixture(scope="session")
def pets_sqlite():
    return shared_data("spider", "database", "pets_1", "pets_1.sqlite")


@pytest.fixture(scope="session")
def postgres_server(pets_sqlite):
    server = servers.start_postgres()
    import psycopg

    with psycopg.connect(server.admin_url.replace("postgresql+psycopg", "postgresql")) as con:
        sample_warehouse.load(con, "postgres", pets_sqlite, schemas=True)
        for statement in ("CREATE ROLE reader LOGIN", "GRANT USAGE ON SCHEMA sales, finance TO reader",
                          "GRANT SELECT ON ALL TABLES IN SCHEMA public, sales, finance TO reader"):
            con.execute(statement)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mariadb_server(pets_sqlite):
    server = servers.start_mariadb()
    import pymysql

    port = int(server.admin_url.rsplit(":", 1)[1].split("/")[0])
    with pymysql.connect(host="127.0.0.1", port=port, user="root") as con:
        con.cursor().execute("CREATE DATABASE shop")
        con.select_db("shop")
        sample_warehouse.load(con, "mysql", pets_sqlite)
        for statement in ("CREATE USER reader@'%'", "GRANT SELECT ON shop.* TO reader@'%'"):
            con.cursor().execute(statement)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def duckdb_warehouse(tmp_path_factory, pets_sqlite):
    return sample_warehouse.duckdb_file(tmp_path_factory.mktemp("duck") / "pets.duckdb", pets_sqlite)


@pytest.fixture(scope="session")
def sqlite_warehouse(tmp_path_factory, pets_sqlite):
    return sample_warehouse.sqlite_file(tmp_path_factory.mktemp("sqlite") / "pets.sqlite", pets_sqlite)


@pytest.fixture(scope="session", params=["duckdb", "sqlite", "postgres", "mariadb"])
def engine(request):
    """Each engine in turn; servers are started once per session."""
    return servers.engine_named(request.param, request)
