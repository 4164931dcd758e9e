"""Helpers of the webhook tests: an endpoint registered through the API, an event caused through
the API and handled as the worker would, the deliveries and attempts read back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from core.runtime import Runtime
from plugins.webhooks_out.tables import WebhookDelivery
from tests.conftest import Api
from tests.feedback.support import settle


async def endpoint(api: Api, url: str, events: list[str], **extra: Any) -> dict[str, Any]:
    created = await api.post("/v1/webhook-endpoints", json={"url": url, "events": events, **extra})
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


async def product_created(api: Api, runtime: Runtime, sku: str) -> None:
    """Cause a `product.created` event and handle it (deliveries are written, their jobs queued)."""
    product = {"sku": sku, "name": f"Product {sku}", "price": {"amount": 1450, "currency": "EUR"}}
    assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
    await settle(runtime)


async def delivery_rows(endpoint_id: str | None = None) -> list[dict[str, Any]]:
    query = WebhookDelivery.select().order_by(WebhookDelivery.id)
    if endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint_id == endpoint_id)
    return await query


async def deliveries_of(api: Api, endpoint_id: str) -> list[dict[str, Any]]:
    listed = await api.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries")
    assert listed.status_code == 200, listed.text
    return listed.json()["items"]  # type: ignore[no-any-return]


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.05)
