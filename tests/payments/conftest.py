"""Fixtures for the payment tests: a Stripe simulator with the Stripe processor registered inline
against it, and `shop`, the test's hands on the API (catalogue, orders, payments, webhooks)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from core.hookspecs import hookimpl
from core.hookspecs.payments import PaymentProcessor
from core.jobs import outbox as events
from core.jobs.tables import Event
from core.payments.tables import PaymentAttempt
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.simulator.simulator import StripeSimulator
from tests.conftest import Api

STRIPE_API_KEY = "sk_test_emporio_payments"
WEBHOOK_SECRET = "whsec_emporio_payments_tests"
SKU = "TEE-BLK-M"
PRICE = 1250
SWEEP_AFTER_S = 4.0
ADDRESS = {"name": "Eleni P.", "line1": "Ermou 10", "city": "Athens", "postcode": "10563", "country": "GR"}


class ProcessorPlugin:
    """An inline plugin contributing one payment processor."""

    def __init__(self, processor: PaymentProcessor) -> None:
        self.processor = processor

    @hookimpl
    def register_payment_processors(self, register: Callable[[PaymentProcessor], None]) -> None:
        register(self.processor)


@pytest.fixture
def stripe_sim() -> Iterator[StripeSimulator]:
    """A fresh Stripe simulator; webhooks are recorded, not sent (tests deliver them in-process)."""
    sim = StripeSimulator(webhook_secret=WEBHOOK_SECRET, api_key=STRIPE_API_KEY)
    with sim.running():
        yield sim


@pytest.fixture
def stripe_timeout_s() -> float:
    """Emporio's timeout towards Stripe; the fault tests override it with something small."""
    return 10.0


@pytest.fixture
async def stripe_psp(
    runtime: Runtime, api: Api, stripe_sim: StripeSimulator, stripe_timeout_s: float
) -> AsyncIterator[StripeProcessor]:
    """The Stripe processor, registered as "stripe" for one test, speaking to the simulator."""
    assert stripe_sim.base_url is not None
    processor = StripeProcessor(
        api_key=STRIPE_API_KEY, webhook_secret=WEBHOOK_SECRET, api_base=stripe_sim.base_url, timeout_s=stripe_timeout_s
    )
    with inline_plugin(runtime.host, ProcessorPlugin(processor), "psp-stripe-under-test"):
        yield processor
    await processor.client.aclose()


class Shop:
    """The test's hands: seed the catalogue, place orders, read payments, deliver webhooks."""

    def __init__(self, api: Api, runtime: Runtime) -> None:
        self.api = api
        self.runtime = runtime

    async def seed(self, *, on_hand: int = 100_000) -> None:
        ok = await self.api.post(
            "/v1/products",
            json={"sku": SKU, "name": "Black tee M", "category": "tees", "price": {"amount": PRICE, "currency": "EUR"}},
            as_="ops",
        )
        assert ok.status_code == 201, ok.text
        ok = await self.api.post(
            "/v1/locations",
            json={"code": "WH-ATH", "name": "Athens warehouse", "type": "warehouse", "ships": True},
            as_="ops",
        )
        assert ok.status_code == 201, ok.text
        ok = await self.api.put(f"/v1/inventory/WH-ATH/{SKU}", json={"on_hand": on_hand}, as_="ops")
        assert ok.status_code == 200, ok.text

    def order_body(self, provider: str | None, qty: int = 2, channel: str = "web") -> dict[str, Any]:
        body: dict[str, Any] = {
            "channel": channel,
            "customer": {"email": "eleni@example.gr", "name": "Eleni P."},
            "lines": [{"sku": SKU, "qty": qty}],
            "shipping_address": ADDRESS,
        }
        if provider is not None:
            body["payment"] = {"provider": provider}
        return body

    async def order(self, provider: str | None, qty: int = 2, channel: str = "web") -> dict[str, Any]:
        placed = await self.api.post("/v1/orders", json=self.order_body(provider, qty, channel), as_="storefront")
        assert placed.status_code == 201, placed.text
        order: dict[str, Any] = placed.json()
        return order

    async def get_order(self, order_id: str) -> dict[str, Any]:
        found = await self.api.get(f"/v1/orders/{order_id}", as_="ops")
        assert found.status_code == 200, found.text
        order: dict[str, Any] = found.json()
        return order

    async def payment(self, payment_id: str) -> dict[str, Any]:
        found = await self.api.get(f"/v1/payments/{payment_id}", as_="ops")
        assert found.status_code == 200, found.text
        payment: dict[str, Any] = found.json()
        return payment

    async def confirm(self, payment_id: str, payment_method: str) -> Any:
        return await self.api.post(
            f"/v1/payments/{payment_id}/confirm", json={"payment_method": payment_method}, as_="storefront"
        )

    async def timeline(self, order_id: str) -> list[dict[str, Any]]:
        """Every event of the order, oldest first (all pages)."""
        events: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = await self.api.get(f"/v1/orders/{order_id}/timeline", params=params, as_="ops")
            assert page.status_code == 200, page.text
            body = page.json()
            events.extend(body["items"])
            cursor = body.get("next_cursor")
            if not cursor:
                return list(reversed(events))

    async def event_types(self, order_id: str | None = None) -> list[str]:
        """Event types in the outbox, oldest first (straight from the events table)."""
        query = Event.select(Event.type).order_by(Event.id)
        if order_id is not None:
            query = query.where(Event.order_id == order_id)
        return [row["type"] for row in await query]

    async def attempts(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await PaymentAttempt.select().order_by(PaymentAttempt.id)
        return rows

    async def post_webhook(self, body: bytes, signature: str) -> Any:
        return await self.api.post(
            "/v1/webhooks/psp/stripe",
            content=body,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            as_=None,
        )

    async def deliver(
        self,
        sim: StripeSimulator,
        events: list[dict[str, Any]],
        *,
        copies: int = 3,
        seed: int = 7,
        clock: Callable[[], datetime] | None = None,
    ) -> list[int]:
        """POST each event `copies` times, shuffled, signed like Stripe signs them (at `clock()`,
        the pinned engine clock of a test that pins it; the wall clock by default); the statuses."""
        deliveries = [json.dumps(event).encode() for event in events for _ in range(copies)]
        random.Random(seed).shuffle(deliveries)
        statuses = []
        for body in deliveries:
            signed_at = int(clock().timestamp()) if clock is not None else None
            response = await self.post_webhook(body, sim.signature_header(body, signed_at))
            statuses.append(response.status_code)
        return statuses

    async def until(
        self, probe: Callable[[], Awaitable[bool]], *, within: float = 30.0, every: float = 0.05, what: str = "it"
    ) -> None:
        """Poll `probe` until it holds (work done by the worker); fail after `within` seconds."""
        deadline = time.monotonic() + within
        while not await probe():
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up after {within} s waiting for {what}")
            await asyncio.sleep(every)

    async def settled(self, *, within: float = 45.0) -> None:
        """Wait until the worker processed every event in the outbox.

        Test sessions sharing one Redis database (PostgreSQL runs side by side) share the queue
        too, so another session's worker may take one of our jobs and find nothing; the
        engine's outbox sweeper re-sends such events after a minute, and this does the same
        every few seconds (a re-sent event that was processed meanwhile is skipped)."""
        started = time.monotonic()

        async def drained() -> bool:
            if time.monotonic() - started > SWEEP_AFTER_S:
                await events.sweep(self.runtime, older_than_s=SWEEP_AFTER_S)
            return not await Event.exists().where(Event.processed_at.is_null())

        await self.until(drained, within=within, what="the outbox to drain")


@pytest.fixture
async def shop(api: Api, runtime: Runtime) -> Shop:
    shop = Shop(api, runtime)
    await shop.seed()
    return shop
