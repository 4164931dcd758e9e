"""Payment links: hosted payment pages sent to customers who pay later (phone orders)."""

NAME = "payment_links"

STATEMENTS = [
    """CREATE TABLE payment_links (
        id TEXT PRIMARY KEY, payment_id TEXT NOT NULL REFERENCES payments (id),
        order_id TEXT NOT NULL REFERENCES orders (id), provider TEXT NOT NULL,
        provider_ref TEXT, url TEXT, expires_at TIMESTAMPTZ, created_by TEXT,
        created_at TIMESTAMPTZ NOT NULL)""",
    "CREATE INDEX payment_links_order ON payment_links (order_id)",
    "CREATE INDEX payment_links_payment ON payment_links (payment_id)",
]
