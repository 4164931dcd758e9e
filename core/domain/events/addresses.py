"""Events of delivery addresses: orders held because no installed courier serves where they
go, and shipping addresses corrected before a label exists."""

from __future__ import annotations

from core.domain.events.base import EventPayload, EventType, SubjectType


class OrderHeld(EventPayload, frozen=True, kw_only=True):
    """The order was not routed: no installed courier delivers to its address (it came in
    through an import or a sales channel, which cannot be refused). A task asks ops to correct
    the address; correcting it routes the order."""

    event_type = EventType.ORDER_HELD
    subject = SubjectType.ORDER
    reason: str
    field: str  # the input to correct, e.g. shipping_address.country
    task_id: str


class OrderShippingAddressChanged(EventPayload, frozen=True, kw_only=True):
    """Someone corrected the order's shipping address before any label was made; the order is
    routed (again) for it. The address itself stays on the order, not in the event."""

    event_type = EventType.ORDER_SHIPPING_ADDRESS_CHANGED
    subject = SubjectType.ORDER
    by: str  # who changed it
    fields: list[str]  # what changed: line1, city, postcode, country, name, phone…
    country: str  # the country it now goes to


PAYLOADS: tuple[type[EventPayload], ...] = (OrderHeld, OrderShippingAddressChanged)

__all__ = ["OrderHeld", "OrderShippingAddressChanged"]
