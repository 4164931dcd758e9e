"""Sales-channel connectors: marketplaces and shop platforms that take orders for the shop
(Skroutz Smart Cart, Shopify, WooCommerce) and must hear back (accepted, rejected, ready).

A connector speaks one marketplace's API; the core decides. The exchange, modelled on Skroutz
Smart Cart:

1. The marketplace posts a webhook; `parse_webhook` turns it into a `ChannelNotice` — which
   order, and what kind of news. The body is never trusted for the order itself (Skroutz's
   webhooks are unsigned): the core reads the order with `fetch_order`.
2. An `OPEN` order is reserved like any other, then accepted (`accept`: a pickup location and
   pickup window from the order's `accept_options`, and the number of parcels) before
   `accept_by`, or rejected line by line with the quantity still available (`reject`).
3. When the parcels are packed, `mark_ready` tells the marketplace's courier to come.
4. An order the marketplace takes back (`CANCELLED`, `EXPIRED`: `WITHDRAWN`) is cancelled in
   Emporio and its stock released.

Every call raises only `ChannelUnavailable` (transient: retry with backoff) or
`ChannelRejected` (refused as asked; `order_status` means the order moved on at the
marketplace — read it again), and `parse_webhook` only `ChannelWebhookInvalid`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Final, Protocol, runtime_checkable

import msgspec

from core.hookspecs import hookspec
from core.hookspecs.couriers import Address

__all__ = [
    "WITHDRAWN",
    "AcceptOptions",
    "Acceptance",
    "ChannelCustomer",
    "ChannelNotice",
    "ChannelOrder",
    "ChannelOrderLine",
    "ChannelOrderNotFound",
    "ChannelOrderState",
    "ChannelRejected",
    "ChannelUnavailable",
    "ChannelWebhookInvalid",
    "LineRejection",
    "NoticeKind",
    "PickupLocation",
    "PickupWindow",
    "RejectOptions",
    "Rejection",
    "RejectionReason",
    "SalesChannelConnector",
    "StateChange",
    "register_sales_channels",
]


class ChannelOrderState(enum.StrEnum):
    """An order's state at the marketplace (Skroutz's states; a connector maps its own)."""

    OPEN = "open"  # waiting for the shop to accept or reject it, until `accept_by`
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # by the customer or the marketplace
    EXPIRED = "expired"  # nobody accepted it in time
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    PARTIALLY_RETURNED = "partially_returned"
    RETURNED = "returned"


# The marketplace took the order back: the core cancels its order and releases the stock.
WITHDRAWN: Final = frozenset({ChannelOrderState.CANCELLED, ChannelOrderState.EXPIRED})


class NoticeKind(enum.StrEnum):
    NEW_ORDER = "new_order"
    ORDER_UPDATED = "order_updated"


class StateChange(msgspec.Struct, frozen=True, kw_only=True):
    old: ChannelOrderState | None
    new: ChannelOrderState


class ChannelNotice(msgspec.Struct, frozen=True, kw_only=True):
    """What a webhook announces: which order, and what kind of news. Deliberately no order
    content — the core reads the order with `fetch_order`. Redeliveries of one webhook give
    equal notices, so handling one twice changes nothing."""

    kind: NoticeKind
    external_id: str
    state_change: StateChange | None = None  # as the webhook claims it; fetch_order is the truth


class ChannelCustomer(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    email: str | None = None  # marketplaces often keep it to themselves
    phone: str | None = None


class ChannelOrderLine(msgspec.Struct, frozen=True, kw_only=True):
    external_line_id: str  # the marketplace's line id: rejections name it
    sku: str  # the shop's own SKU (Skroutz's `shop_uid`)
    name: str
    qty: Annotated[int, msgspec.Meta(ge=1)]
    unit_price: int  # minor units, tax included, in ChannelOrder.currency


class PickupLocation(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    label: str  # a readable address, to match with the shop's dispatching location


class PickupWindow(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    label: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None


class AcceptOptions(msgspec.Struct, frozen=True, kw_only=True):
    """The only values `accept` may send for this order, as the marketplace offers them."""

    pickup_locations: Sequence[PickupLocation]
    pickup_windows: Sequence[PickupWindow]
    parcel_counts: Sequence[int] = (1,)


class RejectionReason(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    label: str
    requires_available_quantity: bool = False  # the rejection must say how many are left


class RejectOptions(msgspec.Struct, frozen=True, kw_only=True):
    line_reasons: Sequence[RejectionReason]


class ChannelOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order as the marketplace holds it now, normalised. `external_id` is the marketplace's
    order code: it deduplicates redelivered webhooks."""

    channel: str
    external_id: str
    state: ChannelOrderState
    placed_at: datetime
    currency: str
    customer: ChannelCustomer
    lines: Sequence[ChannelOrderLine]
    shipping_address: Address | None = None
    accept_by: datetime | None = None  # after it the marketplace expires the order (Skroutz `expires_at`)
    dispatch_by: datetime | None = None  # the parcels must leave by then (Skroutz `dispatch_until`)
    accept_options: AcceptOptions | None = None  # while OPEN
    reject_options: RejectOptions | None = None  # while OPEN
    ready_for_dispatch: bool = False  # mark_ready was called (or the marketplace assumes it)
    courier_voucher_url: str | None = None  # the marketplace's own courier label, once accepted
    notes: str | None = None  # the customer's comments


class Acceptance(msgspec.Struct, frozen=True, kw_only=True):
    """How the shop accepts: ids taken from the order's `AcceptOptions`."""

    pickup_location: str
    pickup_window: str
    parcels: Annotated[int, msgspec.Meta(ge=1)] = 1


class LineRejection(msgspec.Struct, frozen=True, kw_only=True):
    external_line_id: str
    reason_id: str  # from the order's `RejectOptions.line_reasons`
    available_qty: Annotated[int, msgspec.Meta(ge=0)] | None = None  # required by some reasons


class Rejection(msgspec.Struct, frozen=True, kw_only=True):
    """Reject line by line, or the whole order for another reason; exactly one of the two."""

    lines: Sequence[LineRejection] = ()
    other_reason: str | None = None

    def __post_init__(self) -> None:
        if bool(self.lines) == bool(self.other_reason):
            raise ValueError("a rejection names the rejected lines, or gives another reason; exactly one")


class ChannelUnavailable(Exception):
    """Transient (timeout, 5xx, rate limited, unreadable answer): retried with backoff."""


class ChannelRejected(Exception):
    """The marketplace refused the call as asked (Skroutz's 4xx with `errors[].code`).

    `code` is the marketplace's error code; `ORDER_STATUS` ("order_status", Skroutz's 422 on
    accepting an order already accepted, cancelled or expired) means the order moved on: the
    core reads it again with `fetch_order` instead of retrying.
    """

    ORDER_STATUS: Final = "order_status"

    def __init__(self, message: str, *, external_id: str, code: str, messages: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.external_id = external_id
        self.code = code
        self.messages = tuple(messages)

    @property
    def order_moved_on(self) -> bool:
        return self.code == self.ORDER_STATUS


class ChannelOrderNotFound(ChannelRejected):
    """The marketplace knows no order with that code (a forged or misrouted webhook)."""


class ChannelWebhookInvalid(Exception):
    """Not a webhook of this marketplace (unreadable, no order code, bad signature): 400."""


@runtime_checkable
class SalesChannelConnector(Protocol):
    """What a channel plugin provides. `code` is the channel code orders carry ("skroutz")."""

    code: str
    name: str

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ChannelNotice:
        """Which order the webhook is about, and the kind of news; verify a signature when the
        marketplace signs. Raise `ChannelWebhookInvalid` for anything else. No I/O."""
        ...

    async def fetch_order(self, external_id: str) -> ChannelOrder:
        """The order as the marketplace holds it now; `ChannelOrderNotFound` if it has none."""
        ...

    async def accept(self, external_id: str, acceptance: Acceptance) -> None: ...

    async def reject(self, external_id: str, rejection: Rejection) -> None: ...

    async def mark_ready(self, external_id: str) -> None:
        """The parcels are packed: the marketplace's courier may come (Skroutz `set_as_ready`)."""
        ...


# ---------------------------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------------------------


@hookspec
def register_sales_channels(register: Callable[[SalesChannelConnector], None]) -> None:
    """Contribute sales-channel connectors (marketplaces, shop platforms).

    When it is called:
        Once, when the channel registry is first built (API start syncs the channel list). The
        built-in channels `web`, `phone` and `store` need no connector; a connector adds one
        channel with its `code`. `core.testing.channel_contract` is the suite a connector passes.

    Args:
        register: call it with an object satisfying `SalesChannelConnector` (`parse_webhook`,
            `fetch_order`, `accept`, `reject`, `mark_ready`); a duplicate `code` is refused.

    Returns:
        Nothing; all registrations are collected into `core.plugins.PluginHost.channels`.

    Example:
        ```python
        @hookimpl
        def register_sales_channels(register):
            register(SkroutzSmartCart(api_base=settings.skroutz_api_base, token=settings.skroutz_token))
        ```
    """
