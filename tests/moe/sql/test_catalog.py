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
