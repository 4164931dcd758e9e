"""Returns, the whole flow over HTTP with both simulators: paid by Stripe, delivered by ACS,
returned, received and inspected, refunded exactly once, restocked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.hookspecs import hookimpl
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.courier_acs.simulator.simulator import ACSSimulator
from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.simulator.simulator import StripeSimulator
from tests.e2e.conftest import eventually
from tests.e2e.test_fulfilment_flow import ADDRESS, pick_pack_ship, refresh, shop


@pytest.fixture(scope="module")
def stripe_sim() -> Iterator[StripeSimulator]:
    simulator = StripeSimulator(webhook_secret="whsec_returns")
    with simulator.running():
        yield simulator


async def test_paid_by_stripe_delivered_by_acs_returned_refunded_once_restocked(
    api: Any, worker: Any, runtime: Runtime, acs: ACSSimulator, stripe_sim: StripeSimulator
) -> None:
    stripe_sim.reset()
    processor = StripeProcessor(
        api_key="sk_test_returns", webhook_secret="whsec_returns", api_base=stripe_sim.base_url or "", timeout_s=3
    )

    class StripeForTests:
        @hookimpl
        def register_payment_processors(self, register: Callable[[Any], None]) -> None:
            register(processor)

    with inline_plugin(runtime.host, StripeForTests(), "stripe-returns"):
        await shop(api)
        r = await api.post(
            "/v1/orders",
            as_="storefront",
            json={
                "channel": "web",
                "customer": {"email": "eleni@example.gr", "name": "Ελένη", "locale": "el"},
                "lines": [{"sku": "OIL-1L", "qty": 2}, {"sku": "HONEY", "qty": 1}],
                "shipping_address": ADDRESS,
                "payment": {"provider": "stripe"},
            },
        )
        assert r.status_code == 201, r.text
        order = r.json()
        payment = order["payments"][0]
        assert payment["client_secret"], "the storefront confirms with Stripe"
        r = await api.post(
            f"/v1/payments/{payment['id']}/confirm", as_="storefront", json={"payment_method": "pm_card_visa"}
        )
        assert r.status_code == 200 and r.json()["status"] == "authorized", r.text
        total = 2 * 1290 + 990

        async def routed() -> Any:
            body = (await api.get(f"/v1/orders/{order['id']}", as_="ops")).json()
            return body if body["status"] == "routed" else None

        shipment_id = (await eventually(routed, what="routing"))["shipments"][0]["id"]
        voucher = await pick_pack_ship(api, acs, shipment_id, cod=None)  # shipped: the worker captures

        async def captured() -> Any:
            ledger = (await api.get(f"/v1/payments/{payment['id']}", as_="ops")).json()
            return ledger if ledger["captured"] == total else None

        await eventually(captured, what="the capture when the order shipped")
        acs.set_status(voucher, 4, None, 1, 0)
        assert (await refresh(api, shipment_id))["status"] == "delivered"

        # The customer returns one bottle (wrong size is an accepted reason within 14 days).
        r = await api.post(
            "/v1/returns",
            as_="storefront",
            json={
                "order_id": order["id"],
                "lines": [{"sku": "OIL-1L", "qty": 1, "reason": "changed_mind"}],
                "method": "courier",
                "resolution": "refund",
            },
        )
        assert r.status_code == 201, r.text
        rma = r.json()
        assert rma["status"] == "approved"
        assert rma["shipment_id"], "a return shipment with an ACS voucher (the return label)"
        assert len(acs.vouchers_for_reference(rma["shipment_id"])) == 1
        label = await api.get(f"/v1/shipments/{rma['shipment_id']}/label", as_="ops")
        assert label.status_code == 200 and label.content.startswith(b"%PDF")

        # More than was delivered and not already claimed is refused.
        too_many = await api.post(
            "/v1/returns",
            as_="storefront",
            json={
                "order_id": order["id"],
                "lines": [{"sku": "OIL-1L", "qty": 2, "reason": "changed_mind"}],
                "method": "store",
            },
        )
        assert too_many.status_code == 422, too_many.text

        before = {lv["location"]: lv for lv in (await api.get("/v1/inventory?sku=OIL-1L", as_="ops")).json()}["WH-ATH"]
        receipt = {"lines": [{"sku": "OIL-1L", "qty": 1, "condition": "unopened", "disposition": "resell"}]}
        r = await api.post(
            f"/v1/returns/{rma['id']}/receive", as_="ops", json=receipt, headers={"Idempotency-Key": "receive-1"}
        )
        assert r.status_code == 200, r.text
        done = r.json()
        assert done["status"] == "completed" and done["refund_amount"] == 1290
        again = await api.post(
            f"/v1/returns/{rma['id']}/receive", as_="ops", json=receipt, headers={"Idempotency-Key": "receive-1"}
        )
        assert again.status_code == 200 and again.json() == done  # the same response, nothing done twice
        twice = await api.post(f"/v1/returns/{rma['id']}/receive", as_="ops", json=receipt)
        assert twice.status_code == 409  # a second receive without the key is refused

        after = {lv["location"]: lv for lv in (await api.get("/v1/inventory?sku=OIL-1L", as_="ops")).json()}["WH-ATH"]
        assert after["on_hand"] == before["on_hand"] + 1 and after["available"] == before["available"] + 1
        ledger = (await api.get(f"/v1/payments/{payment['id']}", as_="ops")).json()
        assert ledger["refunded"] == 1290 and ledger["status"] == "partially_refunded"
        intent = next(pi for pi in stripe_sim.payment_intents if pi["id"] == ledger["psp_reference"])
        assert [rf["amount"] for rf in intent["refunds"]] == [1290]  # refunded exactly once at Stripe
        order_after = (await api.get(f"/v1/orders/{order['id']}", as_="ops")).json()
        assert {ln["sku"]: ln["qty_returned"] for ln in order_after["lines"]} == {"HONEY": 0, "OIL-1L": 1}
