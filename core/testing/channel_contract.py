"""The channel contract suite: what every sales-channel connector does, whatever its marketplace
(Skroutz Smart Cart, yours), beside the PSP and courier suites.

How to run it against your connector: subclass `ChannelContract` as ``Test…`` and give it a
``channel_harness`` fixture — your connector pointed at a simulator of the marketplace, and the
few levers the suite needs to play the marketplace's part::

    from core.testing.channel_contract import ChannelContract, ChannelHarness, MarketplaceView

    class TestSkroutzContract(ChannelContract):
        @pytest.fixture
        async def channel_harness(self, skroutz):   # your fixture serving the simulator
            connector = SkroutzSmartCart(api_base=skroutz.url, token=skroutz.token, timeout_s=1.0)
            yield ChannelHarness(
                connector=connector,
                place_order=skroutz.place_order,       # lines → the new order's code, state open
                webhook=skroutz.webhook_for,           # (code, kind) → (headers, body) it would POST
                withdraw=skroutz.set_state,            # (code, cancelled|expired)
                view=lambda code: skroutz.view(code),  # → MarketplaceView: what it recorded
                inject_unavailable=skroutz.fail_next,  # the next API call answers 503
            )
            await connector.aclose()

Then ``pytest tests/test_skroutz_contract.py``. Harness callables may be plain functions or
coroutine functions. The suite holds a connector to these rules:

* It satisfies `core.hookspecs.channels.SalesChannelConnector`; calls to the marketplace are
  coroutine functions, `parse_webhook` is not (it does no I/O).
* The webhook only names the order: the harness's bodies lie about quantities and prices, and
  `fetch_order` must still report what the marketplace holds, in minor units, with the accept
  and reject options of an open order and timezone-aware times.
* `accept`, `reject` and `mark_ready` reach the marketplace as sent; what it refuses comes back
  as `ChannelRejected` (its own error code kept: `order_status` for an order that moved on),
  outages as `ChannelUnavailable`, and the retry then goes through.
* Cancelled and expired orders are reported by webhook and `fetch_order`, and cannot be accepted.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeAlias, TypeVar, cast

import msgspec
import pytest

from core.hookspecs.channels import (
    WITHDRAWN,
    Acceptance,
    ChannelOrder,
    ChannelOrderNotFound,
    ChannelOrderState,
    ChannelRejected,
    ChannelUnavailable,
    ChannelWebhookInvalid,
    LineRejection,
    NoticeKind,
    Rejection,
    SalesChannelConnector,
)

__all__ = ["SAMPLE_LINES", "ChannelContract", "ChannelHarness", "MarketplaceView", "SampleLine"]

T = TypeVar("T")
MaybeAwaitable: TypeAlias = Awaitable[T] | T


class SampleLine(msgspec.Struct, frozen=True):
    sku: str
    qty: int
    unit_price: int  # minor units


# What `place_order` is asked for unless a test needs otherwise: two lines, one of two units.
SAMPLE_LINES: Final = (SampleLine("MUG-BLUE", 2, 1250), SampleLine("TEA-GREEN-100G", 1, 890))


class MarketplaceView(msgspec.Struct, frozen=True, kw_only=True):
    """What the marketplace recorded for an order, read from the simulator's side."""

    state: ChannelOrderState
    acceptance: Acceptance | None = None
    rejection: Rejection | None = None
    ready: bool = False


@dataclass(frozen=True, kw_only=True)
class ChannelHarness:
    """What a test class gives the suite through its ``channel_harness`` fixture.

    ``place_order(lines)`` opens an order at the marketplace and returns its code;
    ``webhook(code, kind)`` is the request the marketplace would send about it — with a body
    that lies about quantities and prices where the marketplace's bodies carry the order;
    ``withdraw(code, state)`` cancels or expires it at the marketplace; ``view(code)`` reads
    what the marketplace recorded; ``inject_unavailable()`` makes its next API call fail
    transiently (5xx or timeout); ``unknown_order`` is a code it has never issued.
    """

    connector: SalesChannelConnector
    place_order: Callable[[Sequence[SampleLine]], MaybeAwaitable[str]]
    webhook: Callable[[str, NoticeKind], MaybeAwaitable[tuple[Mapping[str, str], bytes]]]
    withdraw: Callable[[str, ChannelOrderState], MaybeAwaitable[None]]
    view: Callable[[str], MaybeAwaitable[MarketplaceView]]
    inject_unavailable: Callable[[], MaybeAwaitable[None]]
    unknown_order: str = "000000-0000000"


async def _resolve(value: MaybeAwaitable[T]) -> T:
    if isinstance(value, Awaitable):
        return cast(T, await value)
    return value


def _acceptance(order: ChannelOrder, parcels: int = 1) -> Acceptance:
    """The first location and the last window the marketplace offers (any offered pair is valid)."""
    options = order.accept_options
    assert options is not None, f"open order {order.external_id} came without accept_options"
    return Acceptance(
        pickup_location=options.pickup_locations[0].id,
        pickup_window=options.pickup_windows[-1].id,
        parcels=parcels,
    )


def _data(view: MarketplaceView) -> Any:
    """A view as plain data, compared so: a simulator may keep lines in a list, a test a tuple."""
    return msgspec.json.decode(msgspec.json.encode(view))


class ChannelContract:
    """Tests every sales-channel connector passes. Subclass it as ``Test…`` and provide
    ``channel_harness``."""

    @pytest.fixture
    def channel_harness(self) -> ChannelHarness:
        raise NotImplementedError(
            f"{type(self).__name__} must define a `channel_harness` fixture giving a ChannelHarness "
            "(see the docstring of core.testing.channel_contract)"
        )

    # --- helpers ------------------------------------------------------------------------------

    @staticmethod
    async def _open(h: ChannelHarness, lines: Sequence[SampleLine] = SAMPLE_LINES) -> ChannelOrder:
        code = await _resolve(h.place_order(lines))
        return await h.connector.fetch_order(code)

    @staticmethod
    async def _view(h: ChannelHarness, code: str) -> MarketplaceView:
        return await _resolve(h.view(code))

    # --- the protocol and the webhook ---------------------------------------------------------

    async def test_satisfies_the_connector_protocol(self, channel_harness: ChannelHarness) -> None:
        connector = channel_harness.connector
        assert isinstance(connector, SalesChannelConnector)
        assert re.fullmatch(r"[a-z][a-z0-9_-]*", connector.code), f"channel code {connector.code!r} is not a slug"
        assert connector.code not in ("web", "phone", "store"), "web, phone and store are the built-in channels"
        assert connector.name.strip()
        for method in ("fetch_order", "accept", "reject", "mark_ready"):
            assert inspect.iscoroutinefunction(getattr(connector, method)), f"{method} must be `async def`"
        assert not inspect.iscoroutinefunction(connector.parse_webhook), "parse_webhook does no I/O"

    async def test_a_new_order_webhook_names_the_order(self, channel_harness: ChannelHarness) -> None:
        h = channel_harness
        code = await _resolve(h.place_order(SAMPLE_LINES))
        headers, body = await _resolve(h.webhook(code, NoticeKind.NEW_ORDER))
        notice = h.connector.parse_webhook(headers, body)
        assert (notice.kind, notice.external_id) == (NoticeKind.NEW_ORDER, code)
        again = h.connector.parse_webhook(headers, body)  # redelivered: the same notice
        assert again == notice

    @pytest.mark.parametrize("body", [b"", b"not json", b"{}", b'{"order": {}}', b"[1, 2]"])
    async def test_parse_webhook_refuses_what_is_not_a_notice(
        self, channel_harness: ChannelHarness, body: bytes
    ) -> None:
        with pytest.raises(ChannelWebhookInvalid):
            channel_harness.connector.parse_webhook({"content-type": "application/json"}, body)

    # --- reading the order ----------------------------------------------------------------------

    async def test_the_order_is_read_from_the_marketplace_not_the_webhook(
        self, channel_harness: ChannelHarness
    ) -> None:
        h = channel_harness
        code = await _resolve(h.place_order(SAMPLE_LINES))
        headers, body = await _resolve(h.webhook(code, NoticeKind.NEW_ORDER))
        notice = h.connector.parse_webhook(headers, body)
        order = await h.connector.fetch_order(notice.external_id)
        assert (order.channel, order.external_id, order.state) == (h.connector.code, code, ChannelOrderState.OPEN)
        assert [(ln.sku, ln.qty, ln.unit_price) for ln in order.lines] == [
            (s.sku, s.qty, s.unit_price) for s in SAMPLE_LINES
        ]
        assert len({ln.external_line_id for ln in order.lines}) == len(order.lines), "line ids must be distinct"
        assert re.fullmatch(r"[A-Z]{3}", order.currency)
        assert order.customer.name.strip()
        for moment in (order.placed_at, order.accept_by, order.dispatch_by):
            assert moment is None or moment.utcoffset() is not None, f"{moment} has no time zone"
        assert order.accept_by is not None and order.accept_by > order.placed_at, "an open order expires"

    async def test_an_open_order_offers_its_accept_and_reject_options(self, channel_harness: ChannelHarness) -> None:
        order = await self._open(channel_harness)
        options = order.accept_options
        assert options is not None and options.pickup_locations and options.pickup_windows
        assert 1 in options.parcel_counts and all(n >= 1 for n in options.parcel_counts)
        for window in options.pickup_windows:
            if window.starts_at is not None and window.ends_at is not None:
                assert window.starts_at < window.ends_at and window.starts_at.utcoffset() is not None
        assert order.reject_options is not None and order.reject_options.line_reasons
        assert order.ready_for_dispatch is False

    async def test_fetching_an_unknown_order_is_not_found(self, channel_harness: ChannelHarness) -> None:
        h = channel_harness
        with pytest.raises(ChannelOrderNotFound) as missing:
            await h.connector.fetch_order(h.unknown_order)
        assert missing.value.external_id == h.unknown_order

    # --- accepting --------------------------------------------------------------------------------

    async def test_accept_sends_the_offered_location_window_and_parcels(self, channel_harness: ChannelHarness) -> None:
        h = channel_harness
        order = await self._open(h)
        assert order.accept_options is not None
        parcels = max(order.accept_options.parcel_counts)
        acceptance = _acceptance(order, parcels)
        await h.connector.accept(order.external_id, acceptance)
        recorded = await self._view(h, order.external_id)
        assert _data(recorded) == _data(MarketplaceView(state=ChannelOrderState.ACCEPTED, acceptance=acceptance))
        accepted = await h.connector.fetch_order(order.external_id)
        assert accepted.state is ChannelOrderState.ACCEPTED
        assert accepted.accept_options is None, "only an open order offers accept options"

    async def test_accepting_twice_is_refused_with_order_status(self, channel_harness: ChannelHarness) -> None:
        """What a retry after a lost answer meets: the core then reads the order, sees it accepted."""
        h = channel_harness
        order = await self._open(h)
        await h.connector.accept(order.external_id, _acceptance(order))
        with pytest.raises(ChannelRejected) as refused:
            await h.connector.accept(order.external_id, _acceptance(order))
        assert refused.value.order_moved_on and refused.value.code == ChannelRejected.ORDER_STATUS
        assert refused.value.external_id == order.external_id
        assert refused.value.messages, "the marketplace's messages are kept for the person who reads the log"

    async def test_accepting_with_a_window_not_offered_is_refused(self, channel_harness: ChannelHarness) -> None:
        h = channel_harness
        order = await self._open(h)
        offered = _acceptance(order)
        bogus = msgspec.structs.replace(offered, pickup_window="not-an-offered-window")
        with pytest.raises(ChannelRejected) as refused:
            await h.connector.accept(order.external_id, bogus)
        assert not refused.value.order_moved_on
        assert (await self._view(h, order.external_id)).state is ChannelOrderState.OPEN

    # --- rejecting --------------------------------------------------------------------------------

    async def test_reject_line_by_line_with_the_available_quantity(self, channel_harness: ChannelHarness) -> None:
        h = channel_harness
        order = await self._open(h)
        assert order.reject_options is not None
        counted = [r for r in order.reject_options.line_reasons if r.requires_available_quantity]
        assert counted, "a marketplace taking partial stock answers offers a reason with an available quantity"
        short = order.lines[0]
        rejection = Rejection(
            lines=[LineRejection(external_line_id=short.external_line_id, reason_id=counted[0].id, available_qty=1)]
        )
        await h.connector.reject(order.external_id, rejection)
        recorded = await self._view(h, order.external_id)
        assert _data(recorded) == _data(MarketplaceView(state=ChannelOrderState.REJECTED, rejection=rejection))
        assert (await h.connector.fetch_order(order.external_id)).state is ChannelOrderState.REJECTED

    async def test_a_reason_needing_the_available_quantity_without_it_is_refused(
        self, channel_harness: ChannelHarness
    ) -> None:
        h = channel_harness
        order = await self._open(h)
        assert order.reject_options is not None
        reason = next(r for r in order.reject_options.line_reasons if r.requires_available_quantity)
        line = LineRejection(external_line_id=order.lines[0].external_line_id, reason_id=reason.id)
        with pytest.raises(ChannelRejected):
            await h.connector.reject(order.external_id, Rejection(lines=[line]))
        assert (await self._view(h, order.external_id)).state is ChannelOrderState.OPEN

    async def test_reject_the_whole_order_for_another_reason(self, channel_harness: ChannelHarness) -> None:
        h = channel_harness
        order = await self._open(h)
        rejection = Rejection(other_reason="Το κατάστημα είναι κλειστό λόγω απογραφής")
        await h.connector.reject(order.external_id, rejection)
        recorded = await self._view(h, order.external_id)
        assert _data(recorded) == _data(MarketplaceView(state=ChannelOrderState.REJECTED, rejection=rejection))

    # --- ready for the courier ----------------------------------------------------------------

    async def test_mark_ready_after_accepting(self, channel_harness: ChannelHarness) -> None:
        h = channel_harness
        order = await self._open(h)
        with pytest.raises(ChannelRejected):  # nothing to collect before the shop accepted
            await h.connector.mark_ready(order.external_id)
        assert (await self._view(h, order.external_id)).ready is False
        await h.connector.accept(order.external_id, _acceptance(order))
        await h.connector.mark_ready(order.external_id)
        assert (await self._view(h, order.external_id)).ready is True
        assert (await h.connector.fetch_order(order.external_id)).ready_for_dispatch is True

    # --- the marketplace takes the order back -------------------------------------------------

    @pytest.mark.parametrize("state", sorted(WITHDRAWN))
    async def test_a_withdrawn_order_is_reported_and_cannot_be_accepted(
        self, channel_harness: ChannelHarness, state: ChannelOrderState
    ) -> None:
        h = channel_harness
        order = await self._open(h)
        await _resolve(h.withdraw(order.external_id, state))
        headers, body = await _resolve(h.webhook(order.external_id, NoticeKind.ORDER_UPDATED))
        notice = h.connector.parse_webhook(headers, body)
        assert (notice.kind, notice.external_id) == (NoticeKind.ORDER_UPDATED, order.external_id)
        assert notice.state_change is None or notice.state_change.new is state
        assert (await h.connector.fetch_order(order.external_id)).state is state
        with pytest.raises(ChannelRejected) as refused:
            await h.connector.accept(order.external_id, _acceptance(order))
        assert refused.value.order_moved_on

    # --- outages --------------------------------------------------------------------------------

    @pytest.mark.parametrize("operation", ["fetch_order", "accept", "reject", "mark_ready"])
    async def test_an_outage_is_unavailable_and_the_retry_goes_through(
        self, channel_harness: ChannelHarness, operation: str
    ) -> None:
        h = channel_harness
        order = await self._open(h)
        if operation == "mark_ready":
            await h.connector.accept(order.external_id, _acceptance(order))
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "fetch_order": lambda: h.connector.fetch_order(order.external_id),
            "accept": lambda: h.connector.accept(order.external_id, _acceptance(order)),
            "reject": lambda: h.connector.reject(order.external_id, Rejection(other_reason="out of stock")),
            "mark_ready": lambda: h.connector.mark_ready(order.external_id),
        }
        await _resolve(h.inject_unavailable())
        with pytest.raises(ChannelUnavailable):
            await calls[operation]()
        await calls[operation]()  # the marketplace is back: the same call succeeds
        expected = {
            "fetch_order": ChannelOrderState.OPEN,
            "accept": ChannelOrderState.ACCEPTED,
            "reject": ChannelOrderState.REJECTED,
            "mark_ready": ChannelOrderState.ACCEPTED,
        }
        view = await self._view(h, order.external_id)
        assert (view.state, view.ready) == (expected[operation], operation == "mark_ready")
