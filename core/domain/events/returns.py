"""Events of returns (RMA): requested, decided, on the way back, received and resolved."""

from __future__ import annotations

import enum

import msgspec

from core.domain.events.base import EventPayload, EventType, SubjectType


class _ReturnEvent(EventPayload, frozen=True, kw_only=True):
    subject = SubjectType.RETURN


class ReturnRequested(_ReturnEvent, frozen=True, kw_only=True):
    """A customer asked to return units; the returns policy gave its verdict at once."""

    event_type = EventType.RETURN_REQUESTED
    verdict: str  # a ReturnVerdict value: approved, pending_review or declined
    reason: str | None


class _ReturnDecided(_ReturnEvent, frozen=True, kw_only=True):
    by: str  # who decided
    reason: str | None


class ReturnApproved(_ReturnDecided, frozen=True, kw_only=True):
    event_type = EventType.RETURN_APPROVED


class ReturnDeclined(_ReturnDecided, frozen=True, kw_only=True):
    event_type = EventType.RETURN_DECLINED


class ReturnLabelRequested(_ReturnEvent, frozen=True, kw_only=True):
    """A return shipment was made; its courier voucher is being created."""

    event_type = EventType.RETURN_LABEL_REQUESTED
    shipment_id: str


class ReturnInTransit(_ReturnEvent, frozen=True, kw_only=True):
    """The courier has the return parcel."""

    event_type = EventType.RETURN_IN_TRANSIT


class ReturnOrigin(enum.StrEnum):
    CUSTOMER = "customer"  # the customer sent it back
    FAILED_DELIVERY = "failed_delivery"  # the courier brought it back after failed deliveries


class ReturnReceived(_ReturnEvent, frozen=True, kw_only=True):
    event_type = EventType.RETURN_RECEIVED
    lines: dict[str, int] = msgspec.field(default_factory=dict)  # SKU → units received
    by: str | None = None  # who received it; None for a parcel back from the courier
    origin: ReturnOrigin = ReturnOrigin.CUSTOMER


class _ReturnResolved(_ReturnEvent, frozen=True, kw_only=True):
    refund: int  # minor units refunded or released
    store_credit: int  # minor units given as store credit
    notes: list[str]


class ReturnResolutionPending(_ReturnResolved, frozen=True, kw_only=True):
    """Part of the resolution could not be made yet (a replacement out of stock); see `notes`."""

    event_type = EventType.RETURN_RESOLUTION_PENDING


class ReturnCompleted(_ReturnResolved, frozen=True, kw_only=True):
    event_type = EventType.RETURN_COMPLETED


PAYLOADS: tuple[type[EventPayload], ...] = (
    ReturnRequested,
    ReturnApproved,
    ReturnDeclined,
    ReturnLabelRequested,
    ReturnInTransit,
    ReturnReceived,
    ReturnResolutionPending,
    ReturnCompleted,
)

__all__ = [
    "ReturnApproved",
    "ReturnCompleted",
    "ReturnDeclined",
    "ReturnInTransit",
    "ReturnLabelRequested",
    "ReturnOrigin",
    "ReturnReceived",
    "ReturnRequested",
    "ReturnResolutionPending",
]
