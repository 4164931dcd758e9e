"""Sales-channel connectors: marketplaces and shop platforms that push orders to Emporio
(Skroutz Smart Cart, Shopify, WooCommerce) and want to hear back (accept, reject, ready)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import msgspec

from core.hookspecs import hookspec
from core.hookspecs.couriers import Address


class ChannelOrderLine(msgspec.Struct, frozen=True, kw_only=True):
    sku: str
    qty: int
    unit_price: int
    external_line_id: str | None = None


class ChannelOrder(msgspec.Struct, frozen=True, kw_only=True):
    """An order as the channel sent it, normalised. `external_id` deduplicates redeliveries."""

    channel: str
    external_id: str
    placed_at: datetime
    currency: str
    customer_email: str | None
    customer_name: str
    lines: Sequence[ChannelOrderLine]
    shipping_address: Address | None = None
    payment_provider: str | None = None
    accept_by: datetime | None = None


class ChannelNotice(msgspec.Struct, frozen=True, kw_only=True):
    """A verified inbound webhook: a new order, or a change to one the channel already sent."""

    event: str  # "new_order" | "order_updated" | "order_cancelled"
    external_id: str
    order: ChannelOrder | None = None
    new_state: str | None = None


class RejectedLine(msgspec.Struct, frozen=True, kw_only=True):
    external_line_id: str
    reason: str
    available_qty: int = 0


@runtime_checkable
class SalesChannelConnector(Protocol):
    """What a channel plugin provides. `code` is the channel code orders carry ("skroutz")."""

    code: str
    name: str

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> ChannelNotice:
        """Verify (signature or shared secret) and parse; raise on a bad signature."""
        ...

    async def accept(self, external_id: str, parcels: int, pickup_location: str | None) -> None: ...

    async def reject(self, external_id: str, lines: Sequence[RejectedLine]) -> None: ...

    async def mark_ready(self, external_id: str) -> None: ...


# ---------------------------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------------------------


@hookspec
def register_sales_channels(register: Callable[[SalesChannelConnector], None]) -> None:
    """Contribute sales-channel connectors (marketplaces, shop platforms).

    When it is called:
        Once, when the channel registry is first built. The built-in channels `web`, `phone`
        and `store` need no connector; a connector adds one channel with its `code`.

    Args:
        register: call it with an object satisfying `SalesChannelConnector`; a duplicate `code`
            is refused.

    Returns:
        Nothing; all registrations are collected into `core.plugins.PluginHost.channels`.

    Example:
        ```python
        @hookimpl
        def register_sales_channels(register):
            register(SkroutzSmartCart(token=settings.skroutz_token))
        ```
    """
