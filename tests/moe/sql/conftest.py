import pytest

from MoE.sql.catalog import parse_ddl
from support import SAMPLE_DDL


@pytest.fixture(scope="session")
def catalog():
    return parse_ddl(SAMPLE_DDL)


@pytest.fixture(scope="session")
def duck(catalog):
    from MoE.sql.database import DuckDBDatabase

    db = DuckDBDatabase.from_catalog(catalog, SAMPLE_DDL, rows=120, seed=7, timeout_s=5)
    yield db
    db.close()
