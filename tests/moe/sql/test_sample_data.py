"""The README demo's database: coherent rows that follow the sample schema's own definitions, and the
hand-written answer to the demo question that benchmarks/sql_demo.py checks the experts against."""

import importlib.util

import pytest

from MoE.sql import load_orchestrator_config
from MoE.sql.catalog import parse_ddl
from MoE.sql.database import DatabaseError, DuckDBDatabase
from support import REPO, SAMPLE_DDL

SCHEMAS = REPO / "MoE" / "schemas"


@pytest.fixture(scope="module")
def shop():
    config = load_orchestrator_config(REPO / "MoE" / "sql_moe_orchestrator_config.yaml")
    db = DuckDBDatabase.from_catalog(parse_ddl(SAMPLE_DDL), SAMPLE_DDL, 1, 1, 10, config.sample_data_sql())
    yield db
    db.close()


def one(db, sql):
    return db.execute(sql, 10).rows[0][0]


def test_order_totals_are_the_sum_of_their_lines(shop):
    assert one(shop, "SELECT COUNT(*) FROM orders o WHERE o.total_amount <> (SELECT SUM(quantity * unit_price) "
                     "FROM order_items i WHERE i.order_id = o.order_id)") == 0


def test_cancelled_orders_exist_and_have_no_money_movement(shop):
    assert one(shop, "SELECT COUNT(*) FROM orders WHERE status = 'cancelled' AND YEAR(order_date) = 2024") > 5
    for table in ("payments", "refunds", "shipments"):
        assert one(shop, f"SELECT COUNT(*) FROM {table} JOIN orders USING (order_id) WHERE status = 'cancelled'") == 0


def test_refunds_come_after_their_order_and_never_exceed_it(shop):
    assert one(shop, "SELECT COUNT(*) FROM refunds") > 10
    assert one(shop, "SELECT COUNT(*) FROM refunds r JOIN orders o USING (order_id) "
                     "WHERE r.refund_date <= o.order_date OR r.amount > o.total_amount") == 0


def test_payments_add_up_and_shipments_follow_the_order(shop):
    assert one(shop, "SELECT COUNT(*) FROM orders o WHERE status IN ('paid', 'shipped', 'delivered') AND "
                     "o.total_amount <> (SELECT SUM(amount) FROM payments p WHERE p.order_id = o.order_id)") == 0
    assert one(shop, "SELECT COUNT(*) FROM shipments s JOIN orders o USING (order_id) WHERE s.shipped_date < o.order_date "
                     "OR s.delivered_date <= s.shipped_date") == 0


def test_the_demo_reference_excludes_cancelled_orders(shop):
    reference = shop.execute((SCHEMAS / "ecommerce_demo_reference.sql").read_text(), 100).rows
    assert len(reference) == 12 and all(row[1] is not None for row in reference)   # revenue in every month
    assert sum(row[2] is not None for row in reference) >= 6                       # refunds in most
    all_orders = one(shop, "SELECT SUM(total_amount) FROM orders WHERE YEAR(order_date) = 2024")
    assert sum(row[1] for row in reference) < all_orders   # counting cancelled orders would be a different answer


def test_the_committed_data_file_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("make_data", SCHEMAS / "make_ecommerce_sample_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.as_sql(module.generate()) == (SCHEMAS / "ecommerce_sample_data.sql").read_text()


def test_a_data_file_holds_inserts_only():
    with pytest.raises(DatabaseError, match="INSERT statements only, not DROP"):
        DuckDBDatabase.from_catalog(parse_ddl(SAMPLE_DDL), SAMPLE_DDL, 1, 1, 10, "DROP TABLE orders;")
