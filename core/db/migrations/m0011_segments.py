"""Customer segments: RFM scores and segments as last built, memberships with their history
(joined/left, for sizes and movement over time), and the build's state (dirty since an order
changed)."""

NAME = "segments"

STATEMENTS = [
    """CREATE TABLE customer_segments (
        customer_id TEXT PRIMARY KEY REFERENCES customers (id),
        recency INTEGER NOT NULL CHECK (recency BETWEEN 1 AND 5),
        frequency INTEGER NOT NULL CHECK (frequency BETWEEN 1 AND 5),
        monetary INTEGER NOT NULL CHECK (monetary BETWEEN 1 AND 5),
        orders INTEGER NOT NULL, spent BIGINT NOT NULL, segments TEXT NOT NULL DEFAULT '[]',
        computed_at TIMESTAMPTZ NOT NULL)""",
    """CREATE TABLE segment_memberships (
        id TEXT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers (id), segment TEXT NOT NULL,
        joined_at TIMESTAMPTZ NOT NULL, left_at TIMESTAMPTZ)""",
    "CREATE INDEX segment_memberships_current ON segment_memberships (segment, left_at)",
    "CREATE INDEX segment_memberships_customer ON segment_memberships (customer_id)",
    """CREATE TABLE segment_builds (
        id TEXT PRIMARY KEY, built_at TIMESTAMPTZ, dirty_since TIMESTAMPTZ, customers INTEGER NOT NULL DEFAULT 0)""",
]
