"""What a receiver gets: the Standard Webhooks envelope (`type`, `timestamp`, `data`) around the
event's typed payload from the catalogue, plus the ids the payload itself does not repeat (which
order, customer and subject the event is about)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from core.domain.events import DomainEvent, EventPayload


class WebhookMessage(msgspec.Struct, frozen=True, kw_only=True):
    type: str  # the event type: order.placed, shipment.delivered…
    timestamp: datetime  # when the event happened (UTC)
    event_id: str
    subject_type: str | None
    subject_id: str | None
    order_id: str | None
    customer_id: str | None
    data: EventPayload  # the event type's payload Struct (docs/events.md)


def body_of(event: DomainEvent) -> str:
    """The JSON body for `event`: encoded once when the delivery is created, then sent byte for
    byte on every try (the signature covers these bytes)."""
    message = WebhookMessage(
        type=event.type.value,
        timestamp=event.occurred_at,
        event_id=event.id,
        subject_type=event.subject_type.value if event.subject_type else None,
        subject_id=event.subject_id,
        order_id=event.order_id,
        customer_id=event.customer_id,
        data=event.data,
    )
    return msgspec.json.encode(message).decode()


__all__ = ["WebhookMessage", "body_of"]
