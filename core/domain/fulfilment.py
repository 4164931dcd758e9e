"""Fulfilment payloads, the shipment statuses and the state machine's guards. Pure: no I/O."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

import msgspec

from core.domain.catalogue import Sku


class ShipmentStatus(enum.StrEnum):
    """Where a shipment is, in Emporio's words; couriers map their own states onto these."""

    PENDING = "pending"
    PICKING = "picking"
    PACKED = "packed"
    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    REATTEMPT_SCHEDULED = "reattempt_scheduled"
    DELIVERED = "delivered"
    RETURNING_TO_SENDER = "returning_to_sender"
    RETURNED_TO_SENDER = "returned_to_sender"
    CANCELLED = "cancelled"
    # The carrier declared the parcel lost (BoxNow "lost"/"missing"): final, the shop claims it
    # from the carrier and replaces or refunds; it never comes back on the road by itself.
    LOST = "lost"


class FailureReason(enum.StrEnum):
    """Why a delivery attempt failed, normalised across couriers (ACS ΑΣ1 → recipient_absent)."""

    RECIPIENT_ABSENT = "recipient_absent"
    ADDRESS_PROBLEM = "address_problem"
    REFUSED = "refused"
    CANNOT_PAY = "cannot_pay"
    HELD_AT_OFFICE = "held_at_office"
    FORCE_MAJEURE = "force_majeure"
    MISSING_DOCUMENTS = "missing_documents"
    RESCHEDULED_BY_RECIPIENT = "rescheduled_by_recipient"
    OTHER = "other"


S = ShipmentStatus

# Statuses a tracking update may move a shipment out of; final ones never change again.
FINAL = frozenset({S.DELIVERED, S.RETURNED_TO_SENDER, S.CANCELLED, S.LOST})
# The courier has the parcel: tracking is polled for these.
ON_THE_ROAD = frozenset(
    {S.LABEL_CREATED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED, S.REATTEMPT_SCHEDULED, S.RETURNING_TO_SENDER}
)
PICKABLE = frozenset({S.PENDING, S.PICKING})


class VoucherState(enum.StrEnum):
    NONE = "none"
    REQUESTED = "requested"  # a create call is (or was) in flight; its outcome may be unknown
    CREATED = "created"
    FAILED = "failed"  # the courier refused; fix and pack again


class PickedLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    sku: Sku
    picked_qty: Annotated[int, msgspec.Meta(ge=0, le=100_000)]


class PickIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    picker: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    lines: Annotated[list[PickedLine], msgspec.Meta(min_length=1, max_length=500)]
    started_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None
    completed_at: Annotated[datetime, msgspec.Meta(tz=True)] | None = None


class ShipmentLineOut(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    qty: int
    picked_qty: int | None


class AttemptOut(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    at: datetime
    outcome: str
    reason: str | None


class TrackingEventOut(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    status: str
    description: str
    location: str | None


class ShipmentOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    order_id: str
    location: str
    lines: list[ShipmentLineOut]
    status: ShipmentStatus
    courier: str | None
    tracking_number: str | None
    tracking_url: str | None
    attempts: list[AttemptOut]
    events: list[TrackingEventOut]
    packaging: dict[str, Any] | None
    voucher_state: str
    picker: str | None
    pick_started_at: datetime | None
    pick_completed_at: datetime | None
    pick_error: bool
    packed_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    failure_reason: str | None
    next_attempt_on: datetime | None
    cod_amount: int | None
    last_error: str | None
    is_return: bool


class AllocationOut(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str
    plan: list[dict[str, Any]]
    reasons: list[str]
    alternatives: list[dict[str, Any]]
    deferred: dict[str, int]
    strategy: str
    decided_at: datetime
    version: int


class ManifestOut(msgspec.Struct, frozen=True, kw_only=True):
    location: str
    manifests: list[dict[str, Any]]
    shipments: int
    orphans_cancelled: list[str] = msgspec.field(default_factory=list)
