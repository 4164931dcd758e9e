"""Events of customers, checkouts and orders: intake, confirmation, routing, and the order's
status following its shipments."""

from __future__ import annotations

import enum

import msgspec

from core.domain.events.base import EventPayload, EventType, SubjectType
from core.domain.orders import OrderStatus


class CustomerCreated(EventPayload, frozen=True, kw_only=True):
    """A customer was created: through the API, or found missing while an order was placed."""

    event_type = EventType.CUSTOMER_CREATED
    subject = SubjectType.CUSTOMER


class CheckoutStarted(EventPayload, frozen=True, kw_only=True):
    event_type = EventType.CHECKOUT_STARTED
    subject = SubjectType.CHECKOUT


class CheckoutCompleted(EventPayload, frozen=True, kw_only=True):
    """The checkout became an order (the event's `order_id`)."""

    event_type = EventType.CHECKOUT_COMPLETED
    subject = SubjectType.CHECKOUT


class OrderPlaced(EventPayload, frozen=True, kw_only=True):
    """An order was taken and its stock reserved."""

    event_type = EventType.ORDER_PLACED
    subject = SubjectType.ORDER
    channel: str
    total: int  # merchandise total, minor units of `currency`
    currency: str
    status: OrderStatus  # pending_payment, or confirmed for a no-charge replacement
    deferred: dict[str, int] = msgspec.field(default_factory=dict)  # SKU → units pre-/back-ordered


class ConfirmedBy(enum.StrEnum):
    PAYMENT = "payment"  # its payment was authorized (or cash on delivery accepted)
    RETURN = "return"  # a no-charge replacement or repair order of a return
    CHANNEL = "channel"  # a marketplace order the shop accepted (the marketplace collects the payment)


class OrderConfirmed(EventPayload, frozen=True, kw_only=True):
    """The order may be fulfilled: it is routed next. Recorded once per order."""

    event_type = EventType.ORDER_CONFIRMED
    subject = SubjectType.ORDER
    by: ConfirmedBy | None = None  # None only on rows recorded before the catalogue
    replacement_of: str | None = None  # the returned order, when `by` is return


class OrderCancelled(EventPayload, frozen=True, kw_only=True):
    event_type = EventType.ORDER_CANCELLED
    subject = SubjectType.ORDER
    reason: str | None
    released_units: int  # reserved units given back to stock
    by: str  # who cancelled: a user, a role, or "system"


class AllocatedPart(msgspec.Struct, frozen=True, kw_only=True):
    """The units one location ships."""

    location: str
    lines: dict[str, int]  # SKU → units


class OrderRouted(EventPayload, frozen=True, kw_only=True):
    """The order's lines were allocated to locations (one shipment per part)."""

    event_type = EventType.ORDER_ROUTED
    subject = SubjectType.ORDER
    plan: list[AllocatedPart]
    reasons: list[str]  # why this plan won, as ops see it
    deferred: dict[str, int] = msgspec.field(default_factory=dict)  # SKU → units routed later


class OrderRerouted(OrderRouted, frozen=True, kw_only=True):
    """The open lines were allocated again (a short pick, a cancelled shipment)."""

    event_type = EventType.ORDER_REROUTED


class OrderPartiallyShipped(EventPayload, frozen=True, kw_only=True):
    event_type = EventType.ORDER_PARTIALLY_SHIPPED
    subject = SubjectType.ORDER


class OrderShipped(EventPayload, frozen=True, kw_only=True):
    """Every unit has left (capture-on-shipment providers capture now)."""

    event_type = EventType.ORDER_SHIPPED
    subject = SubjectType.ORDER


class OrderDelivered(EventPayload, frozen=True, kw_only=True):
    """Every unit was delivered (cash on delivery is captured now)."""

    event_type = EventType.ORDER_DELIVERED
    subject = SubjectType.ORDER


class OrderReturnedToSender(EventPayload, frozen=True, kw_only=True):
    """Nothing was delivered and the parcels came back: the payment is voided or refunded."""

    event_type = EventType.ORDER_RETURNED_TO_SENDER
    subject = SubjectType.ORDER
    reason: str | None = None


# The order status a rollup moves to → the event it records.
ORDER_STEPS: dict[OrderStatus, type[EventPayload]] = {
    OrderStatus.PARTIALLY_SHIPPED: OrderPartiallyShipped,
    OrderStatus.SHIPPED: OrderShipped,
    OrderStatus.DELIVERED: OrderDelivered,
    OrderStatus.RETURNED: OrderReturnedToSender,
}

PAYLOADS: tuple[type[EventPayload], ...] = (
    CustomerCreated,
    CheckoutStarted,
    CheckoutCompleted,
    OrderPlaced,
    OrderConfirmed,
    OrderCancelled,
    OrderRouted,
    OrderRerouted,
    OrderPartiallyShipped,
    OrderShipped,
    OrderDelivered,
    OrderReturnedToSender,
)

__all__ = [
    "ORDER_STEPS",
    "AllocatedPart",
    "CheckoutCompleted",
    "CheckoutStarted",
    "ConfirmedBy",
    "CustomerCreated",
    "OrderCancelled",
    "OrderConfirmed",
    "OrderDelivered",
    "OrderPartiallyShipped",
    "OrderPlaced",
    "OrderRerouted",
    "OrderReturnedToSender",
    "OrderRouted",
    "OrderShipped",
]
