"""Phone orders paid through a payment link: the order waits reserved and unrouted; the link is
the Stripe simulator's hosted Checkout page; paid there, the webhooks — delivered twice and out
of order — confirm and route the order once. One open link per order; a new one after expiry;
409 for an order paid or paid otherwise, 422 for a provider without links."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx

from core.db.database import utcnow
from core.hookspecs.payments import PaymentLink, PaymentLinkRequest, PaymentLinks, ProviderUnavailable
from core.jobs.tables import Event
from core.payments.tables import PaymentLinkRecord
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.psp_cod import CashOnDelivery
from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.simulator.simulator import StripeSimulator
from plugins.psp_stripe.webhooks import read_event
from tests.conftest import Api
from tests.payments.conftest import PRICE, SKU, ProcessorPlugin, Shop


async def link(api: Api, order_id: str, provider: str = "stripe", as_: str = "agent") -> Any:
    return await api.post(f"/v1/orders/{order_id}/payment-link", json={"provider": provider}, as_=as_)


async def count(order_id: str, event_type: str) -> int:
    found: int = await Event.count().where((Event.order_id == order_id) & (Event.type == event_type))
    return found


def about(event: dict[str, Any], session_id: str, intent_id: str) -> bool:
    obj = event["data"]["object"]
    return obj["id"] in (session_id, intent_id) or obj.get("payment_intent") == intent_id


async def test_a_phone_order_is_confirmed_and_routed_once_when_paid_through_its_link(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor, worker: Runtime
) -> None:
    order = await shop.order(None, qty=2, channel="phone")
    assert order["status"] == "pending_payment"
    assert sum(r["qty"] for r in order["reservations"]) == 2
    made = await link(api, order["id"])
    assert made.status_code == 201, made.text
    first = made.json()
    assert stripe_sim.base_url is not None
    assert first["url"].startswith(f"{stripe_sim.base_url}/_simulator/checkout/cs_test_")
    assert first["expires_at"] > utcnow().isoformat()
    again = await link(api, order["id"], as_="ops")
    assert again.status_code == 200, again.text
    assert again.json() == first  # the open link, not a second one
    await shop.settled()
    assert (await shop.get_order(order["id"]))["status"] == "pending_payment"  # not routed before it is paid

    async with httpx.AsyncClient(follow_redirects=False) as browser:
        page = await browser.get(first["url"])
        assert page.status_code == 200 and "Black tee M" in page.text and "Pay €25.00" in page.text
        paid = await browser.post(f"{first['url']}/pay", data={"card": "pm_card_visa"})
    assert paid.status_code == 303
    assert f"order={order['id']}&paid=1" in paid.headers["location"]

    session = next(e["data"]["object"] for e in stripe_sim.events if e["type"] == "checkout.session.completed")
    assert (session["amount_total"], session["currency"]) == (2 * PRICE, "eur")
    assert session["metadata"]["payment_id"] == first["payment_id"]
    intent_id = session["payment_intent"]
    ours = [e for e in stripe_sim.events if about(e, session["id"], intent_id)]
    assert {e["type"] for e in ours} >= {"checkout.session.completed", "payment_intent.amount_capturable_updated"}
    # Out of order (the session's completion first) and each twice.
    statuses = await shop.deliver(stripe_sim, list(reversed(ours)), copies=2, seed=3)
    assert set(statuses) == {200}
    await shop.settled()

    after = await shop.get_order(order["id"])
    assert after["status"] == "routed"
    [payment] = after["payments"]
    assert (payment["id"], payment["psp_reference"]) == (first["payment_id"], intent_id)
    assert (payment["status"], payment["authorized"], payment["captured"]) == ("authorized", 2 * PRICE, 0)
    assert await count(order["id"], "order.confirmed") == 1
    assert await count(order["id"], "payment.link_created") == 1  # asked twice, made once
    assert await count(order["id"], "order.routed") == 1
    assert len(after["shipments"]) == 1

    # The same webhooks once more change nothing; a link for a paid order is a conflict.
    await shop.deliver(stripe_sim, ours, copies=1)
    await shop.settled()
    assert await count(order["id"], "order.routed") == 1
    refused = await link(api, order["id"])
    assert refused.status_code == 409, refused.text
    assert "paid already" in refused.json()["detail"]


async def test_an_expired_link_is_replaced_on_the_same_payment(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor
) -> None:
    order = await shop.order(None, qty=1, channel="phone")
    first = (await link(api, order["id"])).json()
    async with shop.runtime.db.write():  # the link's lifetime ran out
        await PaymentLinkRecord.update({PaymentLinkRecord.expires_at: utcnow() - timedelta(minutes=1)}).where(
            PaymentLinkRecord.id == first["id"]
        )
    made = await link(api, order["id"])
    assert made.status_code == 201, made.text
    second = made.json()
    assert second["id"] != first["id"] and second["url"] != first["url"]
    assert second["payment_id"] == first["payment_id"]
    assert len((await shop.get_order(order["id"]))["payments"]) == 1
    assert len(stripe_sim.ledger.checkout_sessions) == 2


async def test_links_are_refused_when_they_cannot_help(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor
) -> None:
    phone = await shop.order(None, qty=1, channel="phone")
    no_links = await link(api, phone["id"], provider="cod")
    assert no_links.status_code == 422, no_links.text
    assert "cod" in no_links.json()["detail"]
    unknown = await link(api, phone["id"], provider="nopay")
    assert unknown.status_code == 422, unknown.text
    assert (await link(api, "ord_missing")).status_code == 404
    assert (await link(api, phone["id"], as_="storefront")).status_code == 403

    web = await shop.order("stripe", qty=1)  # the storefront started a card payment
    refused = await link(api, web["id"])
    assert refused.status_code == 409, refused.text
    assert "started by the storefront" in refused.json()["detail"]

    cancelled = await shop.order(None, qty=1, channel="phone")
    ok = await api.post(f"/v1/orders/{cancelled['id']}/cancel", json={}, as_="ops")
    assert ok.status_code == 200, ok.text
    refused = await link(api, cancelled["id"])
    assert refused.status_code == 409 and "cancelled" in refused.json()["detail"]

    store = {"code": "STORE-ATH", "name": "Athens store", "type": "store", "ships": False}
    assert (await api.post("/v1/locations", json=store, as_="ops")).status_code == 201
    assert (await api.put(f"/v1/inventory/STORE-ATH/{SKU}", json={"on_hand": 5}, as_="ops")).status_code == 200
    sold = await api.post(
        "/v1/orders",
        json={
            "channel": "store",
            "location": "STORE-ATH",
            "customer": {"id": phone["customer_id"]},
            "lines": [{"sku": SKU, "qty": 1}],
        },
        as_="storefront",
    )
    assert sold.status_code == 201, sold.text
    refused = await link(api, sold.json()["id"])
    assert refused.status_code == 409 and "paid already" in refused.json()["detail"]
    assert not await PaymentLinkRecord.exists()


class HostedPages(CashOnDelivery):
    """A PSP of a third party offering payment links (no Stripe involved), down when told."""

    name = "paylink"

    def __init__(self) -> None:
        self.requests: list[PaymentLinkRequest] = []
        self.down = False

    async def create_payment_link(self, request: PaymentLinkRequest) -> PaymentLink:
        self.requests.append(request)
        if self.down:
            raise ProviderUnavailable("paylink timed out")
        return PaymentLink(
            url=f"https://pay.example/{request.idempotency_key}",
            expires_at=utcnow() + timedelta(hours=1),
            provider_ref=f"pl_{request.idempotency_key}",
        )


async def test_any_processor_declaring_payment_links_makes_them_and_a_retry_reuses_the_key(
    api: Api, shop: Shop, runtime: Runtime
) -> None:
    pages = HostedPages()
    assert isinstance(pages, PaymentLinks)
    with inline_plugin(runtime.host, ProcessorPlugin(pages), "paylink-under-test"):
        order = await shop.order(None, qty=3, channel="phone")
        pages.down = True
        down = await link(api, order["id"], provider="paylink")
        assert down.status_code == 503, down.text
        pages.down = False
        made = await link(api, order["id"], provider="paylink")
        assert made.status_code == 201, made.text
        again = await link(api, order["id"], provider="paylink")
        assert again.status_code == 200 and again.json() == made.json()
    first, retried = pages.requests  # the open link was answered from the ledger, not asked again
    assert retried.idempotency_key == first.idempotency_key  # the same page, never a second one
    assert (retried.amount, retried.currency) == (3 * PRICE, "EUR")
    assert [(ln.sku, ln.qty, ln.unit_amount) for ln in retried.lines] == [(SKU, 3, PRICE)]
    assert retried.metadata["payment_id"] == made.json()["payment_id"] == retried.payment_id
    assert retried.customer_email == "eleni@example.gr"
    assert f"order={order['id']}&paid=1" in retried.success_url


def test_a_completed_checkout_session_names_our_payment_and_its_payment_intent() -> None:
    body = json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": "checkout.session.completed",
            "created": 1_700_000_000,
            "data": {
                "object": {
                    "id": "cs_test_1",
                    "object": "checkout.session",
                    "status": "complete",
                    "payment_status": "paid",
                    "payment_intent": "pi_1",
                    "metadata": {"payment_id": "pay_1", "order_id": "ord_1"},
                }
            },
        }
    ).encode()
    event = read_event(body, utcnow())
    assert (event.event_type, event.psp_reference, event.merchant_reference) == (
        "checkout.session.completed",
        "pi_1",
        "pay_1",
    )
    assert event.attempt is None
