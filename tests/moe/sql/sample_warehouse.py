"""One small warehouse loaded into every engine the tests run: Spider's pets_1 (three tables, two foreign
keys, Has_Pet without a primary key, mixed-case names) with its rows, plus a table whose names need
quoting (a space, a reserved word in mixed case) and comments. PostgreSQL and DuckDB also get two
schemas, `sales` and `finance`, that both hold a table named `orders`. A view, "dog owners", reads three tables.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlglot

DDL = """
CREATE TABLE "Student" ("StuID" INTEGER, "LName" VARCHAR(12), "Fname" VARCHAR(12), "Age" INTEGER, "Sex" VARCHAR(1),
  "Major" INTEGER, "Advisor" INTEGER, "city_code" VARCHAR(3), PRIMARY KEY ("StuID"));
CREATE TABLE "Pets" ("PetID" INTEGER, "PetType" VARCHAR(20), "pet_age" INTEGER, "weight" REAL, PRIMARY KEY ("PetID"));
CREATE TABLE "Has_Pet" ("StuID" INTEGER, "PetID" INTEGER, FOREIGN KEY ("StuID") REFERENCES "Student" ("StuID"),
  FOREIGN KEY ("PetID") REFERENCES "Pets" ("PetID"));
CREATE TABLE "order lines" ("line id" INTEGER, "Select" VARCHAR(20), "PetID" INTEGER, PRIMARY KEY ("line id"),
  FOREIGN KEY ("PetID") REFERENCES "Pets" ("PetID"));
"""
VIEW = ('CREATE VIEW "dog owners" AS SELECT s."Fname", s."LName" FROM "Student" AS s JOIN "Has_Pet" AS h '
        'ON s."StuID" = h."StuID" JOIN "Pets" AS p ON p."PetID" = h."PetID" WHERE p."PetType" = \'dog\'')
ORDER_LINES = [(1, "Grooming", 2001), (2, "Vet visit", 2002), (3, "Grooming", 2003)]
TABLE_COMMENT, COLUMN_COMMENT = "what was bought for a pet", "the service sold"

SCHEMAS_DDL = """
CREATE SCHEMA sales;
CREATE SCHEMA finance;
CREATE TABLE sales.customers (customer_id INTEGER PRIMARY KEY, name VARCHAR(40));
CREATE TABLE sales.orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES sales.customers (customer_id),
  total DECIMAL(10, 2));
CREATE TABLE finance.orders (ledger_id INTEGER PRIMARY KEY, amount DECIMAL(10, 2));
INSERT INTO sales.customers VALUES (1, 'Acme'), (2, 'Globex');
INSERT INTO sales.orders VALUES (10, 1, 5.00), (11, 2, 7.50), (12, 1, 2.50);
INSERT INTO finance.orders VALUES (100, 99.00);
"""

ROW_COUNTS = {"Student": 34, "Pets": 3, "Has_Pet": 3, "order lines": 3}


def spider_rows(pets_sqlite: Path) -> dict[str, list[tuple]]:
    with sqlite3.connect(f"file:{pets_sqlite}?mode=ro", uri=True) as con:
        rows = {t: con.execute(f'SELECT * FROM "{t}"').fetchall() for t in ("Student", "Pets", "Has_Pet")}
    rows["order lines"] = ORDER_LINES
    return rows


def statements(dialect: str) -> list[str]:
    out = [s.sql(dialect=dialect) for s in sqlglot.parse(DDL + ";" + VIEW, read="postgres") if s is not None]
    if dialect == "mysql":
        out[-2] = out[-2] + f" COMMENT='{TABLE_COMMENT}'"
        out.append(f"ALTER TABLE `order lines` MODIFY `Select` VARCHAR(20) COMMENT '{COLUMN_COMMENT}'")
    elif dialect in ("postgres", "duckdb"):
        out.append(f"COMMENT ON TABLE \"order lines\" IS '{TABLE_COMMENT}'")
        out.append(f"COMMENT ON COLUMN \"order lines\".\"Select\" IS '{COLUMN_COMMENT}'")
    return out


def load(connection, dialect: str, pets_sqlite: Path, marker: str = "%s", schemas: bool = False) -> None:
    """Create and fill the warehouse through a DB-API connection that may write (the admin's)."""
    cursor = connection.cursor()
    for statement in statements(dialect):
        cursor.execute(statement)
    for table, rows in spider_rows(pets_sqlite).items():
        quoted = sqlglot.exp.to_identifier(table, quoted=True).sql(dialect=dialect)
        cursor.executemany(f"INSERT INTO {quoted} VALUES ({', '.join([marker] * len(rows[0]))})", rows)
    if schemas:
        for statement in sqlglot.parse(SCHEMAS_DDL, read="postgres"):
            cursor.execute(statement.sql(dialect=dialect))
    connection.commit()


def sqlite_file(path: Path, pets_sqlite: Path) -> Path:
    with sqlite3.connect(path) as con:
        load(con, "sqlite", pets_sqlite, marker="?")
    return path


def duckdb_file(path: Path, pets_sqlite: Path) -> Path:
    import duckdb

    con = duckdb.connect(str(path))
    load(con, "duckdb", pets_sqlite, marker="?", schemas=True)
    con.close()
    return path
