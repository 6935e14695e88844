"""Writes ecommerce_sample_data.sql: coherent rows for ecommerce_sample_schema.sql (the README demo's database).

    python MoE/schemas/make_ecommerce_sample_data.py

Generic sample rows (MoE/sql/sample_data.py) only respect types and foreign keys; the demo needs data that
follows the schema's own definitions, so that a right answer is recognisably right:
- an order's total_amount is the sum of its lines (quantity x unit_price);
- cancelled orders exist (about 1 in 10) and have no payment, shipment or refund;
- payments of a paid, shipped or delivered order add up to its total and come on or after its date;
- shipments leave on or after the order date, and delivered ones arrive after leaving;
- refunds are for shipped or delivered orders, dated after the order, never larger than its total.
The same seed always writes the same file.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

SEED = 7
START, DAYS = dt.date(2023, 1, 1), 911   # 2023-01-01 .. 2025-06-30
STATUSES = ["pending", "paid", "shipped", "delivered", "cancelled"]
STATUS_WEIGHTS = [5, 15, 20, 50, 10]
CATEGORIES = [(1, "Electronics", None), (2, "Home", None), (3, "Outdoors", None), (4, "Phones", 1),
              (5, "Laptops", 1), (6, "Kitchen", 2), (7, "Garden", 2), (8, "Camping", 3)]
PRODUCT_WORDS = ["Alpha", "Nova", "Orbit", "Pixel", "Quartz", "Terra", "Vertex", "Echo", "Sierra", "Delta"]
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Linus", "Radia", "Tim"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Torvalds"]
COUNTRIES = ["US", "DE", "FR", "GB", "JP", "BR", "IN", "CA"]


def generate(seed: int = SEED, customers: int = 60, products: int = 40, orders: int = 360) -> dict[str, list[tuple]]:
    rng = random.Random(seed)
    data: dict[str, list[tuple]] = {"categories": CATEGORIES}
    data["products"] = [(i, f"SKU-{i:05d}", f"{rng.choice(PRODUCT_WORDS)} {rng.choice(['Pro', 'Mini', 'Max', 'Lite'])} {i}",
                         rng.choice([4, 5, 6, 7, 8]), round(rng.uniform(5, 400), 2), rng.random() < 0.9)
                        for i in range(1, products + 1)]
    data["customers"] = [(i, f"user{i}@example.com", f"{rng.choice(FIRST)} {rng.choice(LAST)}", rng.choice(COUNTRIES),
                          rng.choice(["consumer", "business"]), START - dt.timedelta(days=rng.randrange(400)))
                         for i in range(1, customers + 1)]
    data.update({"orders": [], "order_items": [], "payments": [], "refunds": [], "shipments": []})
    for order_id in range(1, orders + 1):
        day = START + dt.timedelta(days=rng.randrange(DAYS))
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        total = 0.0
        for line in range(1, rng.randint(1, 4) + 1):
            product = rng.choice(data["products"])
            quantity, price = rng.randint(1, 3), round(product[4] * rng.choice([1.0, 1.0, 0.9]), 2)
            data["order_items"].append((order_id, line, product[0], quantity, price))
            total += quantity * price
        total = round(total, 2)
        data["orders"].append((order_id, rng.randint(1, customers), day, status, total, "USD"))
        if status in ("paid", "shipped", "delivered"):
            _payments(rng, data["payments"], order_id, day, total)
        if status in ("shipped", "delivered"):
            left = day + dt.timedelta(days=rng.randint(0, 3))
            arrived = left + dt.timedelta(days=rng.randint(1, 7)) if status == "delivered" else None
            data["shipments"].append((len(data["shipments"]) + 1, order_id, rng.choice(["ups", "fedex", "dhl", "usps"]),
                                      left, arrived))
            if rng.random() < 0.15:
                amount = round(total * rng.choice([0.25, 0.5, 1.0]), 2)
                data["refunds"].append((len(data["refunds"]) + 1, order_id, day + dt.timedelta(days=rng.randint(3, 40)),
                                        amount, rng.choice(["damaged", "late", "wrong_item", "changed_mind"])))
    return data


def _payments(rng: random.Random, payments: list, order_id: int, day: dt.date, total: float) -> None:
    parts = [total] if rng.random() < 0.8 or total < 20 else [round(total / 2, 2), round(total - round(total / 2, 2), 2)]
    for part in parts:
        paid_at = dt.datetime.combine(day + dt.timedelta(days=rng.randint(0, 2)), dt.time(rng.randrange(24), rng.randrange(60)))
        payments.append((len(payments) + 1, order_id, paid_at, part, rng.choice(["card", "paypal", "bank_transfer", "gift_card"])))


def as_sql(data: dict[str, list[tuple]]) -> str:
    def literal(value) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        if isinstance(value, dt.datetime):
            return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"
        if isinstance(value, dt.date):
            return f"DATE '{value:%Y-%m-%d}'"
        return "'" + str(value).replace("'", "''") + "'"
    lines = ["-- Written by make_ecommerce_sample_data.py (seed 7); rows for ecommerce_sample_schema.sql. Do not edit."]
    for table in ("categories", "products", "customers", "orders", "order_items", "payments", "refunds", "shipments"):
        rows = data[table]
        size = 1 if table == "categories" else 50   # a category's parent must be in the table before it
        for start in range(0, len(rows), size):
            values = ",\n  ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in rows[start:start + size])
            lines.append(f"INSERT INTO {table} VALUES\n  {values};")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    out = Path(__file__).with_name("ecommerce_sample_data.sql")
    out.write_text(as_sql(generate()), encoding="utf-8")
    print(f"wrote {out}")
