"""payment_conversion_rate and checkout_abandonment_rate exactly as kpis.md defines them, over
history imported with the `checkout` and `payment_attempt` kinds, and over live attempts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from plugins.psp_stripe import StripeProcessor
from plugins.psp_stripe.simulator.simulator import StripeSimulator
from tests.clock import pin_clock
from tests.conftest import Api
from tests.payments.conftest import ADDRESS, SKU, Shop

MARCH = {"from": "2026-03-01", "to": "2026-04-01"}


def attempt(
    id: str,
    order: str,
    status: str,
    at: str,
    provider: str = "stripe",
    method: str | None = "card",
    brand: str | None = "visa",
    funding: str | None = "credit",
    bank: str | None = "Alpha Bank",
) -> dict[str, Any]:
    return {
        "kind": "payment_attempt",
        "id": id,
        "order_id": order,
        "provider": provider,
        "method": method,
        "card_brand": brand,
        "funding": funding,
        "issuer_bank": bank,
        "amount": 2000,
        "currency": "EUR",
        "status": status,
        "decline_code": "insufficient_funds" if status == "failed" else None,
        "attempted_at": at,
    }


def order(id: str, customer: str, channel: str, placed_at: str, cancelled_at: str | None = None) -> dict[str, Any]:
    return {
        "kind": "order",
        "id": id,
        "channel": channel,
        "customer_id": customer,
        "placed_at": placed_at,
        "currency": "EUR",
        "lines": [{"sku": "HIST-1", "qty": 2, "unit_price": 1000}],
        "cancelled_at": cancelled_at,
    }


def checkout(id: str, channel: str, started_at: str, order_id: str | None, customer: str = "c1") -> dict[str, Any]:
    return {
        "kind": "checkout",
        "id": id,
        "channel": channel,
        "customer_id": customer,
        "started_at": started_at,
        "order_id": order_id,
    }


HISTORY: list[dict[str, Any]] = [
    {"kind": "customer", "id": "c1", "email": "maria@example.gr", "name": "Maria"},
    {"kind": "customer", "id": "c2", "email": "giorgos@example.gr", "name": "Giorgos"},
    {"kind": "product", "sku": "HIST-1", "name": "Old tee", "price": 1000, "currency": "EUR"},
    order("o1", "c1", "web", "2026-03-02T09:55:00Z"),  # Maria's first order
    order("o2", "c2", "phone", "2026-02-28T23:00:00Z"),  # Giorgos's first order
    order("o3", "c1", "web", "2026-03-04T12:00:00Z", cancelled_at="2026-03-04T13:00:00Z"),
    order("o5", "c1", "web", "2026-03-10T08:00:00Z"),  # returning (o1 eight days before)
    checkout("k1", "web", "2026-03-02T09:40:00Z", "o1"),
    checkout("k2", "web", "2026-03-05T10:00:00Z", None),
    checkout("k3", "phone", "2026-03-01T00:00:00Z", "o2", customer="c2"),  # from is inclusive
    checkout("k4", "phone", "2026-03-06T10:00:00Z", None, customer="c2"),
    checkout("k5", "web", "2026-03-31T23:59:59Z", None),
    checkout("k6", "web", "2026-02-28T22:00:00Z", None),  # before the period
    checkout("k7", "web", "2026-04-01T00:00:00Z", None),  # to is exclusive
    attempt("p1", "o1", "failed", "2026-03-02T10:00:00Z"),
    attempt("p2", "o1", "succeeded", "2026-03-02T10:05:00Z"),
    attempt("p3", "o2", "failed", "2026-03-03T09:00:00Z", brand="mastercard", funding="debit", bank="Eurobank"),
    attempt(
        "p4",
        "o2",
        "succeeded",
        "2026-03-03T09:10:00Z",
        provider="cod",
        method="cash",
        brand=None,
        funding=None,
        bank=None,
    ),
    attempt("p5", "o3", "succeeded", "2026-03-04T12:01:00Z"),  # its order was cancelled: excluded
    attempt("p6", "o5", "succeeded", "2026-03-10T08:01:00Z", provider="viva", funding="debit", bank="Piraeus Bank"),
    attempt("p7", "o5", "failed", "2026-04-01T00:00:00Z", provider="viva", funding="debit", bank="Piraeus Bank"),
    attempt("p8", "o2", "succeeded", "2026-03-01T00:00:00Z", brand="mastercard", bank="Eurobank"),
]

# Counted in March: p1 ✗, p2 ✓, p3 ✗, p4 ✓, p6 ✓, p8 ✓.
GROUPS: dict[str, list[tuple[str | None, int, int]]] = {
    "provider": [("cod", 1, 1), ("stripe", 2, 4), ("viva", 1, 1)],
    "method": [("card", 3, 5), ("cash", 1, 1)],
    "card_brand": [("mastercard", 1, 2), ("visa", 2, 3), (None, 1, 1)],
    "funding": [("credit", 2, 3), ("debit", 1, 2), (None, 1, 1)],
    "issuer_bank": [("Alpha Bank", 1, 2), ("Eurobank", 1, 2), ("Piraeus Bank", 1, 1), (None, 1, 1)],
    "channel": [("phone", 2, 3), ("web", 2, 3)],
}


async def import_history(api: Api, records: list[dict[str, Any]]) -> None:
    body = "\n".join(json.dumps(r) for r in records) + "\n"
    done = await api.post("/v1/import", content=body, headers={"Content-Type": "application/x-ndjson"}, as_="admin")
    assert done.status_code == 200, done.text
    assert done.json()["by_kind"]["payment_attempt"] == 8 and done.json()["by_kind"]["checkout"] == 7


async def kpi(api: Api, kpi_id: str, **params: str) -> dict[str, Any]:
    found = await api.get(f"/v1/kpis/{kpi_id}", params=params, as_="ops")
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def ratio(value: dict[str, Any]) -> tuple[Any, Any, Any]:
    return value["value"], value["numerator"], value["denominator"]


@pytest.fixture
async def history(api: Api) -> None:
    await import_history(api, HISTORY)


async def test_payment_conversion_rate_over_imported_history(api: Api, history: None) -> None:
    assert ratio(await kpi(api, "payment_conversion_rate", **MARCH)) == (4 / 6, 4, 6)
    for dimension, expected in GROUPS.items():
        grouped = await kpi(api, "payment_conversion_rate", **MARCH, group_by=dimension)
        assert [(g["key"], g["numerator"], g["denominator"]) for g in grouped["groups"]] == expected, dimension
        assert [g["value"] for g in grouped["groups"]] == [n / d for _, n, d in expected], dimension
    refused = await api.get("/v1/kpis/payment_conversion_rate", params={**MARCH, "group_by": "segment"}, as_="ops")
    assert refused.status_code == 422, refused.text

    everything = await api.get("/v1/kpis", params={**MARCH, "channel": "web"}, as_="ops")
    assert everything.status_code == 200, everything.text
    assert ratio(everything.json()["kpis"]["payment_conversion_rate"]) == (2 / 3, 2, 3)
    first = await api.get("/v1/kpis", params={**MARCH, "segment": "first_order"}, as_="ops")
    assert ratio(first.json()["kpis"]["payment_conversion_rate"]) == (3 / 5, 3, 5)
    returning = await kpi(api, "payment_conversion_rate", **MARCH, segment="returning")
    assert ratio(returning) == (1.0, 1, 1)
    empty = await kpi(api, "payment_conversion_rate", **{"from": "2025-01-01", "to": "2025-02-01"})
    assert ratio(empty) == (None, 0, 0)


async def test_checkout_abandonment_rate_over_imported_history(api: Api, history: None) -> None:
    # In March: k1 → o1, k2 abandoned, k3 → o2, k4 abandoned, k5 abandoned.
    assert ratio(await kpi(api, "checkout_abandonment_rate", **MARCH)) == (3 / 5, 3, 5)
    grouped = await kpi(api, "checkout_abandonment_rate", **MARCH, group_by="channel")
    assert [(g["key"], g["value"], g["numerator"], g["denominator"]) for g in grouped["groups"]] == [
        ("phone", 1 / 2, 1, 2),
        ("web", 2 / 3, 2, 3),
    ]
    web = await kpi(api, "checkout_abandonment_rate", **MARCH, channel="web")
    assert ratio(web) == (2 / 3, 2, 3)
    # Checkouts have a channel but no segment: returned unfiltered, and flagged.
    by_segment = await kpi(api, "checkout_abandonment_rate", **MARCH, segment="returning")
    assert ratio(by_segment) == (3 / 5, 3, 5) and by_segment["filter_not_applicable"] is True
    daily = await kpi(api, "checkout_abandonment_rate", **{"from": "2026-03-05", "to": "2026-03-07"}, granularity="day")
    assert [(s["period_start"][:10], s["value"]) for s in daily["series"]] == [("2026-03-05", 1.0), ("2026-03-06", 1.0)]


LIVE = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # a Wednesday morning: the live test's clock


async def test_live_attempts_and_checkouts_count(
    api: Api,
    shop: Shop,
    stripe_sim: StripeSimulator,
    stripe_psp: StripeProcessor,
    worker: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pinned = pin_clock(monkeypatch, LIVE)
    today = LIVE.date()
    period = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    customer = {"email": "anna@example.gr", "name": "Anna"}
    started = []
    for _ in range(3):
        made = await api.post(
            "/v1/checkouts",
            json={"channel": "web", "customer": customer, "lines": [{"sku": SKU, "qty": 1}]},
            as_="storefront",
        )
        assert made.status_code == 201, made.text
        started.append(made.json()["id"])
    done = await api.post(
        f"/v1/checkouts/{started[0]}/complete",
        json={"shipping_address": ADDRESS, "payment": {"provider": "stripe"}},
        as_="storefront",
    )
    assert done.status_code == 201, done.text
    payment_id = done.json()["payments"][0]["id"]
    assert (await shop.confirm(payment_id, "pm_card_chargeDeclinedExpiredCard")).status_code == 402
    assert (await shop.confirm(payment_id, "pm_card_visa")).status_code == 200
    # Stripe's webhooks add what the decline error did not say (the card's brand and funding).
    signed = await shop.deliver(stripe_sim, stripe_sim.events, copies=2, clock=lambda: pinned.now(UTC))
    assert set(signed) == {200}
    await shop.settled()

    assert ratio(await kpi(api, "checkout_abandonment_rate", **period)) == (2 / 3, 2, 3)
    assert ratio(await kpi(api, "payment_conversion_rate", **period)) == (1 / 2, 1, 2)
    for dimension, key in (
        ("provider", "stripe"),
        ("method", "card"),
        ("card_brand", "visa"),
        ("funding", "credit"),
        ("issuer_bank", None),
        ("channel", "web"),
    ):
        grouped = await kpi(api, "payment_conversion_rate", **period, group_by=dimension)
        assert [(g["key"], g["numerator"], g["denominator"]) for g in grouped["groups"]] == [(key, 1, 2)], dimension
    first = await kpi(api, "payment_conversion_rate", **period, segment="first_order")
    assert ratio(first) == (1 / 2, 1, 2)
