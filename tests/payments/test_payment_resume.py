"""`POST /v1/orders/{id}/payments` starts or resumes: an order placed with `payment.provider:
stripe` already has its PaymentIntent, and asking again returns that payment (200) with its
`client_secret`, creating nothing at Stripe; only another provider is refused while it is active."""

from __future__ import annotations

from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.simulator.simulator import StripeSimulator
from tests.conftest import Api
from tests.payments.conftest import Shop
from tests.payments.test_payments_api import assert_problem


async def test_an_order_placed_with_stripe_resumes_its_payment(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor
) -> None:
    order = await shop.order("stripe", qty=1)
    [placed] = order["payments"]
    first = await shop.payment(placed["id"])
    assert first["status"] == "pending" and first["client_secret"] and first["psp_reference"]

    resumed = await api.post(f"/v1/orders/{order['id']}/payments", json={"provider": "stripe"}, as_="storefront")
    assert resumed.status_code == 200, resumed.text
    payment = resumed.json()
    assert (payment["id"], payment["client_secret"], payment["psp_reference"]) == (
        first["id"],
        first["client_secret"],
        first["psp_reference"],
    )
    again = await api.post(f"/v1/orders/{order['id']}/payments", json={"provider": "stripe"}, as_="storefront")
    assert again.status_code == 200 and again.json()["id"] == first["id"]

    assert [pi["id"] for pi in stripe_sim.payment_intents] == [first["psp_reference"]]  # nothing new at Stripe
    assert (await shop.event_types(order["id"])).count("payment.started") == 1
    assert [p["id"] for p in (await shop.get_order(order["id"]))["payments"]] == [first["id"]]

    other = await api.post(f"/v1/orders/{order['id']}/payments", json={"provider": "cod"}, as_="storefront")
    assert assert_problem(other, 409)["payment_id"] == first["id"]


async def test_a_payment_started_later_is_created_once_then_resumed(
    api: Api, shop: Shop, stripe_sim: StripeSimulator, stripe_psp: StripeProcessor
) -> None:
    order = await shop.order(None)
    started = await api.post(f"/v1/orders/{order['id']}/payments", json={"provider": "stripe"}, as_="storefront")
    assert started.status_code == 201, started.text
    resumed = await api.post(f"/v1/orders/{order['id']}/payments", json={"provider": "stripe"}, as_="storefront")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["id"] == started.json()["id"]
    assert resumed.json()["client_secret"] == started.json()["client_secret"]
    assert len(stripe_sim.payment_intents) == 1


async def test_a_paid_order_answers_with_its_payment(api: Api, shop: Shop, stripe_psp: StripeProcessor) -> None:
    """Once the card is authorized, asking again shows the payment as it is, charging nothing."""
    order = await shop.order("stripe", qty=1)
    payment_id = order["payments"][0]["id"]
    assert (await shop.confirm(payment_id, "pm_card_visa")).status_code == 200
    again = await api.post(f"/v1/orders/{order['id']}/payments", json={"provider": "stripe"}, as_="storefront")
    assert again.status_code == 200, again.text
    assert (again.json()["id"], again.json()["status"]) == (payment_id, "authorized")
