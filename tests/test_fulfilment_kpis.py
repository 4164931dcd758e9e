"""Fulfilment and delivery KPIs of kpis.md over a small imported history, and the `shipment`,
`picker_shift` and `inventory_count` import kinds.

The history (P = March 1–7, 2026):
- o1 (c1, web, first order): one shipment, delivered on time at the first attempt, perfect.
- o2 (c2, web, first order): two shipments; one needed a second delivery attempt, the other was
  short-picked (1 of 2) — delivered on time but neither perfect nor filled at the first attempt.
- o3 (c1, pos, returning): shipped and delivered late, damaged.
- o4 (c2, web, returning): only 1 of 2 units shipped and delivered — neither shipped nor delivered.
- o5 (c1, web): cancelled, although shipped and delivered — counts nowhere.
- o6 (c3, web): picked exactly at `to`, shipped and delivered after P.
- o7 (c4, pos, reactivated: c4's previous order o0 was in 2024): delivered on time with a pick
  error, no delivery attempts recorded.
Plus a return shipment and a cancelled shipment written directly, which count nowhere.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from core.catalogue.tables import InventoryCount
from core.domain.ids import new_id
from core.fulfilment import import_kinds as fulfilment_import
from core.fulfilment import kpis as fulfilment_kpis
from core.fulfilment.tables import DeliveryAttempt, PickerShift, Shipment, ShipmentLine
from core.kpis import rollups as kpi_rollups
from core.orders.tables import Order
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from tests.conftest import Api

P = {"from": "2026-03-01", "to": "2026-03-08"}
FULFILMENT_KPIS = (
    "completed_orders",
    "on_time_delivery_rate",
    "on_time_shipping_rate",
    "perfect_order_rate",
    "order_cycle_time_hours",
    "order_picking_time_minutes",
    "orders_picked_per_hour",
    "picking_accuracy",
    "line_item_fill_rate",
    "avg_shipping_cost",
    "shipping_cost_to_sales",
    "order_fill_rate",
    "inventory_accuracy",
)


@pytest.fixture(autouse=True)
def fulfilment_plugins(runtime: Runtime) -> Iterator[None]:
    """Register the fulfilment KPI and import modules unless they are default plugins already."""
    with contextlib.ExitStack() as stack:
        for module, name in ((fulfilment_kpis, "fulfilment-kpis"), (fulfilment_import, "fulfilment-import")):
            if not runtime.host.pm.is_registered(module):
                stack.enter_context(inline_plugin(runtime.host, module, name))
        yield


# ---------------------------------------------------------------------------------------------
# The history
# ---------------------------------------------------------------------------------------------


def t(day: int, hour: int, minute: int = 0, month: int = 3, year: int = 2026) -> str:
    return f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def order(
    oid: str, customer: str, channel: str, placed: str, lines: list[tuple[str, int, int]], **extra: Any
) -> dict[str, Any]:
    return {
        "kind": "order",
        "id": oid,
        "channel": channel,
        "customer_id": customer,
        "placed_at": placed,
        "currency": "EUR",
        "lines": [{"sku": sku, "qty": qty, "unit_price": price} for sku, qty, price in lines],
        **extra,
    }


def shipment(
    sid: str, oid: str, location: str, lines: list[tuple[str, int, int | None]], **extra: Any
) -> dict[str, Any]:
    return {
        "kind": "shipment",
        "id": sid,
        "order_id": oid,
        "location": location,
        "lines": [{"sku": sku, "qty": qty, "picked_qty": picked} for sku, qty, picked in lines],
        **extra,
    }


def delivered(at: str) -> list[dict[str, Any]]:
    return [{"at": at, "outcome": "delivered"}]


BASE: list[dict[str, Any]] = [
    {"kind": "customer", "id": "c1", "email": "c1@example.gr", "name": "One"},
    {"kind": "customer", "id": "c2", "email": "c2@example.gr", "name": "Two"},
    {"kind": "customer", "id": "c3", "email": "c3@example.gr", "name": "Three"},
    {"kind": "customer", "id": "c4", "email": "c4@example.gr", "name": "Four"},
    {"kind": "product", "sku": "A1", "name": "Shirt", "price": 1000, "currency": "EUR"},
    {"kind": "product", "sku": "B2", "name": "Socks", "price": 500, "currency": "EUR"},
    {"kind": "location", "code": "WH-ATH", "name": "Athens", "type": "warehouse"},
    {"kind": "location", "code": "WH-SKG", "name": "Thessaloniki", "type": "warehouse"},
    order("o0", "c4", "web", t(1, 9, month=12, year=2024), [("A1", 1, 1000)]),
    order("o1", "c1", "web", t(1, 8), [("A1", 2, 1000)], promised_ship_by=t(2, 18), promised_delivery_by=t(4, 18)),
    order(
        "o2",
        "c2",
        "web",
        t(1, 10),
        [("A1", 1, 1000), ("B2", 2, 500)],
        promised_ship_by=t(2, 12),
        promised_delivery_by=t(5, 0),
    ),
    order("o5", "c1", "web", t(1, 12), [("A1", 1, 1000)], cancelled_at=t(1, 13)),
    order("o3", "c1", "pos", t(2, 9), [("A1", 1, 1000)], promised_ship_by=t(2, 12), promised_delivery_by=t(3, 12)),
    order("o4", "c2", "web", t(2, 10), [("A1", 2, 1000)], promised_ship_by=t(3, 0), promised_delivery_by=t(6, 0)),
    order(
        "o7",
        "c4",
        "pos",
        t(3, 8),
        [("A1", 1, 1000), ("B2", 1, 500)],
        promised_ship_by=t(3, 18),
        promised_delivery_by=t(6, 0),
    ),
    order("o6", "c3", "web", t(6, 10), [("B2", 1, 500)], promised_ship_by=t(8, 12), promised_delivery_by=t(10, 0)),
    shipment(
        "s0",
        "o0",
        "WH-ATH",
        [("A1", 1, 1)],
        shipped_at=t(2, 9, month=12, year=2024),
        delivered_at=t(5, 9, month=12, year=2024),
    ),
    shipment(
        "s1",
        "o1",
        "WH-ATH",
        [("A1", 2, 2)],
        courier="acs",
        picker="p7",
        pick_started_at=t(1, 9),
        pick_completed_at=t(1, 9, 30),
        shipped_at=t(1, 15),
        shipping_cost=350,
        attempts=delivered(t(3, 10)),
        delivered_at=t(3, 10),
    ),
    shipment(
        "s2a",
        "o2",
        "WH-ATH",
        [("A1", 1, 1)],
        courier="acs",
        picker="p7",
        pick_started_at=t(1, 11),
        pick_completed_at=t(1, 11, 20),
        shipped_at=t(1, 16),
        shipping_cost=300,
        attempts=[{"at": t(2, 10), "outcome": "failed", "reason": "recipient_absent"}, *delivered(t(3, 12))],
        delivered_at=t(3, 12),
    ),
    shipment(
        "s2b",
        "o2",
        "WH-SKG",
        [("B2", 2, 1)],
        courier="elta",
        picker="p8",
        pick_started_at=t(2, 8),
        pick_completed_at=t(2, 8, 45),
        shipped_at=t(2, 12),
        attempts=delivered(t(4, 9)),
        delivered_at=t(4, 9),
    ),
    shipment(
        "s3",
        "o3",
        "WH-ATH",
        [("A1", 1, 1)],
        courier="acs",
        picker="p7",
        pick_started_at=t(2, 10),
        pick_completed_at=t(2, 10, 10),
        shipped_at=t(2, 14),
        shipping_cost=400,
        attempts=delivered(t(5, 10)),
        delivered_at=t(5, 10),
        damaged=True,
    ),
    shipment(
        "s4",
        "o4",
        "WH-ATH",
        [("A1", 1, 1)],
        courier="acs",
        picker="p8",
        pick_started_at=t(2, 11),
        pick_completed_at=t(2, 11, 15),
        shipped_at=t(2, 15),
        shipping_cost=250,
        attempts=delivered(t(4, 10)),
        delivered_at=t(4, 10),
    ),
    shipment(
        "s5",
        "o5",
        "WH-ATH",
        [("A1", 1, 0)],
        courier="acs",
        picker="p7",
        pick_started_at=t(1, 12, 10),
        pick_completed_at=t(1, 12, 40),
        pick_error=True,
        shipped_at=t(1, 14),
        shipping_cost=999,
        delivered_at=t(2, 10),
    ),
    shipment(
        "s7",
        "o7",
        "WH-SKG",
        [("A1", 1, 1), ("B2", 1, 1)],
        courier="elta",
        picker="p8",
        pick_started_at=t(3, 9),
        pick_completed_at=t(3, 9, 40),
        pick_error=True,
        shipped_at=t(3, 12),
        shipping_cost=500,
        delivered_at=t(4, 12),
    ),
    shipment(
        "s6",
        "o6",
        "WH-SKG",
        [("B2", 1, 1)],
        courier="elta",
        picker="p8",
        pick_started_at=t(7, 23),
        pick_completed_at=t(8, 0),
        shipped_at=t(8, 9),
        shipping_cost=100,
        delivered_at=t(9, 10),
    ),
    {"kind": "picker_shift", "picker": "p7", "date": "2026-03-01", "hours": 8},
    {"kind": "picker_shift", "picker": "p7", "date": "2026-03-02", "hours": 7.5},
    {"kind": "picker_shift", "picker": "p8", "date": "2026-03-03", "hours": 6.5},
    {"kind": "picker_shift", "picker": "p8", "date": "2026-03-08", "hours": 8},
    {
        "kind": "inventory_count",
        "location": "WH-ATH",
        "sku": "A1",
        "counted_at": t(2, 7),
        "system_qty": 10,
        "counted_qty": 10,
    },
    {
        "kind": "inventory_count",
        "location": "WH-ATH",
        "sku": "B2",
        "counted_at": t(3, 7),
        "system_qty": 5,
        "counted_qty": 4,
    },
    {
        "kind": "inventory_count",
        "location": "WH-SKG",
        "sku": "A1",
        "counted_at": t(4, 7),
        "system_qty": 3,
        "counted_qty": 3,
    },
    {
        "kind": "inventory_count",
        "location": "WH-SKG",
        "sku": "B2",
        "counted_at": t(8, 0),
        "system_qty": 1,
        "counted_qty": 0,
    },
]


def ndjson(records: list[dict[str, Any]]) -> bytes:
    return b"\n".join(msgspec.json.encode(r) for r in records) + b"\n"


async def post_import(api: Api, records: list[dict[str, Any]]) -> Any:
    return await api.post("/v1/import", content=ndjson(records), headers={"content-type": "application/x-ndjson"})


async def load(api: Api, records: list[dict[str, Any]]) -> dict[str, Any]:
    response = await post_import(api, records)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def write_directly(runtime: Runtime, order_ref: str, **fields: Any) -> None:
    """A live shipment the import cannot express (a return, a cancelled one), with one A1 line."""
    row = await Order.select(Order.id).where(Order.external_ref == order_ref).first()
    assert row is not None
    sid = new_id("shp")
    async with runtime.db.write():
        await Shipment.insert(
            Shipment(
                id=sid,
                order_id=row["id"],
                location="WH-ATH",
                created_at=fields["pick_completed_at"],
                updated_at=fields["pick_completed_at"],
                **fields,
            )
        )
        await ShipmentLine.insert(
            ShipmentLine(id=f"{sid}|A1", shipment_id=sid, order_id=row["id"], sku="A1", qty=2, picked_qty=0)
        )
        await DeliveryAttempt.insert(
            DeliveryAttempt(
                id=new_id("dla"),
                shipment_id=sid,
                at=fields["pick_completed_at"],
                outcome="failed",
                number=1,
                source_key="live:1",
            )
        )


@pytest.fixture
async def history(api: Api, runtime: Runtime) -> Api:
    await load(api, BASE)

    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 3, day, hour, tzinfo=UTC)

    # If counted, the return would make o1 delivered on 03-06, imperfect and not filled, the cancelled
    # shipment would move o3 to 03-06, and both would change every shipment KPI.
    await write_directly(
        runtime,
        "o1",
        status="delivered",
        is_return=True,
        pick_completed_at=at(2, 10),
        pick_error=True,
        shipped_at=at(2, 11),
        shipping_cost=700,
        delivered_at=at(6, 10),
        damaged=True,
    )
    await write_directly(
        runtime,
        "o3",
        status="cancelled",
        pick_completed_at=at(2, 10),
        pick_error=True,
        shipped_at=at(2, 13),
        shipping_cost=800,
        delivered_at=at(6, 11),
    )
    return api


async def kpi(api: Api, kpi_id: str, **params: str) -> dict[str, Any]:
    query = {**P, **params}
    response = await api.get(f"/v1/kpis/{kpi_id}", params=query, as_="ops")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def value_of(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("value", "numerator", "denominator", "n", "filter_not_applicable") if k in body}


# ---------------------------------------------------------------------------------------------
# Each KPI over the history
# ---------------------------------------------------------------------------------------------


async def test_completed_orders(history: Api) -> None:
    body = await kpi(history, "completed_orders")
    # o1, o2, o3, o7: o4 is partly delivered, o5 cancelled, o6 delivered after P.
    assert value_of(body) == {"value": 4}
    assert body["unit"] == "count"
    assert value_of(await kpi(history, "completed_orders", channel="web")) == {"value": 2}
    assert value_of(await kpi(history, "completed_orders", segment="first_order")) == {"value": 2}
    assert value_of(await kpi(history, "completed_orders", segment="returning")) == {"value": 1}
    assert value_of(await kpi(history, "completed_orders", segment="reactivated")) == {"value": 1}
    grouped = await kpi(history, "completed_orders", group_by="channel")
    assert grouped["groups"] == [{"key": "pos", "value": 2}, {"key": "web", "value": 2}]
    series = await kpi(history, "completed_orders", granularity="day")
    assert [(s["period_start"][:10], s["value"]) for s in series["series"]] == [
        ("2026-03-01", 0),
        ("2026-03-02", 0),
        ("2026-03-03", 1),
        ("2026-03-04", 2),
        ("2026-03-05", 1),
        ("2026-03-06", 0),
        ("2026-03-07", 0),
    ]


async def test_completed_orders_period_is_half_open(history: Api) -> None:
    # o1 delivered 03-03 10:00 (= from, in), o2 at 03-04 09:00 (= to, out).
    body = await kpi(history, "completed_orders", **{"from": t(3, 10), "to": t(4, 9)})
    assert body["value"] == 1
    body = await kpi(history, "completed_orders", **{"from": t(4, 9), "to": t(4, 12)})
    assert body["value"] == 1  # o2; o7 at 12:00 is out
    assert (await kpi(history, "completed_orders", **{"from": "2026-03-08", "to": "2026-03-10"}))["value"] == 1  # o6


async def test_partially_delivered_order_is_not_delivered_until_its_last_unit(history: Api) -> None:
    # s4 delivered one of o4's two units on 03-04 10:00.
    assert (await kpi(history, "completed_orders", **{"from": t(4, 10), "to": t(4, 11)}))["value"] == 0
    await load(
        history,
        [shipment("s4b", "o4", "WH-SKG", [("A1", 1, 1)], shipped_at=t(5, 10), delivered_at=t(6, 15), shipping_cost=0)],
    )
    assert (await kpi(history, "completed_orders"))["value"] == 5
    # Attributed to the latest delivery, which was after the promise (03-06 00:00).
    assert (await kpi(history, "completed_orders", **{"from": t(4, 10), "to": t(4, 11)}))["value"] == 0
    assert (await kpi(history, "completed_orders", **{"from": "2026-03-06", "to": "2026-03-07"}))["value"] == 1
    assert value_of(await kpi(history, "on_time_delivery_rate")) == {"value": 3 / 5, "numerator": 3, "denominator": 5}
    # Shipped at the latest shipped_at (03-05 10:00), after promised_ship_by (03-03 00:00).
    assert value_of(await kpi(history, "on_time_shipping_rate")) == {"value": 3 / 5, "numerator": 3, "denominator": 5}


async def test_on_time_delivery_rate(history: Api) -> None:
    # o1, o2, o7 on time; o3 late.
    assert value_of(await kpi(history, "on_time_delivery_rate")) == {"value": 0.75, "numerator": 3, "denominator": 4}
    assert value_of(await kpi(history, "on_time_delivery_rate", channel="web")) == {
        "value": 1.0,
        "numerator": 2,
        "denominator": 2,
    }
    assert value_of(await kpi(history, "on_time_delivery_rate", channel="pos")) == {
        "value": 0.5,
        "numerator": 1,
        "denominator": 2,
    }
    body = await kpi(history, "on_time_delivery_rate", location="WH-ATH")
    assert value_of(body) == {"value": 0.75, "numerator": 3, "denominator": 4, "filter_not_applicable": True}
    series = await kpi(history, "on_time_delivery_rate", granularity="day")
    assert [s["value"] for s in series["series"]] == [None, None, 1.0, 1.0, 0.0, None, None]
    assert series["series"][0]["denominator"] == 0


async def test_on_time_shipping_rate(history: Api) -> None:
    # o1 shipped 03-01 15:00 ≤ 03-02 18:00; o2 at its later shipment 03-02 12:00 = promise (on time);
    # o3 at 14:00 > 12:00; o7 12:00 ≤ 18:00. o4 is half shipped, o6 shipped after P.
    assert value_of(await kpi(history, "on_time_shipping_rate")) == {"value": 0.75, "numerator": 3, "denominator": 4}
    grouped = await kpi(history, "on_time_shipping_rate", group_by="segment")
    assert grouped["groups"] == [
        {"key": "first_order", "value": 1.0, "numerator": 2, "denominator": 2},
        {"key": "reactivated", "value": 1.0, "numerator": 1, "denominator": 1},
        {"key": "returning", "value": 0.0, "numerator": 0, "denominator": 1},
    ]
    # o2 counts on 03-02, the day of its last shipment.
    series = await kpi(history, "on_time_shipping_rate", granularity="day")
    assert [s.get("denominator") for s in series["series"]] == [1, 2, 1, 0, 0, 0, 0]


async def test_perfect_order_rate(history: Api) -> None:
    # Only o1: o2 short-picked, o3 late and damaged, o7 with a pick error.
    assert value_of(await kpi(history, "perfect_order_rate")) == {"value": 0.25, "numerator": 1, "denominator": 4}
    grouped = await kpi(history, "perfect_order_rate", group_by="channel")
    assert grouped["groups"] == [
        {"key": "pos", "value": 0.0, "numerator": 0, "denominator": 2},
        {"key": "web", "value": 0.5, "numerator": 1, "denominator": 2},
    ]


async def test_short_pick_makes_an_order_imperfect_but_still_delivered(api: Api) -> None:
    await load(
        api,
        [
            *BASE[:8],
            order(
                "q1", "c1", "web", t(1, 8), [("A1", 2, 1000)], promised_ship_by=t(2, 0), promised_delivery_by=t(4, 0)
            ),
            shipment(
                "q1s",
                "q1",
                "WH-ATH",
                [("A1", 2, 1)],
                pick_completed_at=t(1, 9),
                shipped_at=t(1, 10),
                delivered_at=t(2, 10),
            ),
        ],
    )
    assert (await kpi(api, "completed_orders"))["value"] == 1
    assert value_of(await kpi(api, "on_time_delivery_rate")) == {"value": 1.0, "numerator": 1, "denominator": 1}
    assert value_of(await kpi(api, "perfect_order_rate")) == {"value": 0.0, "numerator": 0, "denominator": 1}
    assert value_of(await kpi(api, "line_item_fill_rate")) == {"value": 0.0, "numerator": 0, "denominator": 1}
    # A pick never recorded (picked_qty unknown) is not a perfect pick either.
    await load(
        api,
        [
            order("q2", "c2", "web", t(1, 8), [("B2", 1, 500)], promised_delivery_by=t(4, 0)),
            shipment("q2s", "q2", "WH-ATH", [("B2", 1, None)], shipped_at=t(1, 10), delivered_at=t(2, 11)),
            order("q3", "c3", "web", t(1, 8), [("B2", 1, 500)], promised_delivery_by=t(4, 0)),
            shipment("q3s", "q3", "WH-ATH", [("B2", 1, 1)], shipped_at=t(1, 10), delivered_at=t(2, 12)),
        ],
    )
    assert value_of(await kpi(api, "perfect_order_rate")) == {"value": 1 / 3, "numerator": 1, "denominator": 3}


async def test_order_cycle_time_hours(history: Api) -> None:
    # o1 50 h, o2 71 h, o3 73 h, o7 28 h: the median of four is the mean of 50 and 71.
    body = await kpi(history, "order_cycle_time_hours")
    assert value_of(body) == {"value": 60.5, "n": 4}
    assert body["unit"] == "hours"
    assert value_of(await kpi(history, "order_cycle_time_hours", segment="returning")) == {"value": 73.0, "n": 1}
    assert value_of(await kpi(history, "order_cycle_time_hours", channel="pos")) == {"value": 50.5, "n": 2}
    grouped = await kpi(history, "order_cycle_time_hours", group_by="channel")
    assert grouped["groups"] == [{"key": "pos", "value": 50.5, "n": 2}, {"key": "web", "value": 60.5, "n": 2}]


async def test_order_picking_time_minutes(history: Api) -> None:
    # s1 30, s2a 20, s2b 45, s3 10, s4 15, s7 40 minutes; s5 (cancelled order), s6 (completed at
    # `to`), the return and the cancelled shipment are out.
    body = await kpi(history, "order_picking_time_minutes")
    assert value_of(body) == {"value": 160 / 6, "n": 6}
    assert body["unit"] == "minutes"
    assert value_of(await kpi(history, "order_picking_time_minutes", location="WH-SKG")) == {"value": 42.5, "n": 2}
    assert value_of(await kpi(history, "order_picking_time_minutes", channel="pos")) == {"value": 25.0, "n": 2}
    after = await kpi(history, "order_picking_time_minutes", **{"from": "2026-03-08", "to": "2026-03-09"})
    assert value_of(after) == {"value": 60.0, "n": 1}
    grouped = await kpi(history, "order_picking_time_minutes", group_by="picker")
    assert grouped["groups"] == [{"key": "p7", "value": 20.0, "n": 3}, {"key": "p8", "value": 100 / 3, "n": 3}]


async def test_orders_picked_per_hour(history: Api) -> None:
    # 6 shipments picked ÷ (8 + 7.5 + 6.5) shift hours; p8's shift on 03-08 is out of P.
    body = await kpi(history, "orders_picked_per_hour")
    assert value_of(body) == {"value": 6 / 22, "numerator": 6, "denominator": 22.0}
    for flt in ({"channel": "web"}, {"segment": "first_order"}, {"location": "WH-ATH"}):
        assert value_of(await kpi(history, "orders_picked_per_hour", **flt)) == {
            "value": 6 / 22,
            "numerator": 6,
            "denominator": 22.0,
            "filter_not_applicable": True,
        }
    grouped = await kpi(history, "orders_picked_per_hour", group_by="picker")
    assert grouped["groups"] == [
        {"key": "p7", "value": 3 / 15.5, "numerator": 3, "denominator": 15.5},
        {"key": "p8", "value": 3 / 6.5, "numerator": 3, "denominator": 6.5},
    ]
    # A shift counts when its date's midnight is in P: from noon on 03-01, 03-01's shift is out.
    body = await kpi(history, "orders_picked_per_hour", **{"from": t(1, 12), "to": "2026-03-08"})
    assert value_of(body) == {"value": 4 / 14, "numerator": 4, "denominator": 14.0}
    body = await kpi(history, "orders_picked_per_hour", **{"from": "2026-03-08", "to": "2026-03-09"})
    assert value_of(body) == {"value": 1 / 8, "numerator": 1, "denominator": 8.0}


async def test_picking_accuracy(history: Api) -> None:
    # s7 had a pick error; s5 (cancelled order) and the return and cancelled shipments do not count.
    assert value_of(await kpi(history, "picking_accuracy")) == {"value": 5 / 6, "numerator": 5, "denominator": 6}
    assert value_of(await kpi(history, "picking_accuracy", location="WH-SKG")) == {
        "value": 0.5,
        "numerator": 1,
        "denominator": 2,
    }
    grouped = await kpi(history, "picking_accuracy", group_by="location")
    assert grouped["groups"] == [
        {"key": "WH-ATH", "value": 1.0, "numerator": 4, "denominator": 4},
        {"key": "WH-SKG", "value": 0.5, "numerator": 1, "denominator": 2},
    ]


async def test_line_item_fill_rate(history: Api) -> None:
    # Seven lines; s2b's B2 line was picked 1 of 2.
    assert value_of(await kpi(history, "line_item_fill_rate")) == {"value": 6 / 7, "numerator": 6, "denominator": 7}
    assert value_of(await kpi(history, "line_item_fill_rate", location="WH-SKG")) == {
        "value": 2 / 3,
        "numerator": 2,
        "denominator": 3,
    }
    assert value_of(await kpi(history, "line_item_fill_rate", channel="web")) == {
        "value": 3 / 4,
        "numerator": 3,
        "denominator": 4,
    }


async def test_avg_shipping_cost(history: Api) -> None:
    # 350 + 300 + 0 (s2b, cost unknown) + 400 + 250 + 500 over o1, o2, o3, o4, o7.
    body = await kpi(history, "avg_shipping_cost")
    assert value_of(body) == {"value": 360.0, "numerator": 1800, "denominator": 5}
    assert body["unit"] == "minor_units"
    assert value_of(await kpi(history, "avg_shipping_cost", location="WH-ATH")) == {
        "value": 325.0,
        "numerator": 1300,
        "denominator": 4,
    }
    grouped = await kpi(history, "avg_shipping_cost", group_by="courier")
    assert grouped["groups"] == [
        {"key": "acs", "value": 325.0, "numerator": 1300, "denominator": 4},
        {"key": "elta", "value": 250.0, "numerator": 500, "denominator": 2},
    ]
    # s6 shipped on 03-08 09:00.
    after = await kpi(history, "avg_shipping_cost", **{"from": "2026-03-08", "to": "2026-03-09"})
    assert value_of(after) == {"value": 100.0, "numerator": 100, "denominator": 1}


async def test_shipping_cost_to_sales(history: Api) -> None:
    # 1800 ÷ (2000 + 2000 + 1000 + 2000 + 1500): o2's value counts once for its two shipments.
    assert value_of(await kpi(history, "shipping_cost_to_sales")) == {
        "value": 1800 / 8500,
        "numerator": 1800,
        "denominator": 8500,
    }
    assert value_of(await kpi(history, "shipping_cost_to_sales", location="WH-SKG")) == {
        "value": 500 / 3500,
        "numerator": 500,
        "denominator": 3500,
    }
    assert value_of(await kpi(history, "shipping_cost_to_sales", segment="returning")) == {
        "value": 650 / 3000,
        "numerator": 650,
        "denominator": 3000,
    }


async def test_order_fill_rate(history: Api) -> None:
    # o2's first shipment needed a second attempt; o7 has no attempts recorded and counts as filled.
    assert value_of(await kpi(history, "order_fill_rate")) == {"value": 0.75, "numerator": 3, "denominator": 4}
    assert value_of(await kpi(history, "order_fill_rate", channel="web")) == {
        "value": 0.5,
        "numerator": 1,
        "denominator": 2,
    }


async def test_second_delivery_attempt_lowers_order_fill_rate(api: Api) -> None:
    first = order("q1", "c1", "web", t(1, 8), [("A1", 1, 1000)])
    await load(
        api,
        [*BASE[:8], first, shipment("q1s", "q1", "WH-ATH", [("A1", 1, 1)], attempts=delivered(t(2, 10)))],
    )
    assert value_of(await kpi(api, "order_fill_rate")) == {"value": 1.0, "numerator": 1, "denominator": 1}
    attempts = [{"at": t(2, 10), "outcome": "failed", "reason": "recipient_absent"}, *delivered(t(3, 10))]
    await load(
        api,
        [
            order("q2", "c2", "web", t(1, 8), [("A1", 1, 1000)]),
            shipment("q2s", "q2", "WH-ATH", [("A1", 1, 1)], shipped_at=t(1, 12), attempts=attempts),
        ],
    )
    assert value_of(await kpi(api, "order_fill_rate")) == {"value": 0.5, "numerator": 1, "denominator": 2}
    # delivered_at comes from the delivered attempt when the record leaves it out.
    assert value_of(await kpi(api, "order_cycle_time_hours")) == {"value": (26 + 50) / 2, "n": 2}


async def test_inventory_accuracy(history: Api) -> None:
    # The count at 03-08 00:00 (= to) is out.
    assert value_of(await kpi(history, "inventory_accuracy")) == {"value": 2 / 3, "numerator": 2, "denominator": 3}
    assert value_of(await kpi(history, "inventory_accuracy", location="WH-ATH")) == {
        "value": 0.5,
        "numerator": 1,
        "denominator": 2,
    }
    assert value_of(await kpi(history, "inventory_accuracy", channel="web")) == {
        "value": 2 / 3,
        "numerator": 2,
        "denominator": 3,
        "filter_not_applicable": True,
    }
    after = await kpi(history, "inventory_accuracy", **{"from": "2026-03-08", "to": "2026-03-09"})
    assert value_of(after) == {"value": 0.0, "numerator": 0, "denominator": 1}
    series = await kpi(history, "inventory_accuracy", granularity="week")
    assert [(s["period_start"][:10], s["value"]) for s in series["series"]] == [
        ("2026-02-23", None),  # Sunday 03-01 belongs to the week of Monday 02-23: no count that day
        ("2026-03-02", 2 / 3),
    ]


# ---------------------------------------------------------------------------------------------
# Every KPI at once, empty periods, definitions
# ---------------------------------------------------------------------------------------------


async def test_all_kpis_with_a_location_filter(history: Api) -> None:
    response = await history.get("/v1/kpis", params={**P, "location": "WH-SKG"}, as_="ops")
    assert response.status_code == 200, response.text
    kpis = response.json()["kpis"]
    for order_based in ("completed_orders", "on_time_delivery_rate", "perfect_order_rate", "order_fill_rate"):
        assert kpis[order_based]["filter_not_applicable"] is True
    assert kpis["completed_orders"]["value"] == 4
    assert kpis["orders_picked_per_hour"]["filter_not_applicable"] is True
    for shipment_based in ("picking_accuracy", "line_item_fill_rate", "avg_shipping_cost", "inventory_accuracy"):
        assert "filter_not_applicable" not in kpis[shipment_based]
    assert kpis["picking_accuracy"]["value"] == 0.5
    assert kpis["avg_shipping_cost"]["value"] == 250.0
    assert kpis["inventory_accuracy"]["value"] == 1.0


async def test_empty_period_gives_null_values(history: Api) -> None:
    response = await history.get("/v1/kpis", params={"from": "2025-01-01", "to": "2025-02-01"}, as_="ops")
    assert response.status_code == 200, response.text
    kpis = response.json()["kpis"]
    assert kpis["completed_orders"]["value"] == 0
    for kpi_id in FULFILMENT_KPIS[1:]:
        assert kpis[kpi_id]["value"] is None, kpi_id
    assert kpis["order_cycle_time_hours"]["n"] == 0
    assert kpis["order_picking_time_minutes"]["n"] == 0
    assert kpis["on_time_delivery_rate"]["denominator"] == 0
    assert kpis["avg_shipping_cost"]["denominator"] == 0
    assert kpis["shipping_cost_to_sales"]["denominator"] == 0


async def test_definitions(api: Api) -> None:
    response = await api.get("/v1/kpis/definitions", as_="ops")
    assert response.status_code == 200
    by_id = {d["id"]: d for d in response.json()}
    for kpi_id in FULFILMENT_KPIS:
        assert kpi_id in by_id, kpi_id
        assert by_id[kpi_id]["formula"]
    assert by_id["orders_picked_per_hour"]["filters"] == []
    assert by_id["completed_orders"]["filters"] == ["channel", "segment"]
    assert by_id["picking_accuracy"]["filters"] == ["channel", "location", "segment"]
    assert by_id["inventory_accuracy"]["filters"] == ["location"]
    assert "location" in by_id["avg_shipping_cost"]["dimensions"]
    assert by_id["perfect_order_rate"]["formula"].startswith("Orders whose delivered_at(order) ∈ P")


async def test_rollups_give_the_from_scratch_answer(history: Api, runtime: Runtime) -> None:
    """Every fulfilment source rolls up per day (mergeable reducers); closed days read from
    rollups give exactly what the raw facts give, filtered, grouped and as series."""
    queries: list[tuple[str, dict[str, str]]] = [("/v1/kpis", {**P, **flt}) for flt in ({}, {"channel": "web"})]
    queries += [("/v1/kpis", {**P, "location": "WH-ATH"}), ("/v1/kpis", {**P, "segment": "returning"})]
    queries += [
        ("/v1/kpis/order_cycle_time_hours", {**P, "group_by": "channel"}),
        ("/v1/kpis/shipping_cost_to_sales", {**P, "group_by": "location"}),
        ("/v1/kpis/avg_shipping_cost", {**P, "granularity": "week"}),
        ("/v1/kpis/orders_picked_per_hour", {**P, "group_by": "picker"}),
        ("/v1/kpis/line_item_fill_rate", {**P, "granularity": "day", "location": "WH-SKG"}),
        ("/v1/kpis/completed_orders", {"from": t(2, 12), "to": t(5, 12)}),  # partial days at both ends
    ]

    async def answers() -> list[Any]:
        out = []
        for path, params in queries:
            response = await history.get(path, params=params, as_="ops")
            assert response.status_code == 200, response.text
            out.append(response.json())
        return out

    raw = await answers()
    plans = [p for p in kpi_rollups.plans(runtime.host).values() if p.source.id.startswith("fulfilment.")]
    assert len(plans) == 7
    days = [date(2026, 2, 28) + timedelta(days=i) for i in range(12)]
    for plan in plans:
        for day in days:
            await kpi_rollups.build_day(runtime.db, plan, day)
        assert await kpi_rollups.usable_days(plan.key, days[0], days[-1]) == set(days[:-1])
    assert await answers() == raw


# ---------------------------------------------------------------------------------------------
# Import kinds
# ---------------------------------------------------------------------------------------------


async def _row_counts() -> dict[str, int]:
    return {
        "shipments": await Shipment.count(),
        "lines": await ShipmentLine.count(),
        "attempts": await DeliveryAttempt.count(),
        "shifts": await PickerShift.count(),
        "counts": await InventoryCount.count(),
    }


async def test_reimport_is_a_no_op(api: Api) -> None:
    await load(api, BASE)
    before_counts = await _row_counts()
    assert before_counts == {"shipments": 9, "lines": 10, "attempts": 6, "shifts": 4, "counts": 4}
    before = (await api.get("/v1/kpis", params=P, as_="ops")).json()["kpis"]
    report = await load(api, BASE)
    assert report["by_kind"]["shipment"] == 9
    assert await _row_counts() == before_counts
    assert (await api.get("/v1/kpis", params=P, as_="ops")).json()["kpis"] == before


async def test_picker_shift_is_upserted_per_picker_and_date(api: Api) -> None:
    await load(api, BASE)
    await load(api, [{"kind": "picker_shift", "picker": "p7", "date": "2026-03-01", "hours": 4}])
    assert await PickerShift.count() == 4
    row = (
        await PickerShift.select(PickerShift.hours)
        .where((PickerShift.picker == "p7") & (PickerShift.date == "2026-03-01"))
        .first()
    )
    assert row is not None and row["hours"] == 4.0
    assert (await kpi(api, "orders_picked_per_hour"))["denominator"] == 18.0


async def test_shipment_status_is_derived(api: Api) -> None:
    await load(
        api,
        [
            *BASE[:8],
            order("q1", "c1", "web", t(1, 8), [("A1", 3, 1000)]),
            shipment("q1-pending", "q1", "WH-ATH", [("A1", 1, 1)], pick_completed_at=t(1, 9)),
            shipment("q1-transit", "q1", "WH-ATH", [("A1", 1, 1)], shipped_at=t(1, 10)),
            shipment("q1-done", "q1", "WH-ATH", [("A1", 1, 1)], shipped_at=t(1, 10), delivered_at=t(2, 10)),
        ],
    )
    rows = await Shipment.select(Shipment.external_ref, Shipment.status)
    assert {r["external_ref"]: r["status"] for r in rows} == {
        "q1-pending": "pending",
        "q1-transit": "in_transit",
        "q1-done": "delivered",
    }


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (shipment("x1", "nope", "WH-ATH", [("A1", 1, 1)]), "order nope, which is neither"),
        (shipment("x1", "o1", "WH-XXX", [("A1", 1, 1)]), "location WH-XXX, which is neither"),
        (shipment("x1", "o1", "WH-ATH", [("B2", 1, 1)]), "B2, which order o1 lacks"),
        (shipment("x1", "o1", "WH-ATH", [("A1", 1, 1), ("A1", 1, 1)]), "two lines for A1"),
        (
            shipment("x1", "o1", "WH-ATH", [("A1", 1, 1)], pick_started_at=t(2, 10), pick_completed_at=t(2, 9)),
            "before pick_started_at",
        ),
        (
            {
                "kind": "inventory_count",
                "location": "WH-XXX",
                "sku": "A1",
                "counted_at": t(2, 7),
                "system_qty": 1,
                "counted_qty": 1,
            },
            "location WH-XXX, which is neither",
        ),
        (shipment("x1", "o1", "WH-ATH", [("A1", 1, 1)], signed_by="someone"), "unknown field"),
        ({"kind": "picker_shift", "picker": "p7", "date": "03/01/2026", "hours": 8}, "picker_shift"),
    ],
)
async def test_bad_lines_are_rejected_with_their_line_number(api: Api, record: dict[str, Any], message: str) -> None:
    head = [*BASE[:8], order("o1", "c1", "web", t(1, 8), [("A1", 2, 1000)])]
    response = await post_import(api, [*head, record])
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["line"] == len(head) + 1
    assert message in error["message"]
    assert await Shipment.count() == 0
    assert await InventoryCount.count() == 0


async def test_a_shipment_may_not_refer_to_an_order_on_a_later_line(api: Api) -> None:
    records = [
        *BASE[:8],
        shipment("x1", "o1", "WH-ATH", [("A1", 1, 1)]),
        order("o1", "c1", "web", t(1, 8), [("A1", 2, 1000)]),
    ]
    response = await post_import(api, records)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["line"] == 9
    assert "order o1, which is neither" in response.json()["errors"][0]["message"]
