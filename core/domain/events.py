"""Domain events: what happened, written to the outbox in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    type: str  # "order.placed", "order.cancelled", "inventory.adjusted", …
    occurred_at: datetime
    order_id: str | None = None
    customer_id: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
