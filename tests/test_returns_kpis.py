"""The 5R KPIs of kpis.md over an imported history, the `return` import kind, and a live return
counted the moment it is received.

The history (P = March 1–7, 2026; A1 at 1000, B2 at 500):
- o1 (c1, web, reactivated: c1's previous order o0 was in January 2025): A1×2, B2×2.
  r1 received 3 March: A1×1 wrong_size → refund, resold; B2×2 defective → refund, recycled.
- o2 (c2, pos, first order): A1×1. r2 received 5 March: defective → repair, repaired at a cost of 300.
- o3 (c2, web, returning): A1×3. r3 requested but never received: it counts nowhere.
- o4 (c3, web, first order): B2×4. r7 received 6 March: B2×1 changed_mind → store credit, resold;
  r4 received 9 March (after P): B2×1 wrong_item → replacement (cost 450), resold.
- o5 (c3, web): cancelled, with a received return r5 — counts nowhere.
- o6 (c4, web, placed 20 February, before P): A1×2. r6 received 2 March: defective → replacement,
  back to the supplier, replacement cost 1800.
"""

from __future__ import annotations

import asyncio
import time as time_
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

import msgspec
import pytest

from core.kpis import rollups as kpi_rollups
from core.orders.tables import Order, OrderLine
from core.returns.tables import ReturnLine, ReturnRequest
from core.runtime import Runtime
from tests.clock import pin_clock
from tests.conftest import Api
from tests.returns.conftest import Store, register_returns_plugins

P = {"from": "2026-03-01", "to": "2026-03-08"}
FIVE_R = (
    "return_rate_units",
    "return_rate_orders",
    "resell_rate",
    "replacement_rate",
    "repair_cost_ratio",
    "recycling_rate",
)


@pytest.fixture(autouse=True)
def returns_plugins(runtime: Runtime) -> Iterator[None]:
    """`core.returns.kpis` (and the default return policy) unless they are default plugins."""
    with register_returns_plugins(runtime):
        yield


def t(day: int, hour: int, month: int = 3, year: int = 2026) -> str:
    return f"{year}-{month:02d}-{day:02d}T{hour:02d}:00:00Z"


def order(oid: str, customer: str, channel: str, placed: str, lines: dict[str, int], **extra: Any) -> dict[str, Any]:
    prices = {"A1": 1000, "B2": 500}
    return {
        "kind": "order",
        "id": oid,
        "channel": channel,
        "customer_id": customer,
        "placed_at": placed,
        "currency": "EUR",
        "lines": [{"sku": sku, "qty": qty, "unit_price": prices[sku]} for sku, qty in lines.items()],
        **extra,
    }


def ret(rid: str, oid: str, requested: str, received: str | None, *lines: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "return",
        "id": rid,
        "order_id": oid,
        "requested_at": requested,
        "received_at": received,
        "lines": list(lines),
    }


def line(sku: str, qty: int, reason: str, resolution: str, disposition: str | None, **costs: int) -> dict[str, Any]:
    return {
        "sku": sku,
        "qty": qty,
        "reason": reason,
        "resolution": resolution,
        "disposition": disposition,
        "repair_cost": costs.get("repair_cost", 0),
        "replacement_cost": costs.get("replacement_cost", 0),
    }


HISTORY: list[dict[str, Any]] = [
    *({"kind": "customer", "id": c, "email": f"{c}@example.gr", "name": c} for c in ("c1", "c2", "c3", "c4")),
    {"kind": "product", "sku": "A1", "name": "Shirt", "price": 1000, "currency": "EUR", "category": "apparel"},
    {"kind": "product", "sku": "B2", "name": "Socks", "price": 500, "currency": "EUR", "category": "apparel"},
    order("o0", "c1", "web", t(10, 10, month=1, year=2025), {"A1": 1}),
    order("o6", "c4", "web", t(20, 10, month=2), {"A1": 2}),
    order("o1", "c1", "web", t(1, 9), {"A1": 2, "B2": 2}),
    order("o2", "c2", "pos", t(2, 10), {"A1": 1}),
    order("o3", "c2", "web", t(4, 10), {"A1": 3}),
    order("o4", "c3", "web", t(5, 10), {"B2": 4}),
    order("o5", "c3", "web", t(5, 12), {"A1": 1}, cancelled_at=t(5, 13)),
    ret(
        "r6",
        "o6",
        t(1, 8),
        t(2, 9),
        line("A1", 2, "defective", "replacement", "return_to_supplier", replacement_cost=1800),
    ),
    ret(
        "r1",
        "o1",
        t(2, 10),
        t(3, 10),
        line("A1", 1, "wrong_size", "refund", "resell"),
        line("B2", 2, "defective", "refund", "recycle"),
    ),
    ret("r2", "o2", t(3, 10), t(5, 12), line("A1", 1, "defective", "repair", "repair", repair_cost=300)),
    ret("r3", "o3", t(6, 10), None, line("A1", 2, "changed_mind", "refund", None)),
    ret("r5", "o5", t(5, 14), t(6, 10), line("A1", 1, "changed_mind", "refund", "resell")),
    ret("r7", "o4", t(5, 15), t(6, 15), line("B2", 1, "changed_mind", "store_credit", "resell")),
    ret("r4", "o4", t(7, 10), t(9, 10), line("B2", 1, "wrong_item", "replacement", "resell", replacement_cost=450)),
]


def ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"\n".join(msgspec.json.encode(r) for r in records) + b"\n"


async def post_import(api: Api, records: list[dict[str, Any]]) -> Any:
    return await api.post("/v1/import", content=ndjson(records), headers={"content-type": "application/x-ndjson"})


@pytest.fixture
async def history(api: Api) -> Api:
    loaded = await post_import(api, HISTORY)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["by_kind"]["return"] == 7
    return api


async def kpi(api: Api, kpi_id: str, period: dict[str, str] = P, **params: str) -> dict[str, Any]:
    response = await api.get(f"/v1/kpis/{kpi_id}", params={**period, **params}, as_="ops")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def value_of(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("value", "numerator", "denominator", "filter_not_applicable") if k in body}


# ---------------------------------------------------------------------------------------------
# Returns by order
# ---------------------------------------------------------------------------------------------


async def test_return_rate_units(history: Api) -> None:
    # o1 3 of 4, o2 1 of 1, o3 0 of 3 (never received), o4 2 of 4 (r4, received after P, counts:
    # the base is the orders placed in P); o5 cancelled, o6 placed before P.
    body = await kpi(history, "return_rate_units")
    assert value_of(body) == {"value": 6 / 12, "numerator": 6, "denominator": 12}
    assert body["unit"] == "ratio"
    assert value_of(await kpi(history, "return_rate_units", channel="web")) == {
        "value": 5 / 11,
        "numerator": 5,
        "denominator": 11,
    }
    assert value_of(await kpi(history, "return_rate_units", segment="first_order")) == {
        "value": 3 / 5,
        "numerator": 3,
        "denominator": 5,
    }
    assert value_of(await kpi(history, "return_rate_units", segment="reactivated"))["value"] == 3 / 4
    assert value_of(await kpi(history, "return_rate_units", segment="returning"))["value"] == 0
    unfiltered = await kpi(history, "return_rate_units", location="WH-ATH")
    assert value_of(unfiltered) == {"value": 0.5, "numerator": 6, "denominator": 12, "filter_not_applicable": True}
    grouped = await kpi(history, "return_rate_units", group_by="channel")
    assert grouped["groups"] == [
        {"key": "pos", "value": 1.0, "numerator": 1, "denominator": 1},
        {"key": "web", "value": 5 / 11, "numerator": 5, "denominator": 11},
    ]


async def test_return_rate_orders(history: Api) -> None:
    assert value_of(await kpi(history, "return_rate_orders")) == {"value": 0.75, "numerator": 3, "denominator": 4}
    assert value_of(await kpi(history, "return_rate_orders", channel="web")) == {
        "value": 2 / 3,
        "numerator": 2,
        "denominator": 3,
    }
    grouped = await kpi(history, "return_rate_orders", group_by="segment")
    assert grouped["groups"] == [
        {"key": "first_order", "value": 1.0, "numerator": 2, "denominator": 2},
        {"key": "reactivated", "value": 1.0, "numerator": 1, "denominator": 1},
        {"key": "returning", "value": 0.0, "numerator": 0, "denominator": 1},
    ]
    empty = await kpi(history, "return_rate_orders", {"from": "2026-04-01", "to": "2026-04-08"})
    assert value_of(empty) == {"value": None, "numerator": 0, "denominator": 0}


# ---------------------------------------------------------------------------------------------
# Return lines received in P: r6 (A1×2), r1 (A1×1, B2×2), r2 (A1×1), r7 (B2×1) — 7 units
# ---------------------------------------------------------------------------------------------


async def test_resell_rate(history: Api) -> None:
    assert value_of(await kpi(history, "resell_rate")) == {"value": 2 / 7, "numerator": 2, "denominator": 7}
    assert value_of(await kpi(history, "resell_rate", channel="pos")) == {
        "value": 0.0,
        "numerator": 0,
        "denominator": 1,
    }
    grouped = await kpi(history, "resell_rate", group_by="reason")
    assert grouped["groups"] == [
        {"key": "changed_mind", "value": 1.0, "numerator": 1, "denominator": 1},
        {"key": "defective", "value": 0.0, "numerator": 0, "denominator": 5},
        {"key": "wrong_size", "value": 1.0, "numerator": 1, "denominator": 1},
    ]
    series = await kpi(history, "resell_rate", granularity="day")
    assert [(s["period_start"][:10], s["value"]) for s in series["series"]] == [
        ("2026-03-01", None),
        ("2026-03-02", 0.0),
        ("2026-03-03", 1 / 3),
        ("2026-03-04", None),
        ("2026-03-05", 0.0),
        ("2026-03-06", 1.0),
        ("2026-03-07", None),
    ]


async def test_replacement_rate(history: Api) -> None:
    assert value_of(await kpi(history, "replacement_rate")) == {"value": 2 / 7, "numerator": 2, "denominator": 7}
    grouped = await kpi(history, "replacement_rate", group_by="disposition")
    assert grouped["groups"] == [
        {"key": "recycle", "value": 0.0, "numerator": 0, "denominator": 2},
        {"key": "repair", "value": 0.0, "numerator": 0, "denominator": 1},
        {"key": "resell", "value": 0.0, "numerator": 0, "denominator": 2},
        {"key": "return_to_supplier", "value": 1.0, "numerator": 2, "denominator": 2},
    ]
    # r4's replacement was received after P.
    after = await kpi(history, "replacement_rate", {"from": "2026-03-08", "to": "2026-03-15"})
    assert value_of(after) == {"value": 1.0, "numerator": 1, "denominator": 1}


async def test_repair_cost_ratio(history: Api) -> None:
    # (300 + 1800) ÷ (1000 + 2 × 500 + 1000 + 2 × 1000 + 500), at the order lines' unit prices.
    body = await kpi(history, "repair_cost_ratio")
    assert value_of(body) == {"value": 2100 / 5500, "numerator": 2100, "denominator": 5500}
    assert value_of(await kpi(history, "repair_cost_ratio", channel="pos")) == {
        "value": 0.3,
        "numerator": 300,
        "denominator": 1000,
    }
    grouped = await kpi(history, "repair_cost_ratio", group_by="resolution")
    assert grouped["groups"] == [
        {"key": "refund", "value": 0.0, "numerator": 0, "denominator": 2000},
        {"key": "repair", "value": 0.3, "numerator": 300, "denominator": 1000},
        {"key": "replacement", "value": 0.9, "numerator": 1800, "denominator": 2000},
        {"key": "store_credit", "value": 0.0, "numerator": 0, "denominator": 500},
    ]


async def test_recycling_rate(history: Api) -> None:
    assert value_of(await kpi(history, "recycling_rate")) == {"value": 2 / 7, "numerator": 2, "denominator": 7}
    # First orders: o2 (r2, A1×1), o4 (r7, B2×1) and o6 (r6, A1×2, c4's first order).
    assert value_of(await kpi(history, "recycling_rate", segment="first_order")) == {
        "value": 0.0,
        "numerator": 0,
        "denominator": 4,
    }
    assert value_of(await kpi(history, "recycling_rate", segment="reactivated")) == {
        "value": 2 / 3,
        "numerator": 2,
        "denominator": 3,
    }
    grouped = await kpi(history, "recycling_rate", group_by="resolution")
    assert [g["key"] for g in grouped["groups"]] == ["refund", "repair", "replacement", "store_credit"]
    assert grouped["groups"][0] == {"key": "refund", "value": 2 / 3, "numerator": 2, "denominator": 3}


async def test_the_5r_are_listed_with_their_definitions_and_in_the_full_list(history: Api) -> None:
    definitions = (await history.get("/v1/kpis/definitions", as_="ops")).json()
    found = {d["id"]: d for d in (definitions["items"] if isinstance(definitions, dict) else definitions)}
    for kpi_id in FIVE_R:
        assert found[kpi_id]["unit"] == "ratio" and found[kpi_id]["formula"]
        assert sorted(found[kpi_id]["filters"]) == ["channel", "segment"]
    assert "reason" in found["resell_rate"]["dimensions"]
    every = await history.get("/v1/kpis", params=P, as_="ops")
    assert every.status_code == 200, every.text
    kpis = every.json()["kpis"]
    assert kpis["return_rate_units"]["value"] == 0.5 and kpis["recycling_rate"]["value"] == 2 / 7
    bad = await history.get("/v1/kpis/resell_rate", params={**P, "group_by": "location"}, as_="ops")
    assert bad.status_code in (400, 422), bad.text


# ---------------------------------------------------------------------------------------------
# The `return` import kind
# ---------------------------------------------------------------------------------------------


async def test_imported_returns_land_in_the_returns_tables(history: Api) -> None:
    rows = {r["external_ref"]: r for r in await ReturnRequest.select()}
    assert set(rows) == {"r1", "r2", "r3", "r4", "r5", "r6", "r7"}
    assert rows["r1"]["status"] == "completed" and rows["r1"]["origin"] == "import"
    assert rows["r3"]["status"] == "requested" and rows["r3"]["received_at"] is None
    lines = await ReturnLine.select().where(ReturnLine.return_id == rows["r1"]["id"]).order_by(ReturnLine.sku)
    assert [(ln["sku"], ln["qty"], ln["received_qty"], ln["unit_price"], ln["disposition"]) for ln in lines] == [
        ("A1", 1, 1, 1000, "resell"),
        ("B2", 2, 2, 500, "recycle"),
    ]
    unreceived = await ReturnLine.select().where(ReturnLine.return_id == rows["r3"]["id"])
    assert [(ln["qty"], ln["received_qty"]) for ln in unreceived] == [(2, 0)]
    returned = await OrderLine.select(OrderLine.sku, OrderLine.qty_returned).where(
        OrderLine.order_id == rows["r1"]["order_id"]
    )
    assert sorted((r["sku"], r["qty_returned"]) for r in returned) == [("A1", 1), ("B2", 2)]


async def test_re_importing_returns_changes_nothing(history: Api) -> None:
    before = await kpi(history, "return_rate_units")
    again = await post_import(history, HISTORY)
    assert again.status_code == 200, again.text
    assert await ReturnRequest.count() == 7 and await ReturnLine.count() == 8
    assert await kpi(history, "return_rate_units") == before
    o4 = await OrderLine.select(OrderLine.qty_returned).where(OrderLine.sku == "B2").order_by(OrderLine.qty_returned)
    assert [r["qty_returned"] for r in o4] == [2, 2]  # o1's B2×2, o4's r7 + r4


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (ret("rx", "o-missing", t(2, 10), None, line("A1", 1, "x", "refund", None)), "refers to order o-missing"),
        (ret("rx", "o2", t(2, 10), None, line("B2", 1, "x", "refund", None)), "returns B2, which order o2 lacks"),
        (
            ret("rx", "o1", t(8, 10), t(8, 12), line("A1", 2, "x", "refund", "resell")),
            "returns 2 × A1, but order o1 has only 1 not already returned",
        ),
        (ret("rx", "o2", t(5, 10), t(4, 10), line("A1", 1, "x", "refund", None)), "received_at is before requested_at"),
        (
            ret("rx", "o1", t(5, 10), None, line("A1", 1, "x", "refund", None), line("A1", 1, "y", "refund", None)),
            "two lines for A1",
        ),
        ({**ret("rx", "o2", t(5, 10), None, line("A1", 1, "x", "refund", None)), "channel": "web"}, "channel"),
        (ret("rx", "o2", t(5, 10), None, line("A1", 1, "x", "exchange", None)), "resolution"),
    ],
)
async def test_a_bad_return_line_is_refused_with_its_line_number(
    history: Api, record: dict[str, Any], message: str
) -> None:
    good = ret("rgood", "o2", t(6, 10), None, line("A1", 1, "changed_mind", "refund", None))
    refused = await post_import(history, [good, record])
    assert refused.status_code == 422, refused.text
    error = refused.json()["errors"][0]
    assert error["line"] == 2 and message in error["message"], error
    assert not await ReturnRequest.exists().where(ReturnRequest.external_ref == "rgood")  # same batch: not applied


# ---------------------------------------------------------------------------------------------
# A live return counts the moment it is received
# ---------------------------------------------------------------------------------------------


LIVE = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)  # a Wednesday morning: the live tests' clock


async def test_a_live_return_counts_as_soon_as_it_is_received(
    api: Api, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    pin_clock(monkeypatch, LIVE)
    store = Store(api, runtime)
    await store.seed()
    placed = await store.order({"TEE-BLK-M": 2})
    await store.deliver(placed["id"])
    today = LIVE.date()
    period = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    assert value_of(await kpi(api, "return_rate_units", period)) == {"value": 0.0, "numerator": 0, "denominator": 2}
    filed = await api.post(
        "/v1/returns",
        json={
            "order_id": placed["id"],
            "lines": [{"sku": "TEE-BLK-M", "qty": 1, "reason": "wrong_size"}],
            "method": "store",
            "resolution": "refund",
        },
        as_="storefront",
    )
    assert filed.status_code == 201, filed.text
    assert value_of(await kpi(api, "return_rate_orders", period))["value"] == 0.0  # requested is not received
    assert value_of(await kpi(api, "resell_rate", period)) == {"value": None, "numerator": 0, "denominator": 0}
    done = await api.post(
        f"/v1/returns/{filed.json()['id']}/receive",
        json={"lines": [{"sku": "TEE-BLK-M", "qty": 1, "condition": "as_new", "disposition": "resell"}]},
        as_="ops",
    )
    assert done.status_code == 200, done.text
    # No worker, no waiting: the KPIs read the returns tables.
    assert value_of(await kpi(api, "return_rate_units", period)) == {"value": 0.5, "numerator": 1, "denominator": 2}
    assert value_of(await kpi(api, "return_rate_orders", period)) == {"value": 1.0, "numerator": 1, "denominator": 1}
    assert value_of(await kpi(api, "resell_rate", period)) == {"value": 1.0, "numerator": 1, "denominator": 1}
    assert value_of(await kpi(api, "recycling_rate", period)) == {"value": 0.0, "numerator": 0, "denominator": 1}
    assert value_of(await kpi(api, "replacement_rate", period)) == {"value": 0.0, "numerator": 0, "denominator": 1}
    assert value_of(await kpi(api, "repair_cost_ratio", period)) == {"value": 0.0, "numerator": 0, "denominator": 2000}


async def test_a_live_return_on_a_day_already_rolled_up_counts_within_60_seconds(
    api: Api, runtime: Runtime, worker: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closed days are read from rollups; the return's event marks its order's days dirty, so
    the KPI is read raw again as soon as the worker has seen the event."""
    pin_clock(monkeypatch, LIVE)
    store = Store(api, runtime)
    await store.seed()
    placed = await store.order({"TEE-BLK-M": 2})
    await store.deliver(placed["id"])
    day = (LIVE - timedelta(days=2)).date()
    async with runtime.db.write():
        await Order.update({Order.placed_at: datetime.combine(day, time(12), tzinfo=UTC)}).where(
            Order.id == placed["id"]
        )
    plan = kpi_rollups.plans(runtime.host)["returns.orders"]
    await kpi_rollups.build_day(runtime.db, plan, day)
    assert day in await kpi_rollups.usable_days(plan.key, day, day + timedelta(days=1))
    period = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}
    assert value_of(await kpi(api, "return_rate_units", period)) == {"value": 0.0, "numerator": 0, "denominator": 2}
    filed = await api.post(
        "/v1/returns",
        json={
            "order_id": placed["id"],
            "lines": [{"sku": "TEE-BLK-M", "qty": 2, "reason": "changed_mind"}],
            "method": "store",
            "resolution": "store_credit",
        },
        as_="storefront",
    )
    assert filed.status_code == 201, filed.text
    done = await api.post(
        f"/v1/returns/{filed.json()['id']}/receive",
        json={"lines": [{"sku": "TEE-BLK-M", "qty": 2, "condition": "as_new", "disposition": "resell"}]},
        as_="ops",
    )
    assert done.status_code == 200, done.text
    deadline = time_.monotonic() + 60
    while True:
        found = value_of(await kpi(api, "return_rate_units", period))
        if found == {"value": 1.0, "numerator": 2, "denominator": 2}:
            break
        assert time_.monotonic() < deadline, f"still {found} after 60 s"
        await asyncio.sleep(0.1)
