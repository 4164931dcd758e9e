"""The order KPIs exactly as kpis.md defines them: orders_placed and average_order_value over
P = [from, to), cancelled orders excluded everywhere, customer segments from earlier non-cancelled
orders, filters, group_by, series, empty denominators, and the accepted period formats.

The history is built through the history import, since the live API stamps "now"."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

PROBLEM = "application/problem+json"
MARCH = {"from": "2025-03-01", "to": "2025-04-01"}


def order(
    oid: str, customer: str, placed_at: str, channel: str, amount: int, cancelled_at: str | None = None
) -> dict[str, Any]:
    return {
        "kind": "order",
        "id": oid,
        "channel": channel,
        "customer_id": customer,
        "placed_at": placed_at,
        "currency": "EUR",
        "lines": [{"sku": "JAR", "qty": 1, "unit_price": amount}],
        "cancelled_at": cancelled_at,
    }


CUSTOMERS = ["ret", "react", "first", "cancel", "b365", "b366"]
HISTORY: list[dict[str, Any]] = [
    *({"kind": "customer", "id": c, "email": f"{c}@example.gr", "name": c} for c in CUSTOMERS),
    {"kind": "product", "sku": "JAR", "name": "Jar", "price": 1000, "currency": "EUR"},
    # returning: an earlier order within 365 days
    order("r0", "ret", "2024-06-10T10:00:00Z", "web", 1000),
    order("r1", "ret", "2025-03-03T10:00:00Z", "web", 3000),
    # reactivated: the earlier order is more than 365 days before
    order("a0", "react", "2023-01-15T10:00:00Z", "web", 1000),
    order("a1", "react", "2025-03-05T12:00:00Z", "phone", 4000),
    # first order exactly at `from` (included), then a returning one; one exactly at `to` (excluded)
    order("f1", "first", "2025-03-01T00:00:00Z", "web", 1001),
    order("f2", "first", "2025-03-20T00:00:00Z", "web", 1001),
    order("t1", "first", "2025-04-01T00:00:00Z", "web", 50000),
    # an earlier cancelled order does not make the next one "returning"; a cancelled order in P is excluded
    order("x0", "cancel", "2025-02-01T10:00:00Z", "web", 800, cancelled_at="2025-02-02T10:00:00Z"),
    order("x1", "cancel", "2025-03-10T09:00:00Z", "phone", 2500),
    order("x2", "cancel", "2025-03-12T09:00:00Z", "web", 9999, cancelled_at="2025-03-13T09:00:00Z"),
    # exactly 365 days → returning; 365 days and one second → reactivated
    order("b0", "b365", "2024-03-10T08:00:00Z", "web", 300),
    order("b1", "b365", "2025-03-10T08:00:00Z", "web", 500),
    order("c0", "b366", "2024-03-10T08:00:00Z", "web", 300),
    order("c1", "b366", "2025-03-10T08:00:01Z", "web", 700),
]
# March, not cancelled: r1 3000 returning/web, a1 4000 reactivated/phone, f1 1001 first/web,
# f2 1001 returning/web, x1 2500 first/phone, b1 500 returning/web, c1 700 reactivated/web
MARCH_VALUES = [3000, 4000, 1001, 1001, 2500, 500, 700]


@pytest.fixture
async def history(api: Any) -> Any:
    body = b"".join(msgspec.json.encode(r) + b"\n" for r in HISTORY)
    imported = await api.post("/v1/import", content=body, headers={"Content-Type": "application/x-ndjson"})
    assert imported.status_code == 200, imported.text
    assert imported.json()["by_kind"]["order"] == 14
    return api


async def kpi(api: Any, kpi_id: str, **params: Any) -> dict[str, Any]:
    response = await api.get(f"/v1/kpis/{kpi_id}", params=params, as_="ops")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_orders_placed_and_average_order_value_for_a_period(history: Any) -> None:
    response = await history.get("/v1/kpis", params=MARCH, as_="ops")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"], body["filters"]) == ("2025-03-01T00:00:00Z", "2025-04-01T00:00:00Z", {})
    kpis = body["kpis"]
    assert kpis["orders_placed"] == {"value": 7, "unit": "count"}
    assert kpis["average_order_value"] == {"value": sum(MARCH_VALUES) / 7, "unit": "minor_units", "n": 7}
    single = await kpi(history, "average_order_value", **MARCH)
    assert (single["id"], single["value"], single["unit"], single["n"]) == (
        "average_order_value",
        sum(MARCH_VALUES) / 7,
        "minor_units",
        7,
    )
    assert (await kpi(history, "orders_placed", **MARCH))["value"] == 7


async def test_the_period_includes_from_and_excludes_to(history: Any) -> None:
    assert (await kpi(history, "orders_placed", **{"from": "2025-03-01T00:00:01Z", "to": "2025-04-01"}))["value"] == 6
    assert (await kpi(history, "orders_placed", **{"from": "2025-03-01", "to": "2025-04-01T00:00:01Z"}))["value"] == 8
    assert (await kpi(history, "orders_placed", **{"from": "2025-04-01", "to": "2025-04-02"}))["value"] == 1
    assert (await kpi(history, "orders_placed", **{"from": "2025-03-31", "to": "2025-04-01"}))["value"] == 0


async def test_cancelled_orders_are_excluded_everywhere(history: Any) -> None:
    # x0 (February) and x2 (March 12) are cancelled
    assert (await kpi(history, "orders_placed", **{"from": "2025-02-01", "to": "2025-03-01"}))["value"] == 0
    around_x2 = {"from": "2025-03-12", "to": "2025-03-13"}
    assert (await kpi(history, "orders_placed", **around_x2))["value"] == 0
    assert (await kpi(history, "average_order_value", **around_x2))["value"] is None
    groups = (await kpi(history, "orders_placed", **MARCH, group_by="channel"))["groups"]
    assert sum(g["value"] for g in groups) == 7


async def test_segments_come_from_earlier_non_cancelled_orders(history: Any) -> None:
    grouped = await kpi(history, "orders_placed", **MARCH, group_by="segment")
    assert grouped["id"] == "orders_placed"
    assert [(g["key"], g["value"]) for g in grouped["groups"]] == [
        ("first_order", 2),  # f1; x1, whose only earlier order was cancelled
        ("reactivated", 2),  # a1; c1, 365 days and a second after c0
        ("returning", 3),  # r1; f2; b1, exactly 365 days after b0
    ]
    values = await kpi(history, "average_order_value", **MARCH, group_by="segment")
    assert [(g["key"], g["value"], g["n"]) for g in values["groups"]] == [
        ("first_order", (1001 + 2500) / 2, 2),
        ("reactivated", (4000 + 700) / 2, 2),
        ("returning", (3000 + 1001 + 500) / 3, 3),
    ]


async def test_segment_and_channel_filters(history: Any) -> None:
    returning = await history.get("/v1/kpis", params={**MARCH, "segment": "returning"}, as_="ops")
    body = returning.json()
    assert body["filters"] == {"segment": "returning"}
    assert body["kpis"]["orders_placed"]["value"] == 3
    assert body["kpis"]["average_order_value"]["value"] == (3000 + 1001 + 500) / 3
    phone_first = await kpi(history, "average_order_value", **MARCH, channel="phone", segment="first_order")
    assert (phone_first["value"], phone_first["n"]) == (2500, 1)
    web = await kpi(history, "orders_placed", **MARCH, channel="web")
    assert web["value"] == 5 and "filter_not_applicable" not in web
    assert (await kpi(history, "orders_placed", **MARCH, channel="marketplace"))["value"] == 0
    bad = await history.get("/v1/kpis", params={**MARCH, "segment": "vip"}, as_="ops")
    assert bad.status_code in (400, 422) and bad.headers["content-type"].startswith(PROBLEM)


async def test_a_location_filter_does_not_apply_to_order_kpis(history: Any) -> None:
    body = (await history.get("/v1/kpis", params={**MARCH, "location": "WH-ATH"}, as_="ops")).json()
    assert body["filters"] == {"location": "WH-ATH"}
    assert body["kpis"]["orders_placed"] == {"value": 7, "unit": "count", "filter_not_applicable": True}
    assert body["kpis"]["average_order_value"]["filter_not_applicable"] is True
    assert body["kpis"]["average_order_value"]["value"] == sum(MARCH_VALUES) / 7
    mixed = await kpi(history, "orders_placed", **MARCH, location="WH-ATH", channel="phone")
    assert (mixed["value"], mixed["filter_not_applicable"]) == (2, True)  # channel applied, location not


async def test_group_by_channel(history: Any) -> None:
    count = await kpi(history, "orders_placed", **MARCH, group_by="channel")
    assert count["group_by"] == "channel"
    assert [(g["key"], g["value"]) for g in count["groups"]] == [("phone", 2), ("web", 5)]
    value = await kpi(history, "average_order_value", **MARCH, group_by="channel")
    assert [(g["key"], g["value"], g["n"]) for g in value["groups"]] == [
        ("phone", 3250.0, 2),
        ("web", (3000 + 1001 + 1001 + 500 + 700) / 5, 5),
    ]
    for bad in ({"group_by": "location"}, {"group_by": "channel", "granularity": "day"}):
        response = await history.get("/v1/kpis/orders_placed", params={**MARCH, **bad}, as_="ops")
        assert response.status_code == 422 and response.headers["content-type"].startswith(PROBLEM)


async def test_series_by_day_week_and_month_include_empty_periods(history: Any) -> None:
    days = await kpi(history, "orders_placed", **{"from": "2025-03-01", "to": "2025-03-06"}, granularity="day")
    assert [(p["period_start"], p["value"]) for p in days["series"]] == [
        ("2025-03-01T00:00:00Z", 1),
        ("2025-03-02T00:00:00Z", 0),
        ("2025-03-03T00:00:00Z", 1),
        ("2025-03-04T00:00:00Z", 0),
        ("2025-03-05T00:00:00Z", 1),
    ]
    aov = await kpi(history, "average_order_value", **{"from": "2025-03-01", "to": "2025-03-04"}, granularity="day")
    assert [(p["value"], p["n"]) for p in aov["series"]] == [(1001, 1), (None, 0), (3000, 1)]
    weeks = await kpi(history, "orders_placed", **{"from": "2025-03-03", "to": "2025-03-24"}, granularity="week")
    assert [(p["period_start"], p["value"]) for p in weeks["series"]] == [
        ("2025-03-03T00:00:00Z", 2),  # r1, a1
        ("2025-03-10T00:00:00Z", 3),  # x1, b1, c1 (x2 is cancelled)
        ("2025-03-17T00:00:00Z", 1),  # f2
    ]
    months = await kpi(history, "orders_placed", **{"from": "2025-01-01", "to": "2025-05-01"}, granularity="month")
    assert [(p["period_start"], p["value"]) for p in months["series"]] == [
        ("2025-01-01T00:00:00Z", 0),
        ("2025-02-01T00:00:00Z", 0),
        ("2025-03-01T00:00:00Z", 7),
        ("2025-04-01T00:00:00Z", 1),
    ]
    dec = await kpi(history, "orders_placed", **{"from": "2024-12-01", "to": "2025-02-01"}, granularity="month")
    assert [p["period_start"] for p in dec["series"]] == ["2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z"]
    bad = await history.get("/v1/kpis/orders_placed", params={**MARCH, "granularity": "hour"}, as_="ops")
    assert bad.status_code == 422


async def test_an_empty_denominator_gives_null(history: Any) -> None:
    empty = (await history.get("/v1/kpis", params={"from": "2030-01-01", "to": "2030-02-01"}, as_="ops")).json()
    assert empty["kpis"]["orders_placed"] == {"value": 0, "unit": "count"}
    assert empty["kpis"]["average_order_value"] == {"value": None, "unit": "minor_units", "n": 0}


ACCEPTED_PERIODS = [
    ("2025-03-01", "2025-04-01"),
    ("2025-03-01T00:00:00Z", "2025-04-01T00:00:00Z"),
    ("2025-03-01T02:00:00+02:00", "2025-04-01T03:00:00+03:00"),  # converted to UTC
    ("2025-03-01T00:00:00.000+00:00", "2025-04-01"),
]
BAD_PERIODS = [
    {"from": "2025-04-01", "to": "2025-03-01"},  # from after to
    {"from": "2025-03-01", "to": "2025-03-01"},  # empty period
    {"from": "2025-13-01", "to": "2025-04-01"},
    {"from": "yesterday!", "to": "2025-04-01"},
    {"from": "2025-03-01T00:00:00", "to": "2025-04-01"},  # no UTC offset
    {"from": "2000-01-01", "to": "2025-04-01"},  # more than ten years
    {"from": "2025-3-1", "to": "2025-04-01"},
    {"to": "2025-04-01"},
    {},
]


async def test_dates_and_rfc3339_times_are_accepted(history: Any) -> None:
    for start, end in ACCEPTED_PERIODS:
        body = (await history.get("/v1/kpis", params={"from": start, "to": end}, as_="ops")).json()
        assert (body["from"], body["to"]) == ("2025-03-01T00:00:00Z", "2025-04-01T00:00:00Z"), (start, end)
        assert body["kpis"]["orders_placed"]["value"] == 7, (start, end)


async def test_bad_periods_are_a_problem(api: Any) -> None:
    for params in BAD_PERIODS:
        for path in ("/v1/kpis", "/v1/kpis/orders_placed"):
            response = await api.get(path, params=params, as_="ops")
            assert response.status_code in (400, 422), (path, params, response.text)
            assert response.headers["content-type"].startswith(PROBLEM)


async def test_kpis_need_ops_and_an_unknown_kpi_is_404(api: Any) -> None:
    assert (await api.get("/v1/kpis", params=MARCH, as_="storefront")).status_code == 403
    assert (await api.get("/v1/kpis/definitions", as_="agent")).status_code == 403
    missing = await api.get("/v1/kpis/orders_shipped_by_pigeon", params=MARCH, as_="ops")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM)
    definitions = {d["id"]: d for d in (await api.get("/v1/kpis/definitions", as_="ops")).json()}
    assert definitions["orders_placed"]["dimensions"] == ["channel", "segment"]
    assert definitions["average_order_value"]["unit"] == "minor_units"
    assert definitions["orders_placed"]["plugin"] == "core.orders.kpis"


async def test_live_orders_count_like_imported_ones(api: Any) -> None:
    product = {"sku": "JAR", "name": "Jar", "price": {"amount": 1234, "currency": "EUR"}}
    assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
    location = {"code": "WH-1", "name": "Warehouse", "type": "warehouse"}
    assert (await api.post("/v1/locations", json=location, as_="ops")).status_code == 201
    assert (await api.put("/v1/inventory/WH-1/JAR", json={"on_hand": 5}, as_="ops")).status_code == 200
    body = {
        "channel": "phone",
        "customer": {"email": "live@example.gr", "name": "Live"},
        "lines": [{"sku": "JAR", "qty": 2}],
        "shipping_address": {"name": "L", "line1": "Odos 1", "city": "Athens", "postcode": "10431", "country": "GR"},
    }
    placed = (await api.post("/v1/orders", json=body, as_="storefront")).json()
    day = date.fromisoformat(placed["placed_at"][:10])
    params = {"from": str(day), "to": str(day + timedelta(days=1)), "segment": "first_order", "channel": "phone"}
    live = (await api.get("/v1/kpis", params=params, as_="ops")).json()["kpis"]
    assert live["orders_placed"]["value"] == 1
    assert live["average_order_value"]["value"] == 2468
    await api.post(f"/v1/orders/{placed['id']}/cancel", as_="ops")
    assert (await kpi(api, "orders_placed", **params))["value"] == 0
