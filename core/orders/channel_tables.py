"""The channel orders table: one row per order a sales-channel connector brought in (schema in
core/orders/channel_migrations). It deduplicates redelivered webhooks, remembers what the shop
must answer the marketplace (accept or reject) and whether it did, and guards each call to the
marketplace with a lease so two executors never make it at once."""

from __future__ import annotations

import enum

from piccolo.columns import Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class Answer(enum.StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"


class CallStatus(enum.StrEnum):
    """Where one call to the marketplace (the answer, or "ready for the courier") stands."""

    NONE = "none"  # nothing to tell the marketplace
    PENDING = "pending"  # to be sent (a lease marks an executor sending it now)
    SENT = "sent"  # the marketplace has it (it said so, or its order shows it)
    REFUSED = "refused"  # the marketplace refused it: a person decides (see last_error)
    MOOT = "moot"  # the order moved on at the marketplace before it was sent


class ChannelOrderLink(Table, tablename="channel_orders"):
    id = Text(primary_key=True)  # f"{channel}:{external_id}"
    channel = Text()
    external_id = Text()  # the marketplace's order code (also the order's external_ref)
    order_id = Text(null=True, default=None)  # None when rejected before anything was reserved
    state = Text()  # the marketplace's state as last read
    answer = Text(null=True, default=None)  # Answer, or None when there was nothing to answer
    answer_status = Text(default=CallStatus.NONE.value)
    acceptance = Text(null=True, default=None)  # JSON of the Acceptance sent
    rejection = Text(null=True, default=None)  # JSON of the Rejection to send / sent
    lines = Text()  # JSON: the marketplace's lines [{id, sku, qty, unit_price}] as read at intake
    ready_status = Text(default=CallStatus.NONE.value)
    lease_until = timestamp()
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    accept_by = timestamp()
    created_at = timestamp(null=False)
    updated_at = timestamp(null=False)


TABLES: tuple[type[Table], ...] = (ChannelOrderLink,)

__all__ = ["TABLES", "Answer", "CallStatus", "ChannelOrderLink"]
