"""Orders: statuses, the state machine that guards them, and the order payloads.

```
pending_payment ─► confirmed ─► routed ─► partially_shipped ─► shipped ─► delivered ─► returned
       │               │           │              (delivered may also be partially returned)
       └───────────────┴───────────┴─► cancelled   (only before anything has shipped)
```
A call-centre order without a payment waits in `pending_payment`; a cash-on-delivery order or
an order whose payment was authorized moves to `confirmed` at once.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import msgspec

from core.domain.catalogue import Code, Sku
from core.domain.customers import Email, Locale, Phone
from core.domain.errors import IllegalTransition
from core.domain.money import Money


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    ROUTED = "routed"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"


_S = OrderStatus
ORDER_TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    _S.PENDING_PAYMENT: frozenset({_S.CONFIRMED, _S.CANCELLED}),
    _S.CONFIRMED: frozenset({_S.ROUTED, _S.CANCELLED}),
    _S.ROUTED: frozenset({_S.ROUTED, _S.CONFIRMED, _S.PARTIALLY_SHIPPED, _S.SHIPPED, _S.CANCELLED}),
    _S.PARTIALLY_SHIPPED: frozenset({_S.SHIPPED, _S.DELIVERED, _S.RETURNED}),
    _S.SHIPPED: frozenset({_S.DELIVERED, _S.RETURNED}),
    _S.DELIVERED: frozenset({_S.RETURNED}),
    _S.CANCELLED: frozenset(),
    _S.RETURNED: frozenset(),
}


def check_transition(order_id: str, current: OrderStatus, target: OrderStatus) -> None:
    """Raise IllegalTransition (409) unless `current → target` is in the state machine."""
    if target not in ORDER_TRANSITIONS[current]:
        allowed = ", ".join(sorted(ORDER_TRANSITIONS[current])) or "none (final state)"
        raise IllegalTransition(
            f"order {order_id} is {current}; it cannot become {target} (allowed next: {allowed})",
            order_id=order_id,
            current_status=str(current),
        )


class DeliveryMethod(enum.StrEnum):
    COURIER = "courier"
    PICKUP = "pickup"


# ---------------------------------------------------------------------------------------------
# Payloads
# ---------------------------------------------------------------------------------------------

LineQty = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
Text200 = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class CustomerRef(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Either an existing customer's `id`, or `email` + `name` (found or created by email)."""

    id: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    email: Email | None = None
    name: Text200 | None = None
    phone: Phone | None = None
    locale: Locale | None = None


class OrderLineIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    sku: Sku
    qty: LineQty


class ShippingAddress(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Text200
    line1: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    city: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    postcode: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]
    phone: Phone | None = None
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None


class DeliveryIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    method: DeliveryMethod = DeliveryMethod.COURIER
    pickup_location: Code | None = None


class PaymentIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    provider: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class PlaceOrder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    channel: Code
    customer: CustomerRef
    lines: Annotated[list[OrderLineIn], msgspec.Meta(min_length=1, max_length=200)]
    shipping_address: ShippingAddress | None = None
    delivery: DeliveryIn = msgspec.field(default_factory=DeliveryIn)
    payment: PaymentIn | None = None
    external_ref: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    location: Code | None = None  # a `store` order: the store it is sold and handed over at


class OrderLineOut(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    qty: int
    unit_price: Money
    line_total: Money
    qty_reserved: int
    qty_deferred: int
    qty_allocated: int
    qty_shipped: int
    qty_delivered: int
    qty_returned: int


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    merchandise: Money
    shipping: Money
    grand_total: Money


class ReservationOut(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    location: str
    qty: int


class OrderOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    status: OrderStatus
    channel: str
    customer_id: str
    currency: str
    lines: list[OrderLineOut]
    totals: Totals
    placed_at: datetime
    promised_ship_by: datetime | None
    promised_delivery_by: datetime | None
    delivery: dict[str, Any]
    shipping_address: dict[str, Any] | None
    payment_provider: str | None
    reservations: list[ReservationOut]
    allocation: dict[str, Any] | None = None
    shipments: list[dict[str, Any]] = msgspec.field(default_factory=list)
    payments: list[dict[str, Any]] = msgspec.field(default_factory=list)
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    external_ref: str | None = None


class CancelOrder(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None
