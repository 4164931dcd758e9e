"""A cancelled order's payment link can no longer be paid: cancelling expires the open link at
the PSP (the Stripe simulator's Checkout Session, whose hosted page then refuses payment), a PSP
outage on the expiry is retried, and money that arrives anyway — the link was paid before the
expiry reached Stripe, its webhooks come late — is released, never captured, and only once."""

from __future__ import annotations

import json
from typing import Any

import httpx

from core.domain.events.sentences import describe
from core.fulfilment.tables import Task
from core.hookspecs.payments import (
    AttemptStatus,
    LinkOutcome,
    MoneyMovement,
    MovementResult,
    PaymentLink,
    PaymentLinkRequest,
    ProviderPayment,
    ProviderRejected,
)
from core.jobs.tables import Event
from core.payments import links
from core.payments.snapshots import apply_snapshot
from core.payments.tables import Payment, PaymentLinkRecord
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.simulator.simulator import StripeSimulator
from tests.conftest import Api
from tests.orders_counter.test_payment_links import HostedPages, about, count, link
from tests.payments.conftest import PRICE, ProcessorPlugin, Shop


async def cancel(api: Api, order_id: str) -> None:
    done = await api.post(f"/v1/orders/{order_id}/cancel", json={"reason": "customer changed their mind"}, as_="ops")
    assert done.status_code == 200, done.text


async def link_row(link_id: str) -> dict[str, Any]:
    row = await PaymentLinkRecord.select().where(PaymentLinkRecord.id == link_id).first()
    assert row is not None
    return row


async def link_closed(shop: Shop, link_id: str) -> dict[str, Any]:
    """Wait until the worker closed the link (no longer `open` nor `expiring`); the row."""

    async def closed() -> bool:
        return (await link_row(link_id))["status"] not in ("open", "expiring")

    await shop.until(closed, within=60, what=f"payment link {link_id} to close")
    return await link_row(link_id)


async def expired_events(order_id: str) -> list[dict[str, Any]]:
    """The order's `payment.link_expired` events, their payloads decoded."""
    rows: list[dict[str, Any]] = await Event.select().where(
        (Event.order_id == order_id) & (Event.type == "payment.link_expired")
    )
    return [{**r, "payload": json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]} for r in rows]


def session_of(stripe_sim: StripeSimulator, url: str) -> Any:
    return stripe_sim.ledger.checkout_sessions[url.rsplit("/", 1)[-1]]


async def test_cancelling_an_order_expires_its_link_and_the_hosted_page_refuses_payment(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor, worker: Runtime
) -> None:
    order = await shop.order(None, qty=2, channel="phone")
    made = (await link(api, order["id"])).json()
    session = session_of(stripe_sim, made["url"])
    assert session.status == "open"

    await cancel(api, order["id"])
    row = await link_closed(shop, made["id"])
    assert (row["status"], row["expire_tries"]) == ("expired", 0)
    assert row["closed_at"] is not None and row["expire_requested_at"] is not None
    assert session.status == "expired"
    assert "checkout.session.expired" in [e["type"] for e in stripe_sim.events]
    async with httpx.AsyncClient() as browser:
        refused = await browser.post(f"{made['url']}/pay", data={"card": "pm_card_visa"})
    assert refused.status_code == 400 and "expired" in refused.text
    assert not any(e["type"] == "checkout.session.completed" for e in stripe_sim.events)

    [expired] = await expired_events(order["id"])
    assert expired["subject_id"] == made["payment_id"]
    assert expired["payload"]["outcome"] == "expired" and expired["payload"]["link_id"] == made["id"]
    told = describe("payment.link_expired", expired["payload"])
    assert told.en == "Payment link closed (stripe): the order was cancelled"
    # The order's cancellation delivered again (a sweep, a crash) asks Stripe nothing more.
    expiries = [r for r in stripe_sim.requests if r["path"].endswith("/expire")]
    assert len(expiries) == 1
    assert await links.sweep_expiring(shop.runtime) == 0
    assert await links.expire_link(shop.runtime, made["id"]) == "expired"
    assert len([r for r in stripe_sim.requests if r["path"].endswith("/expire")]) == 1


async def test_a_psp_outage_on_the_expiry_is_retried_until_stripe_expires_the_session(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor, worker: Runtime
) -> None:
    order = await shop.order(None, qty=1, channel="phone")
    made = (await link(api, order["id"])).json()
    stripe_sim.inject_faults("503", 2, path_contains="/expire")

    await cancel(api, order["id"])
    row = await link_closed(shop, made["id"])
    assert (row["status"], row["expire_tries"]) == ("expired", 2)
    assert session_of(stripe_sim, made["url"]).status == "expired"
    expiries = [r for r in stripe_sim.requests if r["path"].endswith("/expire")]
    assert [r["status"] for r in expiries] == [503, 503, 200]
    assert len(await expired_events(order["id"])) == 1
    assert not await Task.exists().where(Task.order_id == order["id"])


async def test_a_link_paid_before_the_expiry_and_its_late_webhooks_release_the_money_once(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor, worker: Runtime
) -> None:
    order = await shop.order(None, qty=2, channel="phone")
    made = (await link(api, order["id"])).json()
    session_id = made["url"].rsplit("/", 1)[-1]
    paid = stripe_sim.pay_checkout_session(session_id)  # the customer pays; the webhooks are late
    intent_id = paid["payment_intent"]

    await cancel(api, order["id"])
    row = await link_closed(shop, made["id"])
    assert row["status"] == "completed"  # Stripe refused the expiry; the session was complete
    [expired] = await expired_events(order["id"])
    assert expired["payload"]["outcome"] == "completed"
    assert await stripe_psp.expire_payment_link(session_id) is LinkOutcome.COMPLETED  # asked again: the same

    late = [e for e in stripe_sim.events if about(e, session_id, intent_id)]
    assert {e["type"] for e in late} >= {"checkout.session.completed", "payment_intent.amount_capturable_updated"}
    statuses = await shop.deliver(stripe_sim, list(reversed(late)), copies=2, seed=5)
    assert set(statuses) == {200}
    await shop.settled()

    payment = await shop.payment(made["payment_id"])
    assert payment["psp_reference"] == intent_id
    assert (payment["authorized"], payment["canceled"], payment["captured"]) == (2 * PRICE, 2 * PRICE, 0)
    [release] = payment["movements"]
    assert (release["kind"], release["status"], release["amount"]) == ("cancel", "succeeded", 2 * PRICE)
    assert release["idempotency_key"] == f"late-payment-cancel-{made['payment_id']}"
    intent = next(pi for pi in stripe_sim.payment_intents if pi["id"] == intent_id)
    assert intent["status"] == "canceled"
    assert not [r for r in stripe_sim.requests if "/capture" in r["path"]]  # never captured
    after = await shop.get_order(order["id"])
    assert after["status"] == "cancelled" and after["shipments"] == []
    assert await count(order["id"], "order.confirmed") == 0

    # Replayed: the webhooks once more, and the payment's authorisation event handled again.
    await shop.deliver(stripe_sim, late, copies=1)
    async with shop.runtime.db.write():
        await Event.update({Event.processed_at: None}).where(
            (Event.order_id == order["id"]) & (Event.type == "payment.authorized")
        )
    await shop.settled()
    again = await shop.payment(made["payment_id"])
    assert len(again["movements"]) == 1 and again["canceled"] == 2 * PRICE
    assert len([r for r in stripe_sim.requests if r["path"].endswith(f"{intent_id}/cancel")]) == 1
    assert await count(order["id"], "payment.cancel_requested") == 1


class StubbornPages(HostedPages):
    """A PSP that can expire its pages but refuses to, and refuses to release a payment."""

    name = "stubborn"

    async def expire_payment_link(self, provider_ref: str) -> LinkOutcome:
        raise ProviderRejected(f"page {provider_ref} is locked")

    async def cancel(self, movement: MoneyMovement) -> MovementResult:
        raise ProviderRejected("authorisation cannot be released")


async def test_providers_that_cannot_or_will_not_expire_and_a_failed_release_leave_ops_tasks(
    api: Api, shop: Shop, runtime: Runtime, worker: Runtime
) -> None:
    with inline_plugin(runtime.host, ProcessorPlugin(HostedPages()), "paylink-under-test"):
        plain = await shop.order(None, qty=1, channel="phone")
        made = (await link(api, plain["id"], provider="paylink")).json()
        await cancel(api, plain["id"])
        assert (await link_closed(shop, made["id"]))["status"] == "expired"
        [expired] = await expired_events(plain["id"])
        assert expired["payload"]["outcome"] == "not_supported"

    with inline_plugin(runtime.host, ProcessorPlugin(StubbornPages()), "stubborn-under-test"):
        order = await shop.order(None, qty=1, channel="phone")
        made = (await link(api, order["id"], provider="stubborn")).json()
        await cancel(api, order["id"])
        assert (await link_closed(shop, made["id"]))["status"] == "expire_failed"
        [failed] = await expired_events(order["id"])
        assert failed["payload"]["outcome"] == "failed" and "locked" in failed["payload"]["error"]

        # The customer paid the page anyway: the provider reports an authorisation.
        async with runtime.unit_of_work():
            await Payment.update({Payment.psp_reference: "stub_1"}).where(Payment.id == made["payment_id"])
            snapshot = ProviderPayment(psp_reference="stub_1", status=AttemptStatus.AUTHORIZED, authorized=PRICE)
            await apply_snapshot(runtime, made["payment_id"], snapshot)
        await shop.settled()
        payment = await shop.payment(made["payment_id"])
        [release] = payment["movements"]
        assert (release["kind"], release["status"]) == ("cancel", "failed")
        tasks = await Task.select(Task.kind, Task.detail).where(Task.order_id == order["id"]).order_by(Task.kind)
        assert [t["kind"] for t in tasks] == ["payment_after_cancellation", "payment_link_open"]
        assert release["id"] in tasks[0]["detail"] and "locked" in tasks[1]["detail"]
        assert await count(order["id"], "order.confirmed") == 0


class PagesMadeWhileCancelled(HostedPages):
    """A PSP that answers only after ops cancelled the order (the request was in flight)."""

    name = "slowpages"

    def __init__(self, api: Api) -> None:
        super().__init__()
        self.api = api
        self.expired: list[str] = []

    async def create_payment_link(self, request: PaymentLinkRequest) -> PaymentLink:
        await cancel(self.api, request.order_id)
        return await super().create_payment_link(request)

    async def expire_payment_link(self, provider_ref: str) -> LinkOutcome:
        self.expired.append(provider_ref)
        return LinkOutcome.EXPIRED


async def test_a_link_made_while_its_order_was_cancelled_is_expired_at_once(
    api: Api, shop: Shop, runtime: Runtime, worker: Runtime
) -> None:
    pages = PagesMadeWhileCancelled(api)
    with inline_plugin(runtime.host, ProcessorPlugin(pages), "slowpages-under-test"):
        order = await shop.order(None, qty=1, channel="phone")
        refused = await link(api, order["id"], provider="slowpages")
        assert refused.status_code == 409, refused.text
        assert "cancelled while its payment link was made" in refused.json()["detail"]
        [row] = await PaymentLinkRecord.select().where(PaymentLinkRecord.order_id == order["id"])
        assert (await link_closed(shop, row["id"]))["status"] == "expired"
        # Asked once or twice (the cancellation's job and the maker's may overlap): the same page.
        assert row["provider_ref"] and set(pages.expired) == {row["provider_ref"]}
        [expired] = await expired_events(order["id"])
        assert expired["payload"]["outcome"] == "expired"
