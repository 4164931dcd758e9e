"""Events of orders from sales-channel connectors (marketplaces): what the shop answered the
marketplace, a call the marketplace refused, and the parcels reported ready for its courier.
The order itself is recorded like any other (`order.placed`, `order.confirmed` by `channel`,
`order.cancelled` by the channel when the marketplace takes it back)."""

from __future__ import annotations

import msgspec

from core.domain.events.base import EventPayload, EventType, SubjectType


class _ChannelOrderEvent(EventPayload, frozen=True, kw_only=True):
    subject = SubjectType.CHANNEL_ORDER
    channel: str  # the connector's channel code
    external_id: str  # the marketplace's order code


class ChannelOrderAccepted(_ChannelOrderEvent, frozen=True, kw_only=True):
    """The marketplace has the shop's acceptance: its courier comes to `pickup_location`."""

    event_type = EventType.CHANNEL_ORDER_ACCEPTED
    pickup_location: str
    pickup_window: str
    parcels: int


class RejectedLine(msgspec.Struct, frozen=True, kw_only=True):
    external_line_id: str
    sku: str
    requested: int
    available: int


class ChannelOrderRejected(_ChannelOrderEvent, frozen=True, kw_only=True):
    """The marketplace has the shop's rejection: the lines it could not serve, with what was left
    (nothing was reserved; the marketplace may offer the customer what is left)."""

    event_type = EventType.CHANNEL_ORDER_REJECTED
    lines: list[RejectedLine] = msgspec.field(default_factory=list)
    other_reason: str | None = None


class ChannelOrderRefused(_ChannelOrderEvent, frozen=True, kw_only=True):
    """The marketplace refused a call (`action`: accept, reject or mark_ready) with its error
    `code`; `state` is its order's state read again afterwards. A person decides what next."""

    event_type = EventType.CHANNEL_ORDER_REFUSED
    action: str
    code: str
    messages: list[str] = msgspec.field(default_factory=list)
    state: str | None = None


class ChannelOrderReady(_ChannelOrderEvent, frozen=True, kw_only=True):
    """Every parcel is packed and the marketplace was told its courier may collect them."""

    event_type = EventType.CHANNEL_ORDER_READY


PAYLOADS: tuple[type[EventPayload], ...] = (
    ChannelOrderAccepted,
    ChannelOrderRejected,
    ChannelOrderRefused,
    ChannelOrderReady,
)

__all__ = ["ChannelOrderAccepted", "ChannelOrderReady", "ChannelOrderRefused", "ChannelOrderRejected", "RejectedLine"]
