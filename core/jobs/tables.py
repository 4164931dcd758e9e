"""Piccolo tables of the jobs domain; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import JSONB, Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class Event(Table, tablename="events"):
    """The outbox: the source of truth for work the worker must do."""

    id = Text(primary_key=True)
    type = Text()
    occurred_at = timestamp(null=False)
    order_id = Text(null=True, default=None)
    customer_id = Text(null=True, default=None)
    subject_type = Text(null=True, default=None)
    subject_id = Text(null=True, default=None)
    payload = JSONB(default="{}")
    dispatched_at = timestamp()
    processed_at = timestamp()
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)


class EventHandling(Table, tablename="event_handlings"):
    id = Text(primary_key=True)  # f"{event_id}|{handler}"
    handled_at = timestamp(null=False)


TABLES: tuple[type[Table], ...] = (
    Event,
    EventHandling,
)


__all__ = ["Event", "EventHandling"]
