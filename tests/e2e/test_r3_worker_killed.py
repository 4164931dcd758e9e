"""R3: a worker SIGKILLed mid-job, again and again, during a 200-order run → every order is
routed and shipped exactly once: one voucher per shipment at the courier simulator, one capture
per payment at the PSP simulator."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.fulfilment.tables import Shipment
from core.hookspecs import hookimpl
from core.payments.tables import Payment
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.courier_acs.simulator.simulator import ACSSimulator
from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.simulator.simulator import StripeSimulator
from tests.couriers.support import acs_settings
from tests.e2e.conftest import eventually

ORDERS = int(os.environ.get("R3_ORDERS", "200"))
WEBHOOK_SECRET = "whsec_r3"


@pytest.fixture(scope="module")
def stripe_sim() -> Iterator[StripeSimulator]:
    simulator = StripeSimulator(webhook_secret=WEBHOOK_SECRET)
    with simulator.running():
        yield simulator


def worker_env(acs: ACSSimulator, stripe_base: str) -> dict[str, str]:
    settings = acs_settings(acs)
    return {
        **os.environ,
        "EMPORIO_STRIPE_API_KEY": "sk_test_r3",
        "EMPORIO_STRIPE_API_BASE": stripe_base,
        "EMPORIO_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "EMPORIO_STRIPE_TIMEOUT_S": "3",
        "EMPORIO_ACS_API_BASE": settings.api_base,
        "EMPORIO_ACS_API_KEY": settings.api_key,
        "EMPORIO_ACS_COMPANY_ID": settings.company_id,
        "EMPORIO_ACS_COMPANY_PASSWORD": settings.company_password,
        "EMPORIO_ACS_USER_ID": settings.user_id,
        "EMPORIO_ACS_USER_PASSWORD": settings.user_password,
        "EMPORIO_ACS_BILLING_CODE": settings.billing_code,
        "EMPORIO_ACS_TIMEOUT_S": "3",
        "EMPORIO_ACS_MAX_CALLS_PER_SECOND": "0",
        "EMPORIO_LOG_LEVEL": "warning",
    }


class KillingWorkers:
    """Starts `emporio worker` and SIGKILLs it after a random short while, over and over."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.kills = 0
        self.current: subprocess.Popen[bytes] | None = None
        self.stop = asyncio.Event()

    def start(self) -> subprocess.Popen[bytes]:
        self.current = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "worker"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return self.current

    async def run(self, rng: random.Random, max_kills: int = 15) -> None:
        """Kill `max_kills` workers mid-flight, then leave the last one running to finish."""
        while not self.stop.is_set() and self.kills < max_kills:
            process = self.start()
            await asyncio.sleep(
                float(os.environ.get("R3_LIFE", "0")) or rng.uniform(4.0, 9.0)
            )  # long enough to start and get into jobs
            if self.stop.is_set():
                break
            process.send_signal(signal.SIGKILL)
            process.wait()
            self.kills += 1
        if not self.stop.is_set():
            self.start()

    def close(self) -> None:
        self.stop.set()
        if self.current is not None and self.current.poll() is None:
            self.current.send_signal(signal.SIGKILL)
            self.current.wait()


@pytest.mark.timeout(1200)
async def test_r3_worker_killed_repeatedly(
    api: Any, runtime: Runtime, acs: ACSSimulator, stripe_sim: StripeSimulator
) -> None:
    stripe_sim.reset()
    acs.max_calls_per_second = None  # R6 covers rate limits; here the faults are the kills (and some 500s)
    processor = StripeProcessor(
        api_key="sk_test_r3", webhook_secret=WEBHOOK_SECRET, api_base=stripe_sim.base_url or "", timeout_s=3
    )

    class StripeForTests:
        @hookimpl
        def register_payment_processors(self, register: Callable[[Any], None]) -> None:
            register(processor)

    rng = random.Random(3)
    with inline_plugin(runtime.host, StripeForTests(), "stripe-r3"):
        assert (
            await api.post(
                "/v1/products",
                as_="ops",
                json={
                    "sku": "TEA",
                    "name": "Mountain tea",
                    "price": {"amount": 450, "currency": "EUR"},
                    "weight_g": 200,
                },
            )
        ).status_code == 201
        assert (
            await api.post("/v1/locations", as_="ops", json={"code": "WH", "name": "WH", "type": "warehouse"})
        ).status_code == 201
        assert (await api.put("/v1/inventory/WH/TEA", as_="ops", json={"on_hand": 10 * ORDERS})).status_code == 200

        killer = KillingWorkers(worker_env(acs, stripe_sim.base_url or ""))
        killing = asyncio.create_task(killer.run(rng))
        try:

            async def order(i: int) -> str:
                r = await api.post(
                    "/v1/orders",
                    as_="storefront",
                    json={
                        "channel": "web",
                        "customer": {"email": f"r3-{i}@example.gr", "name": f"Πελάτης {i}"},
                        "lines": [{"sku": "TEA", "qty": 1 + i % 3}],
                        "payment": {"provider": "stripe"},
                        "shipping_address": {
                            "name": "Π",
                            "line1": "Ερμού 1",
                            "phone": "6900000000",
                            "city": "Αθήνα",
                            "postcode": "10563",
                            "country": "GR",
                        },
                    },
                )
                assert r.status_code == 201, r.text
                payment_id = r.json()["payments"][0]["id"]
                for _ in range(3):  # as a storefront does when the PSP did not answer in time: 503 "retry"
                    confirmed = await api.post(
                        f"/v1/payments/{payment_id}/confirm", as_="storefront", json={"payment_method": "pm_card_visa"}
                    )
                    if confirmed.status_code != 503:
                        break
                    await asyncio.sleep(1)
                assert confirmed.status_code == 200, confirmed.text
                return str(r.json()["id"])

            order_ids: list[str] = []
            for start in range(0, ORDERS, 20):
                order_ids += await asyncio.gather(*(order(i) for i in range(start, start + 20)))

            async def all_routed() -> bool:
                routed: int = await Shipment.count().where(Shipment.is_return == False)  # noqa: E712
                return routed >= ORDERS

            await eventually(all_routed, within=420, what="every order to be routed by the killed workers")
            shipments = await Shipment.select(Shipment.id, Shipment.order_id).where(Shipment.status == "pending")
            acs.inject_faults("500", count=ORDERS // 5, alias="ACS_Create_Voucher")  # some vouchers fall to the worker
            for row in shipments:
                r = await api.post(
                    f"/v1/shipments/{row['id']}/pick",
                    as_="ops",
                    json={
                        "picker": "p1",
                        "lines": [{"sku": "TEA", "picked_qty": 1 + order_ids.index(row["order_id"]) % 3}],
                    },
                )
                assert r.status_code == 200, r.text
                r = await api.post(f"/v1/shipments/{row['id']}/pack", as_="ops")
                assert r.status_code == 200, r.text

            async def all_labelled() -> bool:
                labelled: int = await Shipment.count().where(Shipment.status == "label_created")
                return labelled >= ORDERS

            await eventually(all_labelled, within=420, what="every voucher, some created by the killed workers")
            r = await api.post("/v1/dispatch/WH/close", as_="ops")
            assert r.status_code == 200, r.text

            async def all_captured() -> bool:
                captured: int = await Payment.count().where(Payment.status == "captured")
                return captured >= ORDERS

            await eventually(all_captured, within=420, what="every payment captured when its order shipped")
        finally:
            killer.close()
            await killing
        assert killer.kills >= 5, "the workers were killed again and again"

        # Routed exactly once: one shipment per order, none cancelled.
        per_order = await Shipment.raw("SELECT order_id, COUNT(*) AS n FROM shipments GROUP BY order_id")
        assert len(per_order) == ORDERS and all(row["n"] == 1 for row in per_order)
        # One voucher per shipment at the courier (orphans of a lost answer are cancelled at the close).
        live = [v for v in acs.vouchers if not v["deleted"]]
        by_reference: dict[str | None, int] = {}
        for voucher in live:
            by_reference[voucher["reference_key1"]] = by_reference.get(voucher["reference_key1"], 0) + 1
        shipment_ids = {row["id"] for row in await Shipment.select(Shipment.id)}
        assert set(by_reference) == shipment_ids and set(by_reference.values()) == {1}
        # One capture per payment at the PSP.
        intents = stripe_sim.payment_intents
        assert len(intents) == ORDERS
        assert all(len(pi["captures"]) == 1 for pi in intents), [
            pi["captures"] for pi in intents if len(pi["captures"]) != 1
        ]
