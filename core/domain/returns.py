"""Returns (RMA): statuses, the state machine, payloads. Pure: no I/O.

```
requested ─► approved ───────► in_transit ─► received ─► completed
    │  └───► pending_review ─► approved / declined
    └──────► declined
approved (store drop-off) ──────────────────► received
```
A parcel returned to sender after failed deliveries enters as `received` (origin `failed_delivery`).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import msgspec

from core.domain.catalogue import Code, Sku
from core.domain.errors import IllegalTransition


class ReturnStatus(enum.StrEnum):
    REQUESTED = "requested"
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    DECLINED = "declined"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    COMPLETED = "completed"


class Resolution(enum.StrEnum):
    REFUND = "refund"
    REPLACEMENT = "replacement"
    REPAIR = "repair"
    STORE_CREDIT = "store_credit"


class Disposition(enum.StrEnum):
    RESELL = "resell"
    REPAIR = "repair"
    RECYCLE = "recycle"
    RETURN_TO_SUPPLIER = "return_to_supplier"
    WRITE_OFF = "write_off"


class ReturnMethod(enum.StrEnum):
    COURIER = "courier"
    STORE = "store"


_R = ReturnStatus
RETURN_TRANSITIONS: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    _R.REQUESTED: frozenset({_R.APPROVED, _R.PENDING_REVIEW, _R.DECLINED}),
    _R.PENDING_REVIEW: frozenset({_R.APPROVED, _R.DECLINED}),
    _R.APPROVED: frozenset({_R.IN_TRANSIT, _R.RECEIVED}),
    _R.IN_TRANSIT: frozenset({_R.RECEIVED}),
    _R.RECEIVED: frozenset({_R.COMPLETED}),
    _R.DECLINED: frozenset(),
    _R.COMPLETED: frozenset(),
}


def check_return_transition(return_id: str, current: ReturnStatus, target: ReturnStatus) -> None:
    if target not in RETURN_TRANSITIONS[current]:
        allowed = ", ".join(sorted(RETURN_TRANSITIONS[current])) or "none (final state)"
        raise IllegalTransition(f"return {return_id} is {current}; it cannot become {target} (allowed next: {allowed})")


Qty = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=r"^[a-z][a-z0-9_]*$")]
Cost = Annotated[int, msgspec.Meta(ge=0, le=10**9)]


class ReturnLineIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: Sku
    qty: Qty
    reason: Reason
    resolution: Resolution | None = None
    opened: bool | None = None


class ReturnIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    order_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    lines: Annotated[list[ReturnLineIn], msgspec.Meta(min_length=1, max_length=200)]
    method: ReturnMethod
    resolution: Resolution = Resolution.REFUND
    receiving_location: Code | None = None  # the store for drop-offs; default: the shipment's origin
    locale: Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$")] | None = None


class ReceivedLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: Sku
    qty: Annotated[int, msgspec.Meta(ge=0, le=10_000)]
    condition: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    disposition: Disposition
    repair_cost: Cost = 0
    replacement_cost: Cost = 0


class ReceiveIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    lines: Annotated[list[ReceivedLine], msgspec.Meta(min_length=1, max_length=200)]
    location: Code | None = None


class DecisionIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class ReturnLineOut(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    qty: int
    reason: str
    resolution: Resolution
    unit_price: int
    received_qty: int
    condition: str | None
    disposition: Disposition | None
    repair_cost: int
    replacement_cost: int


class ReturnOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    order_id: str
    customer_id: str | None
    status: ReturnStatus
    method: ReturnMethod
    resolution: Resolution
    origin: str
    lines: list[ReturnLineOut]
    requested_at: datetime
    decided_at: datetime | None
    decision_reason: str | None
    policy_version: int | None
    shop_pays_shipping: bool
    restocking_fee: int
    shipment_id: str | None
    return_label_url: str | None
    receiving_location: str | None
    received_at: datetime | None
    completed_at: datetime | None
    refund_amount: int
    replacement_order_id: str | None
    repair_order_id: str | None
    store_credit_id: str | None
    notes: str | None
