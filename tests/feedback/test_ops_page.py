"""The ops page of the voice of the customer (/ops/feedback): served from this origin with a strict
content security policy, and the calls it makes — survey answers filtered by score, channel and
agent; the moderation queue; publish and reject with the dashboard session's anti-forgery token —
work with the session cookie and refuse a write that rides the cookie alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from core.customers.tables import Customer
from core.orders.tables import Order
from core.runtime import Runtime
from tests.feedback.support import import_lines, internal, resolved_case, settle, shop_records


@pytest.fixture
async def browser(api: Any, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app: Any = create_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops.test") as client:
        yield client


async def test_the_page_and_its_assets_come_from_this_origin(browser: httpx.AsyncClient) -> None:
    page = await browser.get("/ops/feedback")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert '<script src="/ops/feedback/feedback.js"' in page.text and "http" not in page.text.split("<body>")[0]
    script = await browser.get("/ops/feedback/feedback.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "innerHTML" not in script.text  # customers' words are only ever set as text
    assert (await browser.get("/ops/feedback/feedback.css")).status_code == 200
    assert (await browser.get("/ops/feedback/other.js")).status_code == 404


async def test_the_page_reads_and_moderates_with_the_dashboard_session(
    api: Any, runtime: Runtime, browser: httpx.AsyncClient
) -> None:
    case = await resolved_case(api)
    await settle(runtime)
    embedded = await api.post(
        "/v1/surveys",
        json={"survey": "csat", "customer_id": case["customer"]["id"], "case_id": case["id"], "delivery": "embedded"},
        as_="agent",
    )
    assert embedded.status_code == 201 and embedded.json()["status"] == "sent", embedded.text
    answer = {"score": 2, "comment": "Περίμενα πολύ"}
    assert (
        await api.post(f"/v1/surveys/{embedded.json()['id']}/responses", json=answer, as_="storefront")
    ).status_code == 201
    assert (await import_lines(api, shop_records(datetime.now(UTC) - timedelta(days=2)))).status_code == 200
    order_id = await internal(Order, "o1")
    assert await internal(Customer, "c1")
    review = await api.post(
        "/v1/reviews", json={"order_id": order_id, "sku": "A1", "rating": 4, "body": "Καλή"}, as_="storefront"
    )
    assert review.status_code == 201

    signed_in = await browser.post("/ops/session", json={"key": api.keys["ops"]})
    assert signed_in.status_code == 201, signed_in.text
    csrf = signed_in.json()["csrf_token"]
    low = (
        await browser.get("/v1/survey-responses", params={"max_score": 2, "channel": "web", "with_comment": "true"})
    ).json()
    assert [(r["score"], r["comment"], r["channel"], r["case_number"]) for r in low["items"]] == [
        (2, "Περίμενα πολύ", "web", case["number"])
    ]
    assert low["items"][0]["agent"] == case["assignee"] and low["items"][0]["follow_up_case_id"]
    assert (await browser.get("/v1/survey-responses", params={"channel": "chat"})).json()["items"] == []
    assert (await browser.get("/v1/survey-responses", params={"channel": "fax"})).status_code == 422
    queue = (await browser.get("/v1/reviews", params={"status": "pending"})).json()
    assert [r["id"] for r in queue["items"]] == [review.json()["id"]]

    path = f"/v1/reviews/{review.json()['id']}/moderate"
    forged = await browser.post(path, json={"decision": "publish"})
    assert forged.status_code == 401  # the cookie alone cannot change anything
    published = await browser.post(path, json={"decision": "publish"}, headers={"X-Emporio-CSRF": csrf})
    assert published.status_code == 200 and published.json()["status"] == "published", published.text
    assert (await browser.get("/v1/reviews", params={"status": "pending"})).json()["items"] == []
