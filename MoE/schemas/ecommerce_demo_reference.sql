-- The README demo's question, "List monthly revenue and refund totals for 2024.", answered by hand as the
-- schema defines it: revenue is recognised on order_date for orders not cancelled; refunds count in the
-- month they were made. benchmarks/sql_demo.py and tests/moe/sql/test_sample_data.py compare with it.
WITH revenue AS (
    SELECT date_trunc('month', order_date) AS month, SUM(total_amount) AS revenue
    FROM orders
    WHERE status <> 'cancelled' AND order_date >= DATE '2024-01-01' AND order_date < DATE '2025-01-01'
    GROUP BY 1
), refund_totals AS (
    SELECT date_trunc('month', refund_date) AS month, SUM(amount) AS refunds
    FROM refunds
    WHERE refund_date >= DATE '2024-01-01' AND refund_date < DATE '2025-01-01'
    GROUP BY 1
)
SELECT COALESCE(r.month, f.month) AS month, r.revenue, f.refunds
FROM revenue AS r FULL JOIN refund_totals AS f ON r.month = f.month
ORDER BY 1
