"""Piccolo tables of the customers domain; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import BigInt, Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class Customer(Table, tablename="customers"):
    id = Text(primary_key=True)
    external_ref = Text(null=True, default=None)
    email = Text(null=True, default=None)
    name = Text(default="")
    phone = Text(null=True, default=None)
    phone_e164 = Text(null=True, default=None)  # migration 0010: the phone normalised, for caller lookup
    locale = Text(default="el")
    created_at = timestamp(null=False)


class CustomerSegments(Table, tablename="customer_segments"):
    """A customer's RFM scores and segments as of the last build (migration 0011)."""

    customer_id = Text(primary_key=True)
    recency = Integer()
    frequency = Integer()
    monetary = Integer()
    orders = Integer()
    spent = BigInt()
    segments = Text(default="[]")  # JSON list, in policy order
    computed_at = timestamp(null=False)


class SegmentMembership(Table, tablename="segment_memberships"):
    """When a customer joined and left a segment: sizes and movement over time."""

    id = Text(primary_key=True)
    customer_id = Text()
    segment = Text()
    joined_at = timestamp(null=False)
    left_at = timestamp()


class SegmentBuild(Table, tablename="segment_builds"):
    id = Text(primary_key=True)  # "current"
    built_at = timestamp()
    dirty_since = timestamp()
    customers = Integer(default=0)


TABLES: tuple[type[Table], ...] = (Customer, CustomerSegments, SegmentMembership, SegmentBuild)


__all__ = ["Customer", "CustomerSegments", "SegmentBuild", "SegmentMembership"]
