"""Skroutz orders taken in through `POST /v1/webhooks/channels/skroutz`, against the simulator:
the order is what the API says (never the webhook's body), one order however often the webhook
comes, accepted when reservable, rejected line by line with what is available otherwise
(nothing left reserved), cancelled with its stock released when Skroutz cancels or expires it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
import structlog

from core.catalogue.tables import InventoryLevel
from core.hookspecs.channels import ChannelOrderState, NoticeKind
from core.jobs.tables import Event
from core.orders.channel_tables import ChannelOrderLink
from core.orders.tables import Order
from core.runtime import Runtime
from plugins.channel_skroutz import SkroutzSmartCart
from plugins.channel_skroutz.simulator import Line, SkroutzSimulator
from tests.channels.conftest import seed
from tests.conftest import Api

pytestmark = pytest.mark.timeout(120)
WEBHOOK = "/v1/webhooks/channels/skroutz"
MUGS_AND_TEA = [Line("MUG-BLUE", 2, 1250), Line("TEA-GREEN-100G", 1, 890)]


async def deliver(
    api: Api, skroutz: SkroutzSimulator, code: str, kind: NoticeKind = NoticeKind.NEW_ORDER, *, tampered: bool = False
) -> Any:
    headers, body = skroutz.market.webhook_for(code, kind, tampered=tampered)
    return await api.post(WEBHOOK, content=body, headers=headers, as_=None)


async def reserved() -> dict[tuple[str, str], int]:
    rows = await InventoryLevel.select(InventoryLevel.location, InventoryLevel.sku, InventoryLevel.reserved)
    return {(r["location"], r["sku"]): r["reserved"] for r in rows if r["reserved"]}


async def event_types(order_id: str | None = None, subject_id: str | None = None) -> list[str]:
    query = Event.select(Event.type).order_by(Event.id)
    if order_id:
        query = query.where(Event.order_id == order_id)
    if subject_id:
        query = query.where(Event.subject_id == subject_id)
    return [r["type"] for r in await query]


async def test_a_webhook_that_lies_about_quantities_reserves_what_the_api_says(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    await seed(api, {("WH-ATH", "MUG-BLUE"): 5, ("WH-ATH", "TEA-GREEN-100G"): 10})
    code = skroutz.market.place_order(MUGS_AND_TEA)
    answer = await deliver(api, skroutz, code, tampered=True)  # the body says 6 mugs and 3 teas
    assert answer.status_code == 200, answer.text
    outcome = answer.json()
    assert (outcome["state"], outcome["answer"], outcome["answer_status"], outcome["duplicate"]) == (
        "accepted",
        "accept",
        "sent",
        False,
    )
    order = (await api.get(f"/v1/orders/{outcome['order_id']}", as_="ops")).json()
    assert (order["channel"], order["external_ref"], order["status"]) == ("skroutz", code, "confirmed")
    assert [(ln["sku"], ln["qty"], ln["qty_reserved"]) for ln in order["lines"]] == [
        ("MUG-BLUE", 2, 2),
        ("TEA-GREEN-100G", 1, 1),
    ]
    assert await reserved() == {("WH-ATH", "MUG-BLUE"): 2, ("WH-ATH", "TEA-GREEN-100G"): 1}
    assert order["shipping_address"]["line1"] == "Εγνατίας 45"
    # Accepted with the Athens warehouse's own pickup address (matched by postcode and street),
    # the earliest window offered, and the parcels of the packaging plan.
    assert skroutz.market.view(code)["acceptance"] == {
        "pickup_location": "YlpD0KROym",
        "pickup_window": 1,
        "number_of_parcels": 1,
    }
    assert await event_types(order["id"]) == [
        "order.placed",
        "channel_order.accepted",
        "order.confirmed",
    ]
    confirmed = await Event.select(Event.payload).where(Event.type == "order.confirmed").first()
    assert confirmed is not None and '"channel"' in str(confirmed["payload"])


async def test_the_same_webhook_three_times_is_one_order_accepted_once(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    await seed(api, {("WH-ATH", "MUG-BLUE"): 5, ("WH-ATH", "TEA-GREEN-100G"): 10})
    code = skroutz.market.place_order(MUGS_AND_TEA)
    answers = await asyncio.gather(*(deliver(api, skroutz, code) for _ in range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True, True]
    assert len({a.json()["order_id"] for a in answers}) == 1
    again = await deliver(api, skroutz, code)  # Skroutz's "resend" button, after everything settled
    assert again.json()["duplicate"] is True and again.json()["answer_status"] == "sent"
    orders = await Order.select(Order.id).where(Order.external_ref == code)
    assert len(orders) == 1
    assert await reserved() == {("WH-ATH", "MUG-BLUE"): 2, ("WH-ATH", "TEA-GREEN-100G"): 1}
    assert len(skroutz.market.calls_to("accept", code)) == 1
    assert (await event_types(orders[0]["id"])).count("order.placed") == 1


@pytest.mark.parametrize(
    ("stock", "expected_lines"),
    [
        # one mug of two left: reason 4 ("limited pieces") with the quantity available
        ({("WH-ATH", "MUG-BLUE"): 1, ("WH-ATH", "TEA-GREEN-100G"): 10}, [("MUG-BLUE", 4, 1)]),
        # none at all: reason 1 ("out of stock"); the tea is short too, in another location
        ({("ST-CHQ", "TEA-GREEN-100G"): 0}, [("MUG-BLUE", 1, None), ("TEA-GREEN-100G", 1, None)]),
    ],
)
async def test_an_unreservable_order_is_rejected_with_the_available_quantity(
    api: Api,
    runtime: Runtime,
    skroutz: SkroutzSimulator,
    skroutz_channel: SkroutzSmartCart,
    stock: dict[tuple[str, str], int],
    expected_lines: list[tuple[str, int, int | None]],
) -> None:
    await seed(api, stock)
    code = skroutz.market.place_order(MUGS_AND_TEA)
    answer = await deliver(api, skroutz, code)
    assert answer.status_code == 200, answer.text
    outcome = answer.json()
    assert (outcome["state"], outcome["answer"], outcome["answer_status"], outcome["order_id"]) == (
        "rejected",
        "reject",
        "sent",
        None,
    )
    assert await reserved() == {}  # nothing was reserved, not even for the lines in stock
    assert await Order.count().where(Order.external_ref == code) == 0
    ids = {line["id"]: line["shop_uid"] for line in skroutz.market.orders[code].lines}
    sent = skroutz.market.view(code)["rejection"]["line_items"]
    assert [(ids[i["id"]], i["reason_id"], i.get("available_quantity")) for i in sent] == expected_lines
    assert await event_types(subject_id=f"skroutz:{code}") == ["channel_order.rejected"]
    again = await deliver(api, skroutz, code)  # a redelivery changes nothing
    assert again.json()["duplicate"] is True and len(skroutz.market.calls_to("reject", code)) == 1


async def test_a_product_we_do_not_sell_is_rejected_as_out_of_stock(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    await seed(api, {("WH-ATH", "MUG-BLUE"): 5})
    code = skroutz.market.place_order([Line("MUG-BLUE", 1, 1250), Line("DISCONTINUED-9", 1, 500)])
    outcome = (await deliver(api, skroutz, code)).json()
    assert (outcome["state"], outcome["order_id"]) == ("rejected", None)
    [item] = skroutz.market.view(code)["rejection"]["line_items"]
    assert item["id"] == skroutz.market.orders[code].lines[1]["id"] and item["reason_id"] == 1
    assert await reserved() == {}


@pytest.mark.parametrize("how", ["cancelled", "expired"])
async def test_skroutz_taking_the_order_back_cancels_it_and_releases_the_stock(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart, how: str
) -> None:
    await seed(api, {("WH-ATH", "MUG-BLUE"): 5, ("WH-ATH", "TEA-GREEN-100G"): 10})
    code = skroutz.market.place_order(MUGS_AND_TEA)
    if how == "expired":  # our acceptance never got through, and nobody answered in time
        skroutz.market.fail_next(1, "ok")  # the read goes through, the acceptance does not
        skroutz.market.fail_next(1)
    first = (await deliver(api, skroutz, code)).json()
    assert first["order_id"] and await reserved()
    if how == "cancelled":
        assert first["state"] == "accepted"
        skroutz.market.set_state(code, ChannelOrderState.CANCELLED)  # the customer cancelled
    else:
        assert (first["state"], first["answer_status"]) == ("open", "pending")
        skroutz.market.clock.advance(timedelta(hours=7))  # type: ignore[attr-defined]
    answer = await deliver(api, skroutz, code, NoticeKind.ORDER_UPDATED)
    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == how
    order = (await api.get(f"/v1/orders/{first['order_id']}", as_="ops")).json()
    assert (order["status"], order["cancel_reason"]) == ("cancelled", f"{how} at skroutz")
    assert await reserved() == {}
    link = await ChannelOrderLink.select().where(ChannelOrderLink.external_id == code).first()
    assert link is not None and link["state"] == how
    assert link["answer_status"] == ("sent" if how == "cancelled" else "moot")
    cancelled = await Event.select(Event.payload).where(Event.type == "order.cancelled").first()
    assert cancelled is not None and '"by":"skroutz"' in str(cancelled["payload"]).replace(" ", "")
    again = await deliver(api, skroutz, code, NoticeKind.ORDER_UPDATED)  # redelivered: nothing more
    assert again.status_code == 200
    assert (await event_types(order["id"])).count("order.cancelled") == 1


async def test_an_order_first_seen_already_cancelled_reserves_nothing(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    await seed(api, {("WH-ATH", "MUG-BLUE"): 5, ("WH-ATH", "TEA-GREEN-100G"): 10})
    code = skroutz.market.place_order(MUGS_AND_TEA)
    skroutz.market.set_state(code, ChannelOrderState.CANCELLED)
    outcome = (await deliver(api, skroutz, code)).json()  # the new_order webhook came late
    assert (outcome["state"], outcome["order_id"], outcome["answer"]) == ("cancelled", None, None)
    assert await reserved() == {} and skroutz.market.calls_to("accept") == []


async def test_what_is_not_a_skroutz_webhook_is_a_clear_4xx(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    for body in (b"", b"not json", b"{}", b'{"event_type": "new_order", "order": {"code": "../../x"}}'):
        refused = await api.post(WEBHOOK, content=body, as_=None)
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"].endswith("/channel-webhook")
    unknown_channel = await api.post("/v1/webhooks/channels/nowhere", content=b"{}", as_=None)
    assert unknown_channel.status_code == 404 and "skroutz" in unknown_channel.json()["detail"]
    forged = b'{"event_type": "new_order", "order": {"code": "000000-0000000"}}'
    missing = await api.post(WEBHOOK, content=forged, as_=None)
    assert missing.status_code == 404 and "000000-0000000" in missing.json()["detail"]


async def test_skroutz_down_answers_503_so_it_delivers_again(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    await seed(api, {("WH-ATH", "MUG-BLUE"): 5, ("WH-ATH", "TEA-GREEN-100G"): 10})
    code = skroutz.market.place_order(MUGS_AND_TEA)
    skroutz.market.fail_next()
    down = await deliver(api, skroutz, code)
    assert down.status_code == 503 and down.headers["content-type"].startswith("application/problem+json")
    assert await Order.count().where(Order.external_ref == code) == 0
    assert (await deliver(api, skroutz, code)).json()["state"] == "accepted"


async def test_an_order_the_catalogue_refuses_is_a_clear_422_and_a_logged_error(
    api: Api, runtime: Runtime, skroutz: SkroutzSimulator, skroutz_channel: SkroutzSmartCart
) -> None:
    await seed(api, {("WH-ATH", "MUG-BLUE"): 5})
    dollars = {"sku": "MUG-USD", "name": "Mug", "price": {"amount": 1500, "currency": "USD"}}
    assert (await api.post("/v1/products", json=dollars, as_="ops")).status_code == 201
    assert (await api.put("/v1/inventory/WH-ATH/MUG-USD", json={"on_hand": 5}, as_="ops")).status_code == 200
    code = skroutz.market.place_order([Line("MUG-BLUE", 1, 1250), Line("MUG-USD", 1, 1500)])
    with structlog.testing.capture_logs() as logs:
        refused = await deliver(api, skroutz, code)
    assert refused.status_code == 422 and "currencies" in refused.json()["detail"]
    [failed] = [e for e in logs if e["event"] == "channel.intake_failed"]
    assert failed["external_id"] == code and failed["log_level"] == "error"
    assert await reserved() == {} and await ChannelOrderLink.count() == 0
