-- Sample e-commerce warehouse. Replace this file with your own DDL (any dialect sqlglot reads;
-- set schema.dialect in MoE/sql_moe_orchestrator_config.yaml). Comments after a column and before
-- a table are shown to the experts; CHECK (... IN (...)) lists become the column's known values.

-- Product categories, two levels deep (parent_category_id is NULL for top-level categories).
CREATE TABLE categories (
    category_id INTEGER PRIMARY KEY,
    name VARCHAR NOT NULL,                      -- category display name
    parent_category_id INTEGER REFERENCES categories(category_id)
);

-- Items the shop sells.
CREATE TABLE products (
    product_id INTEGER PRIMARY KEY,
    sku VARCHAR NOT NULL,                       -- stock keeping unit, unique per product
    name VARCHAR NOT NULL,
    category_id INTEGER NOT NULL REFERENCES categories(category_id),
    unit_price DECIMAL(10, 2) NOT NULL,         -- current list price in USD
    is_active BOOLEAN NOT NULL                  -- false once discontinued
);

-- People and companies who have an account.
CREATE TABLE customers (
    customer_id INTEGER PRIMARY KEY,
    email VARCHAR NOT NULL,
    full_name VARCHAR NOT NULL,
    country_code VARCHAR(2) NOT NULL,           -- ISO 3166-1 alpha-2, e.g. US, DE
    segment VARCHAR NOT NULL CHECK (segment IN ('consumer', 'business')),
    signup_date DATE NOT NULL
);

-- One row per checkout. Revenue is recognised on order_date for orders not cancelled.
CREATE TABLE orders (
    order_id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(customer_id),
    order_date DATE NOT NULL,
    status VARCHAR NOT NULL CHECK (status IN ('pending', 'paid', 'shipped', 'delivered', 'cancelled')),
    total_amount DECIMAL(12, 2) NOT NULL,       -- sum of the order's line totals, in USD
    currency VARCHAR(3) NOT NULL                -- always USD in this sample
);

-- Order lines: one product per line.
CREATE TABLE order_items (
    order_id INTEGER NOT NULL REFERENCES orders(order_id),
    line_number INTEGER NOT NULL,
    product_id INTEGER NOT NULL REFERENCES products(product_id),
    quantity INTEGER NOT NULL,
    unit_price DECIMAL(10, 2) NOT NULL,         -- price paid per unit, after discounts
    PRIMARY KEY (order_id, line_number)
);

-- Payments captured against orders (an order can be paid in several parts).
CREATE TABLE payments (
    payment_id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(order_id),
    paid_at TIMESTAMP NOT NULL,
    amount DECIMAL(12, 2) NOT NULL,
    method VARCHAR NOT NULL CHECK (method IN ('card', 'paypal', 'bank_transfer', 'gift_card'))
);

-- Money returned to customers, partly or fully, for an order.
CREATE TABLE refunds (
    refund_id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(order_id),
    refund_date DATE NOT NULL,
    amount DECIMAL(12, 2) NOT NULL,             -- refunded amount in USD
    reason VARCHAR NOT NULL CHECK (reason IN ('damaged', 'late', 'wrong_item', 'changed_mind'))
);

-- Parcels sent for an order.
CREATE TABLE shipments (
    shipment_id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(order_id),
    carrier VARCHAR NOT NULL CHECK (carrier IN ('ups', 'fedex', 'dhl', 'usps')),
    shipped_date DATE NOT NULL,
    delivered_date DATE                         -- NULL while in transit
);
