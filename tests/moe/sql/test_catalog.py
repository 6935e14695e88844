import pytest

from MoE.sql.catalog import ForeignKey, parse_ddl
from Qwen3.errors import ConfigError


def test_sample_schema(catalog):
    assert [t.name for t in catalog.tables] == ["categories", "products", "customers", "orders", "order_items",
                                                "payments", "refunds", "shipments"]
    orders = catalog.table("ORDERS")
    assert orders.primary_key == ("order_id",)
    assert ForeignKey(("customer_id",), "customers", ("customer_id",)) in orders.foreign_keys
    assert orders.column("status").allowed_values == ("pending", "paid", "shipped", "delivered", "cancelled")
    assert orders.comment.startswith("One row per checkout")
    assert catalog.table("order_items").primary_key == ("order_id", "line_number")
    assert catalog.table("products").column("unit_price").comment == "current list price in USD"


def test_quoted_identifiers_composite_keys_and_comment_forms():
    catalog = parse_ddl("""
        CREATE TABLE "Line Items" ("Order Id" INT, "Line" INT, qty INT COMMENT 'units',
                                   PRIMARY KEY ("Order Id", "Line"),
                                   FOREIGN KEY ("Order Id") REFERENCES "Orders"("Id"));
        CREATE TABLE "Orders" ("Id" INT PRIMARY KEY, note TEXT);
        COMMENT ON TABLE "Orders" IS 'purchases';
        COMMENT ON COLUMN "Orders".note IS 'free text';
    """, dialect="postgres")
    items = catalog.table("line items")
    assert items.primary_key == ("Order Id", "Line")
    assert items.foreign_keys == (ForeignKey(("Order Id",), "Orders", ("Id",)),)
    assert catalog.table("orders").comment == "purchases"
    assert catalog.table("orders").column("note").comment == "free text"


def test_mysql_column_comments():
    catalog = parse_ddl("CREATE TABLE t (id INT PRIMARY KEY COMMENT 'the key', v VARCHAR(10));", dialect="mysql")
    assert catalog.table("t").column("id").comment == "the key"
    assert catalog.table("t").column("id").nullable is False


@pytest.mark.parametrize("ddl, message", [
    ("SELECT 1;", "holds no CREATE TABLE"),
    ("CREATE TABLE (;", "does not parse"),
])
def test_errors(ddl, message):
    with pytest.raises(ConfigError, match=message):
        parse_ddl(ddl)


def test_prompt_and_subset(catalog):
    prompt = catalog.to_prompt()
    assert "CREATE TABLE orders (" in prompt and "values: pending, paid" in prompt
    assert "PRIMARY KEY (order_id, line_number)" in prompt
    small = catalog.subset({"orders": None, "customers": {"customer_id", "email"}})
    assert [t.name for t in small.tables] == ["customers", "orders"]
    assert [c.name for c in small.table("customers").columns] == ["customer_id", "email"]
    assert catalog.column_count == 41 and small.column_count == 8


PG_DUMP = r"""
\restrict abc
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE SCHEMA sales;
ALTER SCHEMA sales OWNER TO admin;
CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.t := now(); RETURN NEW; END; $$;
CREATE TABLE public.customers (
    customer_id integer NOT NULL,
    name text
);
ALTER TABLE public.customers OWNER TO admin;
CREATE TABLE sales.orders (
    order_id integer NOT NULL,
    customer_id integer,
    total numeric(10,2)
);
CREATE SEQUENCE sales.orders_order_id_seq AS integer START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;
ALTER SEQUENCE sales.orders_order_id_seq OWNED BY sales.orders.order_id;
COMMENT ON TABLE sales.orders IS 'one row per checkout';
COMMENT ON COLUMN public.customers.name IS 'full name';
ALTER TABLE ONLY public.customers
    ADD CONSTRAINT customers_pkey PRIMARY KEY (customer_id);
ALTER TABLE ONLY sales.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (order_id);
ALTER TABLE ONLY sales.orders
    ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES public.customers(customer_id);
GRANT SELECT ON ALL TABLES IN SCHEMA sales TO reader;
\unrestrict abc
"""


def test_pg_dump_output_keeps_keys_added_by_alter_table():
    catalog = parse_ddl(PG_DUMP, "postgres")
    assert [t.ref for t in catalog.tables] == ["customers", "sales.orders"]   # public is the default schema
    assert catalog.table("customers").primary_key == ("customer_id",)
    orders = catalog.table("sales.orders")
    assert orders.primary_key == ("order_id",) and orders.comment == "one row per checkout"
    assert orders.foreign_keys == (ForeignKey(("customer_id",), "customers", ("customer_id",)),)
    assert catalog.table("customers").column("name").comment == "full name"
    assert catalog.table("orders") is orders    # a bare name finds the only table of that name


MYSQLDUMP = """
/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
DROP TABLE IF EXISTS `order lines`;
/*!40101 SET @saved_cs_client     = @@character_set_client */;
CREATE TABLE `order lines` (
  `line id` int(11) NOT NULL,
  `Select` varchar(20) DEFAULT NULL COMMENT 'the service sold',
  `PetID` int(11) DEFAULT NULL,
  PRIMARY KEY (`line id`),
  KEY `PetID` (`PetID`),
  CONSTRAINT `order lines_ibfk_1` FOREIGN KEY (`PetID`) REFERENCES `Pets` (`PetID`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci COMMENT='what was bought';
CREATE TABLE `Pets` (`PetID` int(11) NOT NULL, PRIMARY KEY (`PetID`)) ENGINE=InnoDB;
/*!40101 SET character_set_client = @saved_cs_client */;
"""


def test_mysqldump_output_keeps_named_constraints_and_comments():
    catalog = parse_ddl(MYSQLDUMP, "mysql")
    lines = catalog.table("order lines")
    assert lines.primary_key == ("line id",) and lines.comment == "what was bought"
    assert lines.foreign_keys == (ForeignKey(("PetID",), "Pets", ("PetID",)),)
    assert lines.column("Select").comment == "the service sold"


def test_a_create_table_that_does_not_parse_is_named():
    with pytest.raises(ConfigError, match="CREATE TABLE broken does not parse as postgres"):
        parse_ddl("CREATE TABLE ok (x INT); CREATE TABLE broken (x INT y z);", "postgres")


def test_schemas_keep_tables_of_one_name_apart():
    catalog = parse_ddl("CREATE TABLE sales.orders (id INT PRIMARY KEY, total INT);"
                        "CREATE TABLE finance.orders (id INT PRIMARY KEY, amount INT);"
                        "CREATE TABLE main.notes (id INT);", "duckdb")
    assert [t.ref for t in catalog.tables] == ["sales.orders", "finance.orders", "notes"]
    assert catalog.table("orders") is None and catalog.table("SALES.ORDERS").column("total")
    assert catalog.mapping() == {"sales": {"orders": {"id": "INT", "total": "INT"}},
                                 "finance": {"orders": {"id": "INT", "amount": "INT"}},
                                 "main": {"notes": {"id": "INT"}}}
    prompt = catalog.to_prompt("postgres")
    assert "CREATE TABLE sales.orders (" in prompt and "CREATE TABLE notes (" in prompt
