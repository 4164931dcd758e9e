"""The Skroutz connector passes the channel contract suite against the Smart Cart simulator, and
reads Skroutz's wire as it is: euro doubles to exact cents, window labels in Athens time, ids as
sent, a refused token named, settings checked."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import msgspec
import pytest

from core.hookspecs.channels import (
    Acceptance,
    ChannelOrderState,
    ChannelRejected,
    ChannelUnavailable,
    LineRejection,
    NoticeKind,
    Rejection,
)
from core.settings import read
from core.testing.asgi import Receive, Scope, Send, SimulatorApp, read_body, send_response, serve_in_thread
from core.testing.channel_contract import ChannelContract, ChannelHarness, MarketplaceView, SampleLine
from plugins.channel_skroutz import SkroutzSmartCart
from plugins.channel_skroutz import settings as skroutz_settings
from plugins.channel_skroutz.simulator import Line, SkroutzSimulator
from plugins.channel_skroutz.wire import ATHENS, MEDIA_TYPE, WireWindow, cents, window_times

pytestmark = pytest.mark.timeout(60)


def marketplace_view(skroutz: SkroutzSimulator, code: str) -> MarketplaceView:
    """What the simulator recorded, in the suite's terms."""
    seen = skroutz.market.view(code)
    acceptance = seen["acceptance"]
    rejection = seen["rejection"]
    return MarketplaceView(
        state=seen["state"],
        acceptance=Acceptance(
            pickup_location=str(acceptance["pickup_location"]),
            pickup_window=str(acceptance["pickup_window"]),
            parcels=acceptance["number_of_parcels"],
        )
        if acceptance
        else None,
        rejection=(
            Rejection(other_reason=rejection["rejection_reason_other"])
            if rejection and "rejection_reason_other" in rejection
            else Rejection(
                lines=[
                    LineRejection(
                        external_line_id=item["id"],
                        reason_id=str(item["reason_id"]),
                        available_qty=item.get("available_quantity"),
                    )
                    for item in rejection["line_items"]
                ]
            )
            if rejection
            else None
        ),
        ready=seen["ready"],
    )


class TestSkroutzContract(ChannelContract):
    @pytest.fixture
    async def channel_harness(self, skroutz: SkroutzSimulator) -> AsyncIterator[ChannelHarness]:
        assert skroutz.base_url is not None
        connector = SkroutzSmartCart(api_base=skroutz.base_url, token=skroutz.token, timeout_s=2.0)

        def place(lines: Sequence[SampleLine]) -> str:
            return skroutz.market.place_order([Line(s.sku, s.qty, s.unit_price) for s in lines])

        def tampered_webhook(code: str, kind: NoticeKind) -> tuple[dict[str, str], bytes]:
            return skroutz.market.webhook_for(code, kind, tampered=True)

        yield ChannelHarness(
            connector=connector,
            place_order=place,
            webhook=tampered_webhook,
            withdraw=skroutz.market.set_state,
            view=lambda code: marketplace_view(skroutz, code),
            inject_unavailable=skroutz.market.fail_next,
        )
        await connector.aclose()


async def test_a_timeout_is_unavailable_and_the_token_never_shows(skroutz: SkroutzSimulator) -> None:
    assert skroutz.base_url is not None
    code = skroutz.market.place_order([Line("MUG-BLUE", 1, 1250)])
    connector = SkroutzSmartCart(api_base=skroutz.base_url, token=skroutz.token, timeout_s=0.3)
    skroutz.market.fail_next(kind="timeout")
    try:
        with pytest.raises(ChannelUnavailable) as slow:
            await connector.fetch_order(code)
        assert (await connector.fetch_order(code)).state is ChannelOrderState.OPEN
    finally:
        await connector.aclose()
    assert skroutz.token not in str(slow.value) and skroutz.token not in repr(connector)


async def test_a_wrong_token_is_the_shops_to_fix_not_an_outage(skroutz: SkroutzSimulator) -> None:
    assert skroutz.base_url is not None
    code = skroutz.market.place_order([Line("MUG-BLUE", 1, 1250)])
    connector = SkroutzSmartCart(api_base=skroutz.base_url, token="a-revoked-token")
    try:
        with pytest.raises(ChannelRejected) as refused:
            await connector.fetch_order(code)
    finally:
        await connector.aclose()
    assert refused.value.code == "unauthorized"
    assert "EMPORIO_SKROUTZ_TOKEN" in str(refused.value) and "a-revoked-token" not in str(refused.value)


async def test_the_api_wants_skroutzs_media_type(skroutz: SkroutzSimulator) -> None:
    assert skroutz.base_url is not None
    code = skroutz.market.place_order([Line("MUG-BLUE", 1, 1250)])
    url = f"{skroutz.base_url}/merchants/ecommerce/orders/{code}"
    async with httpx.AsyncClient() as client:
        plain = await client.get(url, headers={"Authorization": f"Bearer {skroutz.token}"})
        right = await client.get(url, headers={"Authorization": f"Bearer {skroutz.token}", "Accept": MEDIA_TYPE})
    assert plain.status_code == 406 and plain.json()["errors"][0]["code"] == "not_acceptable"
    assert right.status_code == 200 and right.json()["order"]["line_items"][0]["shop_uid"] == "MUG-BLUE"


async def test_the_order_reads_as_skroutz_writes_it(skroutz: SkroutzSimulator) -> None:
    """Euro doubles (10.40, 25) become exact cents; ids go back as sent (string locations,
    integer windows and reasons); offered windows get their Athens times from the labels."""
    assert skroutz.base_url is not None
    code = skroutz.market.place_order([Line("MUG-BLUE", 2, 1040), Line("TEA-GREEN-100G", 1, 2500)])
    connector = SkroutzSmartCart(api_base=skroutz.base_url, token=skroutz.token)
    try:
        order = await connector.fetch_order(code)
        assert [(ln.sku, ln.qty, ln.unit_price) for ln in order.lines] == [
            ("MUG-BLUE", 2, 1040),
            ("TEA-GREEN-100G", 1, 2500),
        ]
        assert order.shipping_address is not None and order.shipping_address.line1 == "Εγνατίας 45"
        assert order.notes and order.customer.name == "Ελένη Νικολάου"
        options = order.accept_options
        assert options is not None and options.pickup_locations[0].id == "YlpD0KROym"
        first = options.pickup_windows[0]
        assert first.id == "1" and first.starts_at == datetime(2026, 3, 3, 15, 0, tzinfo=ATHENS)  # the day after START
        await connector.accept(code, Acceptance(pickup_location="YlpD0KROym", pickup_window="2", parcels=1))
    finally:
        await connector.aclose()
    [accept] = skroutz.market.calls_to("accept", code)
    assert accept.body == {"pickup_location": "YlpD0KROym", "pickup_window": 2, "number_of_parcels": 1}


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("15:00 - 18:00, Τρί 03/12/19", ("2019-12-03T15:00:00+02:00", "2019-12-03T18:00:00+02:00")),
        ("10:00 - 12:00, Τετ 04/12/19", ("2019-12-04T10:00:00+02:00", "2019-12-04T12:00:00+02:00")),
        ("09:00-12:00, Πέμ 02/07/26", ("2026-07-02T09:00:00+03:00", "2026-07-02T12:00:00+03:00")),  # summer time
        ("Αύριο το πρωί", (None, None)),
        ("18:00 - 15:00, Τρί 03/12/19", (None, None)),
        ("10:00 - 12:00, Τετ 31/02/26", (None, None)),
    ],
)
def test_window_labels_read_in_athens_time(label: str, expected: tuple[str | None, str | None]) -> None:
    starts, ends = window_times(WireWindow(id=1, label=label))
    assert (starts and starts.isoformat(), ends and ends.isoformat()) == expected


def test_a_window_with_from_and_to_needs_no_label() -> None:
    body = b'{"id": 3, "label": "", "from": "2026-02-27T09:00:00+02:00", "to": "2026-02-27T12:00:00+02:00"}'
    starts, ends = window_times(msgspec.json.decode(body, type=WireWindow))
    assert starts is not None and ends is not None and (ends - starts).seconds == 3 * 3600


def test_euro_amounts_become_exact_cents() -> None:
    assert [cents(Decimal("10.40")), cents(Decimal("25")), cents(Decimal("0.1"))] == [1040, 2500, 10]
    with pytest.raises(ChannelUnavailable):
        cents(Decimal("10.405"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("WH-ATH=YlpD0KROym", (("WH-ATH", "YlpD0KROym"),)),
        (" WH-ATH = YlpD0KROym , ST-CHQ=wgO1N22OaQ ,", (("WH-ATH", "YlpD0KROym"), ("ST-CHQ", "wgO1N22OaQ"))),
    ],
)
def test_pickup_locations_setting(raw: str, expected: Any) -> None:
    assert read(skroutz_settings.PICKUP_LOCATIONS, {"EMPORIO_SKROUTZ_PICKUP_LOCATIONS": raw}) == expected


@pytest.mark.parametrize("raw", ["WH-ATH", "=YlpD0KROym", "WH ATH=x", "WH-ATH=a,WH-ATH=b"])
def test_a_malformed_pickup_locations_setting_is_refused_naming_it(raw: str) -> None:
    with pytest.raises(ValueError, match="EMPORIO_SKROUTZ_PICKUP_LOCATIONS"):
        read(skroutz_settings.PICKUP_LOCATIONS, {"EMPORIO_SKROUTZ_PICKUP_LOCATIONS": raw})


def test_without_a_token_the_plugin_registers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMPORIO_SKROUTZ_TOKEN", raising=False)
    assert SkroutzSmartCart.from_env() is None
    monkeypatch.setenv("EMPORIO_SKROUTZ_TOKEN", "t0k3n")
    monkeypatch.setenv("EMPORIO_SKROUTZ_PICKUP_LOCATIONS", "WH-ATH=YlpD0KROym")
    connector = SkroutzSmartCart.from_env()
    assert connector is not None and connector.api_base == "https://api.skroutz.gr"
    assert connector.pickup_location_for("WH-ATH") == "YlpD0KROym" and connector.pickup_location_for("X") is None


class Receiver(SimulatorApp):
    """A webhook receiver that fails the first delivery with 500, as a busy shop might."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive) or b""
        self.received.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        await send_response(send, 500 if len(self.received) == 1 else 200, b"{}")


async def test_the_control_api_scripts_orders_and_skroutz_style_webhooks() -> None:
    receiver = Receiver()
    with serve_in_thread(receiver, name="webhook-receiver") as hook_url:
        simulator = SkroutzSimulator(webhook_url=hook_url + "/hook", retry_delay_s=0.05)
        with simulator.running() as base_url:
            async with httpx.AsyncClient(base_url=base_url + "/_simulator") as control:
                placed = await control.post(
                    "/orders", json={"lines": [{"sku": "MUG-BLUE", "qty": 2, "unit_price": 1250}]}
                )
                assert placed.status_code == 201, placed.text
                code = placed.json()["code"]
                cancelled = await control.post(f"/orders/{code}/state", json={"state": "cancelled"})
                assert cancelled.json()["state"] == "cancelled"
                assert (await control.get("/orders/nope")).status_code == 404
                assert (await control.post("/orders", json={"lines": []})).status_code == 400
    assert simulator.deliveries == [("new_order", 500), ("new_order", 200), ("order_updated", 200)]
    headers, body = receiver.received[-1]
    assert headers["user-agent"] == "Skroutz OrderNotifier v1"
    assert headers["content-type"] == "application/json; charset=utf-8"
    document = msgspec.json.decode(body)
    assert document["changes"] == {"state": {"old": "open", "new": "cancelled"}}
    assert document["order"]["code"] == code and "accept_options" not in document["order"]
