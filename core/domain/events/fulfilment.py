"""Events of fulfilment: shipments from creation through picking, packing and the courier's
voucher to delivery (or back to the sender), and the tasks a failed delivery opens."""

from __future__ import annotations

from datetime import datetime

from core.domain.events.base import EventPayload, EventType, SubjectType
from core.domain.fulfilment import FailureReason


class _ShipmentEvent(EventPayload, frozen=True, kw_only=True):
    subject = SubjectType.SHIPMENT


class ShipmentCreated(_ShipmentEvent, frozen=True, kw_only=True):
    event_type = EventType.SHIPMENT_CREATED
    location: str
    lines: dict[str, int]  # SKU → units


class ShipmentCancelled(_ShipmentEvent, frozen=True, kw_only=True):
    event_type = EventType.SHIPMENT_CANCELLED
    reason: str


class ShipmentPicked(_ShipmentEvent, frozen=True, kw_only=True):
    """Picking finished; `short` lists the units not found (the order is routed again for them)."""

    event_type = EventType.SHIPMENT_PICKED
    picker: str | None
    short: dict[str, int]  # SKU → units missing


class ShipmentPacked(_ShipmentEvent, frozen=True, kw_only=True):
    event_type = EventType.SHIPMENT_PACKED
    boxes: int | None  # None when no packaging plan was made


class ShipmentLabelCreated(_ShipmentEvent, frozen=True, kw_only=True):
    """The courier issued the voucher: the parcel has a tracking number."""

    event_type = EventType.SHIPMENT_LABEL_CREATED
    courier: str
    tracking_number: str


class ShipmentVoucherRejected(_ShipmentEvent, frozen=True, kw_only=True):
    """The courier refused the voucher (an address it cannot serve…): fix it and pack again."""

    event_type = EventType.SHIPMENT_VOUCHER_REJECTED
    courier: str
    reason: str


class ShipmentVoucherDeadLettered(_ShipmentEvent, frozen=True, kw_only=True):
    """The courier stayed unreachable for every try: ops must look."""

    event_type = EventType.SHIPMENT_VOUCHER_DEAD_LETTERED
    courier: str
    tries: int
    reason: str


class ShipmentShipped(_ShipmentEvent, frozen=True, kw_only=True):
    """The parcel left the location (on a dispatch's manifest, or collected at the store)."""

    event_type = EventType.SHIPMENT_SHIPPED
    manifest_id: str | None  # None when collected at the store
    courier: str | None


class ShipmentInTransit(_ShipmentEvent, frozen=True, kw_only=True):
    event_type = EventType.SHIPMENT_IN_TRANSIT


class ShipmentOutForDelivery(_ShipmentEvent, frozen=True, kw_only=True):
    event_type = EventType.SHIPMENT_OUT_FOR_DELIVERY


class ShipmentDeliveryFailed(_ShipmentEvent, frozen=True, kw_only=True):
    """A delivery attempt failed; `action` is what the delivery policy decided for its reason."""

    event_type = EventType.SHIPMENT_DELIVERY_FAILED
    attempt: int  # 1 for the first attempt
    reason: FailureReason
    action: str  # reattempt, hold_and_contact or return_to_sender


class ShipmentReattemptScheduled(_ShipmentEvent, frozen=True, kw_only=True):
    event_type = EventType.SHIPMENT_REATTEMPT_SCHEDULED
    failure_reason: FailureReason
    next_attempt_on: datetime


class ShipmentDelivered(_ShipmentEvent, frozen=True, kw_only=True):
    event_type = EventType.SHIPMENT_DELIVERED
    delivered_at: datetime


class ShipmentReturnToSenderDecided(_ShipmentEvent, frozen=True, kw_only=True):
    """The delivery policy sends the parcel back (refused, or too many failed attempts)."""

    event_type = EventType.SHIPMENT_RETURN_TO_SENDER_DECIDED
    why: str


class ShipmentReturningToSender(_ShipmentEvent, frozen=True, kw_only=True):
    event_type = EventType.SHIPMENT_RETURNING_TO_SENDER
    failure_reason: FailureReason | None = None  # None when the courier turned it back on its own


class ShipmentReturnedToSender(_ShipmentEvent, frozen=True, kw_only=True):
    """Back at the location it left from: its units are on hand again, a return is opened."""

    event_type = EventType.SHIPMENT_RETURNED_TO_SENDER
    returned_at: datetime


class ShipmentLost(_ShipmentEvent, frozen=True, kw_only=True):
    """The courier declared the parcel lost: final; the shop claims it and replaces or refunds."""

    event_type = EventType.SHIPMENT_LOST


class ShipmentPackUndone(_ShipmentEvent, frozen=True, kw_only=True):
    """A pack was taken back because the courier is misconfigured (refused the shop's
    credentials, or nothing answers at its address): the shipment is as it was before the pack,
    `setting` names what to fix before packing again."""

    event_type = EventType.SHIPMENT_PACK_UNDONE
    courier: str
    setting: str
    reason: str


class TaskCreated(_ShipmentEvent, frozen=True, kw_only=True):
    """Someone must act on the shipment (call the customer about a held parcel)."""

    event_type = EventType.TASK_CREATED
    kind: str  # contact_customer


class TaskClosed(EventPayload, frozen=True, kw_only=True):
    """An agent closed a task (the subject is the task; its shipment, if any, is named)."""

    event_type = EventType.TASK_CLOSED
    subject = SubjectType.TASK
    kind: str
    shipment_id: str | None
    closed_by: str
    note: str | None = None


PAYLOADS: tuple[type[EventPayload], ...] = (
    ShipmentCreated,
    ShipmentCancelled,
    ShipmentPicked,
    ShipmentPacked,
    ShipmentLabelCreated,
    ShipmentVoucherRejected,
    ShipmentVoucherDeadLettered,
    ShipmentShipped,
    ShipmentInTransit,
    ShipmentOutForDelivery,
    ShipmentDeliveryFailed,
    ShipmentReattemptScheduled,
    ShipmentDelivered,
    ShipmentReturnToSenderDecided,
    ShipmentReturningToSender,
    ShipmentReturnedToSender,
    ShipmentLost,
    ShipmentPackUndone,
    TaskCreated,
    TaskClosed,
)

__all__ = [
    "ShipmentCancelled",
    "ShipmentCreated",
    "ShipmentDelivered",
    "ShipmentDeliveryFailed",
    "ShipmentInTransit",
    "ShipmentLabelCreated",
    "ShipmentLost",
    "ShipmentOutForDelivery",
    "ShipmentPackUndone",
    "ShipmentPacked",
    "ShipmentPicked",
    "ShipmentReattemptScheduled",
    "ShipmentReturnToSenderDecided",
    "ShipmentReturnedToSender",
    "ShipmentReturningToSender",
    "ShipmentShipped",
    "ShipmentVoucherDeadLettered",
    "ShipmentVoucherRejected",
    "TaskClosed",
    "TaskCreated",
]
