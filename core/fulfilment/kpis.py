"""The fulfilment and delivery KPIs of kpis.md and their fact sources: orders by the time they
were fully shipped or delivered, shipments by pick and ship time, picked shipment lines, picker
shifts and inventory counts.

Return shipments and cancelled shipments count nowhere; neither does anything of a cancelled order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from core.catalogue.tables import InventoryCount
from core.domain.kpis import (
    Fact,
    FactQuery,
    FactSource,
    KPIDefinition,
    count,
    mean,
    median,
    ratio,
    sum_per_distinct,
    sum_ratio,
    sum_ratio_distinct,
)
from core.domain.time import as_utc
from core.fulfilment.tables import PickerShift, Shipment
from core.hookspecs import hookimpl
from core.orders.kpis import segment_of
from core.orders.tables import Order

# A shipment that counts: not a return, not cancelled. `s` is the shipment alias.
LIVE_SHIPMENT = "s.is_return = FALSE AND s.status <> 'cancelled'"

PREVIOUS_ORDER = (
    "(SELECT MAX(p.placed_at) FROM orders p WHERE p.customer_id = o.customer_id "
    "AND p.placed_at < o.placed_at AND p.cancelled_at IS NULL)"
)

ORDER_FILTERS = frozenset({"channel", "segment"})
SHIPMENT_FILTERS = frozenset({"channel", "segment", "location"})


def _order_keys(row: dict[str, Any]) -> dict[str, Any]:
    return {"channel": row["channel"], "segment": segment_of(row["placed_at"], row["previous_at"])}


def _hours(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 3600


# ---------------------------------------------------------------------------------------------
# Orders by shipped_at(order) / delivered_at(order)
# ---------------------------------------------------------------------------------------------


def _fulfilled_orders_sql(stamp: str, quality: bool) -> str:
    """Orders whose every ordered unit is in a live shipment with `stamp` (shipped_at or
    delivered_at), with `stamp(order)` = the latest such time in P.

    Candidates are the orders with a shipment stamped in P (the latest stamp must be one of
    them), so the work grows with the period, not the history. With `quality`, it also counts
    per order the shipments that are flawed (damaged, wrong documents, pick error, a line short
    or never picked) and those not delivered at the first attempt (not delivered, or with a
    failed attempt). The coverage check probes indexed tables, never a CTE: PostgreSQL cannot
    index a CTE and would scan it once per order.
    """
    assert stamp in {"shipped_at", "delivered_at"}
    short_line = (
        "EXISTS (SELECT 1 FROM shipment_lines x WHERE x.shipment_id = s.id"
        " AND (x.picked_qty IS NULL OR x.picked_qty <> x.qty))"
    )
    failed_attempt = "EXISTS (SELECT 1 FROM delivery_attempts a WHERE a.shipment_id = s.id AND a.outcome = 'failed')"
    quality_columns = (
        f"SUM(CASE WHEN s.damaged OR NOT s.docs_ok OR s.pick_error OR {short_line} THEN 1 ELSE 0 END) AS flawed,"
        f" SUM(CASE WHEN s.delivered_at IS NULL OR {failed_attempt} THEN 1 ELSE 0 END) AS missed"
        if quality
        else "0 AS flawed, 0 AS missed"
    )
    return (
        f"WITH cand AS (SELECT DISTINCT s.order_id FROM shipments s WHERE s.{stamp} >= {{}} AND s.{stamp} < {{}}"
        f" AND {LIVE_SHIPMENT}"
        f"), per_order AS (SELECT s.order_id, MAX(s.{stamp}) AS stamp, {quality_columns}"
        f" FROM cand JOIN shipments s ON s.order_id = cand.order_id WHERE {LIVE_SHIPMENT} GROUP BY s.order_id"
        f" HAVING MAX(s.{stamp}) >= {{}} AND MAX(s.{stamp}) < {{}}"
        ") SELECT o.id, o.channel, o.placed_at, o.promised_ship_by, o.promised_delivery_by,"
        f" po.stamp, po.flawed, po.missed, {PREVIOUS_ORDER} AS previous_at"
        " FROM per_order po JOIN orders o ON o.id = po.order_id"
        " WHERE o.cancelled_at IS NULL AND NOT EXISTS (SELECT 1 FROM order_lines ol WHERE ol.order_id = o.id"
        " AND ol.qty > (SELECT COALESCE(SUM(sl.qty), 0)"
        " FROM shipment_lines sl JOIN shipments s ON s.id = sl.shipment_id"
        f" WHERE sl.order_id = ol.order_id AND sl.sku = ol.sku AND s.{stamp} IS NOT NULL AND {LIVE_SHIPMENT}))"
    )


DELIVERED_ORDERS_SQL = _fulfilled_orders_sql("delivered_at", quality=True)
SHIPPED_ORDERS_SQL = _fulfilled_orders_sql("shipped_at", quality=False)


async def load_delivered_orders(query: FactQuery) -> list[Fact]:
    rows = await Order.raw(DELIVERED_ORDERS_SQL, query.start, query.end, query.start, query.end)
    facts = []
    for r in rows:
        delivered, placed, promised = as_utc(r["stamp"]), as_utc(r["placed_at"]), as_utc(r["promised_delivery_by"])
        assert delivered is not None and placed is not None
        on_time = promised is not None and delivered <= promised
        facts.append(
            {
                "at": delivered,
                "order_id": r["id"],
                **_order_keys(r),
                "on_time": on_time,
                "perfect": on_time and not r["flawed"],
                "first_attempt": not r["missed"],
                "cycle_hours": _hours(delivered, placed),
            }
        )
    return facts


async def load_shipped_orders(query: FactQuery) -> list[Fact]:
    rows = await Order.raw(SHIPPED_ORDERS_SQL, query.start, query.end, query.start, query.end)
    facts = []
    for r in rows:
        shipped, promised = as_utc(r["stamp"]), as_utc(r["promised_ship_by"])
        assert shipped is not None
        on_time = promised is not None and shipped <= promised
        facts.append({"at": shipped, "order_id": r["id"], **_order_keys(r), "on_time": on_time})
    return facts


# ---------------------------------------------------------------------------------------------
# Shipments, their lines, picker shifts, inventory counts
# ---------------------------------------------------------------------------------------------


def _shipments_sql(stamp: str, columns: str, lines: bool = False) -> str:
    """Live shipments of non-cancelled orders with `stamp` in P (one row per line if `lines`)."""
    joins = (
        "JOIN shipment_lines sl ON sl.shipment_id = s.id JOIN orders o ON o.id = sl.order_id"
        if lines
        else "JOIN orders o ON o.id = s.order_id"
    )
    return (
        f"SELECT s.{stamp} AS stamp, s.location, s.courier, s.picker, o.channel, o.placed_at, "
        f"{PREVIOUS_ORDER} AS previous_at, {columns} FROM shipments s {joins} "
        f"WHERE s.{stamp} >= {{}} AND s.{stamp} < {{}} AND {LIVE_SHIPMENT} AND o.cancelled_at IS NULL"
    )


def _shipment_keys(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": as_utc(row["stamp"]),
        "location": row["location"],
        "courier": row["courier"],
        "picker": row["picker"],
        **_order_keys(row),
    }


PICKED_SHIPMENTS_SQL = _shipments_sql("pick_completed_at", "s.pick_started_at, s.pick_error")
PICKED_LINES_SQL = _shipments_sql("pick_completed_at", "sl.qty, sl.picked_qty", lines=True)
SHIPPED_SHIPMENTS_SQL = _shipments_sql(
    "shipped_at", "s.order_id, COALESCE(s.shipping_cost, 0) AS cost, o.merchandise_total"
)
PICKS_SQL = (
    "SELECT s.picker, s.pick_completed_at AS stamp FROM shipments s JOIN orders o ON o.id = s.order_id "
    f"WHERE s.pick_completed_at >= {{}} AND s.pick_completed_at < {{}} AND {LIVE_SHIPMENT} AND o.cancelled_at IS NULL"
)


async def load_picked_shipments(query: FactQuery) -> list[Fact]:
    facts = []
    for r in await Shipment.raw(PICKED_SHIPMENTS_SQL, query.start, query.end):
        completed, started = as_utc(r["stamp"]), as_utc(r["pick_started_at"])
        assert completed is not None
        minutes = (completed - started).total_seconds() / 60 if started is not None else None
        facts.append({**_shipment_keys(r), "pick_minutes": minutes, "accurate": not r["pick_error"]})
    return facts


async def load_picked_lines(query: FactQuery) -> list[Fact]:
    rows = await Shipment.raw(PICKED_LINES_SQL, query.start, query.end)
    return [{**_shipment_keys(r), "filled": r["picked_qty"] is not None and r["picked_qty"] >= r["qty"]} for r in rows]


async def load_shipped_shipments(query: FactQuery) -> list[Fact]:
    rows = await Shipment.raw(SHIPPED_SHIPMENTS_SQL, query.start, query.end)
    return [
        {**_shipment_keys(r), "order_id": r["order_id"], "cost": r["cost"], "order_value": r["merchandise_total"]}
        for r in rows
    ]


def _first_day_at_or_after(at: datetime) -> date:
    return at.date() if at.time() == time.min else at.date() + timedelta(days=1)


async def load_picks_and_shifts(query: FactQuery) -> list[Fact]:
    """Picked shipments (`picks` 1) and picker shifts (`hours`), a shift at its date's midnight UTC:
    a shift counts when that midnight ∈ P."""
    picks = await Shipment.raw(PICKS_SQL, query.start, query.end)
    shifts = await PickerShift.raw(
        "SELECT picker, date, hours FROM picker_shifts WHERE date >= {} AND date < {}",
        _first_day_at_or_after(query.start).isoformat(),
        _first_day_at_or_after(query.end).isoformat(),
    )
    facts: list[Fact] = [{"at": as_utc(r["stamp"]), "picker": r["picker"], "picks": 1, "hours": 0.0} for r in picks]
    facts.extend(
        {
            "at": datetime.combine(date.fromisoformat(r["date"]), time.min, tzinfo=UTC),
            "picker": r["picker"],
            "picks": 0,
            "hours": float(r["hours"]),
        }
        for r in shifts
    )
    return facts


async def load_inventory_counts(query: FactQuery) -> list[Fact]:
    rows = await InventoryCount.raw(
        "SELECT location, sku, counted_at, system_qty, counted_qty FROM inventory_counts "
        "WHERE counted_at >= {} AND counted_at < {}",
        query.start,
        query.end,
    )
    return [
        {
            "at": as_utc(r["counted_at"]),
            "location": r["location"],
            "sku": r["sku"],
            "accurate": r["system_qty"] == r["counted_qty"],
        }
        for r in rows
    ]


DELIVERED_ORDERS = FactSource(id="fulfilment.delivered_orders", load=load_delivered_orders, filters=ORDER_FILTERS)
SHIPPED_ORDERS = FactSource(id="fulfilment.shipped_orders", load=load_shipped_orders, filters=ORDER_FILTERS)
PICKED_SHIPMENTS = FactSource(id="fulfilment.picked_shipments", load=load_picked_shipments, filters=SHIPMENT_FILTERS)
PICKED_LINES = FactSource(id="fulfilment.picked_lines", load=load_picked_lines, filters=SHIPMENT_FILTERS)
SHIPPED_SHIPMENTS = FactSource(id="fulfilment.shipped_shipments", load=load_shipped_shipments, filters=SHIPMENT_FILTERS)
# Shift hours have no channel, segment or location: every filter is not applicable.
PICKS_AND_SHIFTS = FactSource(id="fulfilment.picks_and_shifts", load=load_picks_and_shifts)
INVENTORY_COUNTS = FactSource(
    id="fulfilment.inventory_counts", load=load_inventory_counts, filters=frozenset({"location"})
)

ORDER_DIMENSIONS = ("channel", "segment")
PICK_DIMENSIONS = ("channel", "segment", "location", "courier", "picker")
SHIP_DIMENSIONS = ("channel", "segment", "location", "courier")

DELIVERED = (
    "an order is delivered when every ordered unit is in a shipment with delivered_at, "
    "delivered_at(order) being the latest such delivered_at"
)
SHIPPED = (
    "an order is shipped when every ordered unit is in a shipment with shipped_at, "
    "shipped_at(order) being the latest such shipped_at"
)

KPIS = (
    KPIDefinition(
        id="completed_orders",
        name="Completed orders",
        unit="count",
        formula=f"Count of orders whose delivered_at(order) ∈ P ({DELIVERED}).",
        facts=DELIVERED_ORDERS,
        reduce=count(),
        dimensions=ORDER_DIMENSIONS,
    ),
    KPIDefinition(
        id="on_time_delivery_rate",
        name="On-time delivery rate",
        unit="ratio",
        formula=(
            "Orders whose delivered_at(order) ∈ P: those with delivered_at(order) ≤ promised_delivery_by ÷ all "
            f"({DELIVERED})."
        ),
        facts=DELIVERED_ORDERS,
        reduce=ratio("on_time"),
        dimensions=ORDER_DIMENSIONS,
    ),
    KPIDefinition(
        id="on_time_shipping_rate",
        name="On-time shipping rate",
        unit="ratio",
        formula=(
            f"Orders whose shipped_at(order) ∈ P: those with shipped_at(order) ≤ promised_ship_by ÷ all ({SHIPPED})."
        ),
        facts=SHIPPED_ORDERS,
        reduce=ratio("on_time"),
        dimensions=ORDER_DIMENSIONS,
    ),
    KPIDefinition(
        id="perfect_order_rate",
        name="Perfect order rate",
        unit="ratio",
        formula=(
            "Orders whose delivered_at(order) ∈ P: orders delivered on time AND, in every shipment, not damaged, "
            f"documents correct, no pick error, every line picked_qty = qty ÷ all ({DELIVERED})."
        ),
        facts=DELIVERED_ORDERS,
        reduce=ratio("perfect"),
        dimensions=ORDER_DIMENSIONS,
    ),
    KPIDefinition(
        id="order_cycle_time_hours",
        name="Order cycle time",
        unit="hours",
        formula=f"Orders whose delivered_at(order) ∈ P: median of delivered_at(order) − placed_at ({DELIVERED}).",
        facts=DELIVERED_ORDERS,
        reduce=median("cycle_hours"),
        dimensions=ORDER_DIMENSIONS,
    ),
    KPIDefinition(
        id="order_picking_time_minutes",
        name="Order picking time",
        unit="minutes",
        formula="Shipments whose pick_completed_at ∈ P: mean of pick_completed_at − pick_started_at.",
        facts=PICKED_SHIPMENTS,
        reduce=mean("pick_minutes"),
        dimensions=PICK_DIMENSIONS,
    ),
    KPIDefinition(
        id="orders_picked_per_hour",
        name="Orders picked per hour",
        unit="per_hour",
        formula=(
            "Count of shipments whose pick_completed_at ∈ P ÷ Σ hours of picker shifts whose date ∈ P "
            "(a date is in P when its midnight UTC is)."
        ),
        facts=PICKS_AND_SHIFTS,
        reduce=sum_ratio("picks", "hours"),
        dimensions=("picker",),
    ),
    KPIDefinition(
        id="picking_accuracy",
        name="Picking accuracy",
        unit="ratio",
        formula="Shipments whose pick_completed_at ∈ P: shipments without pick error ÷ all.",
        facts=PICKED_SHIPMENTS,
        reduce=ratio("accurate"),
        dimensions=PICK_DIMENSIONS,
    ),
    KPIDefinition(
        id="line_item_fill_rate",
        name="Line item fill rate",
        unit="ratio",
        formula="Lines of shipments whose pick_completed_at ∈ P: lines with picked_qty ≥ qty ÷ all lines.",
        facts=PICKED_LINES,
        reduce=ratio("filled"),
        dimensions=PICK_DIMENSIONS,
    ),
    KPIDefinition(
        id="avg_shipping_cost",
        name="Average shipping cost",
        unit="minor_units",
        formula=(
            "Shipments whose shipped_at ∈ P: Σ shipping_cost ÷ number of distinct orders among them "
            "(minor units; an unknown cost counts as 0)."
        ),
        facts=SHIPPED_SHIPMENTS,
        reduce=sum_per_distinct("cost", "order_id"),
        dimensions=SHIP_DIMENSIONS,
    ),
    KPIDefinition(
        id="shipping_cost_to_sales",
        name="Shipping cost to sales",
        unit="ratio",
        formula=(
            "Shipments whose shipped_at ∈ P: Σ shipping_cost ÷ Σ merchandise value (Σ qty × unit_price) "
            "of those distinct orders."
        ),
        facts=SHIPPED_SHIPMENTS,
        reduce=sum_ratio_distinct("cost", "order_value", "order_id"),
        dimensions=SHIP_DIMENSIONS,
    ),
    KPIDefinition(
        id="order_fill_rate",
        name="Order fill rate",
        unit="ratio",
        formula=(
            "Orders whose delivered_at(order) ∈ P: orders whose every shipment was delivered on its first attempt "
            f"÷ all ({DELIVERED}; a shipment with a failed delivery attempt was not)."
        ),
        facts=DELIVERED_ORDERS,
        reduce=ratio("first_attempt"),
        dimensions=ORDER_DIMENSIONS,
    ),
    KPIDefinition(
        id="inventory_accuracy",
        name="Inventory accuracy",
        unit="ratio",
        formula="Inventory counts whose counted_at ∈ P: counts with system_qty = counted_qty ÷ all.",
        facts=INVENTORY_COUNTS,
        reduce=ratio("accurate"),
        dimensions=("location", "sku"),
    ),
)


@hookimpl
def register_kpis(register: Callable[[KPIDefinition], None]) -> None:
    for kpi in KPIS:
        register(kpi)
