"""Channel orders: the marketplace order each connector order came from, what the shop answers
the marketplace and whether it did, the lease guarding each call."""

NAME = "channel_orders"

STATEMENTS = [
    """CREATE TABLE channel_orders (
        id TEXT PRIMARY KEY, channel TEXT NOT NULL, external_id TEXT NOT NULL,
        order_id TEXT REFERENCES orders (id), state TEXT NOT NULL,
        answer TEXT, answer_status TEXT NOT NULL DEFAULT 'none', acceptance TEXT, rejection TEXT,
        lines TEXT NOT NULL, ready_status TEXT NOT NULL DEFAULT 'none', lease_until TIMESTAMPTZ,
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, accept_by TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL, updated_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX channel_orders_order ON channel_orders (order_id)",
    "CREATE INDEX channel_orders_open_calls ON channel_orders (answer_status, ready_status)",
]
