"""Payment links close before their time: expired at the provider when the order is cancelled."""

NAME = "payment_link_expiry"

STATEMENTS = [
    # open | expiring (the provider is being asked) | expired | completed (paid before it closed)
    "ALTER TABLE payment_links ADD COLUMN status TEXT NOT NULL DEFAULT 'open'",
    "ALTER TABLE payment_links ADD COLUMN expire_requested_at TIMESTAMPTZ",
    "ALTER TABLE payment_links ADD COLUMN expire_tries INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE payment_links ADD COLUMN closed_at TIMESTAMPTZ",
    "CREATE INDEX payment_links_expiring ON payment_links (status, expire_requested_at)",
]
