"""The "5 R" KPIs of kpis.md (returns, resell, replacements, repairs, recycling) and the
history-import kind `return`.

A return counts once it is received (`received_at` set), whatever its origin: a customer's
return, a parcel back at the sender after failed deliveries, or an imported one. Units are the
lines' `received_qty`; an imported return's lines are received in full when it has a
`received_at`. The KPIs read the tables directly, so a live return counts the moment it is received.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from core.db import bulk
from core.domain.catalogue import Sku
from core.domain.ids import new_id
from core.domain.imports import ImportContext, ImportKind, ImportLineError, ImportRow
from core.domain.kpis import Fact, FactQuery, FactSource, KPIDefinition, ratio, sum_ratio
from core.domain.returns import Disposition, Resolution, ReturnMethod, ReturnStatus
from core.domain.time import as_utc
from core.hookspecs import hookimpl
from core.imports.kinds import external_to_internal, refused_reference
from core.orders.kpis import segment_of
from core.orders.tables import Order, OrderLine
from core.returns.tables import ReturnLine, ReturnRequest

PREVIOUS_ORDER = (
    "(SELECT MAX(p.placed_at) FROM orders p WHERE p.customer_id = o.customer_id "
    "AND p.placed_at < o.placed_at AND p.cancelled_at IS NULL)"
)

# ---------------------------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------------------------


async def load_order_return_facts(query: FactQuery) -> list[Fact]:
    """Orders placed in P with their ordered units and their units in received returns."""
    rows = await Order.raw(
        f"SELECT o.id, o.channel, o.placed_at, {PREVIOUS_ORDER} AS previous_at, "
        "(SELECT COALESCE(SUM(ol.qty), 0) FROM order_lines ol WHERE ol.order_id = o.id) AS units, "
        "(SELECT COALESCE(SUM(rl.received_qty), 0) FROM return_lines rl JOIN returns r ON r.id = rl.return_id "
        " WHERE rl.order_id = o.id AND r.received_at IS NOT NULL) AS returned "
        "FROM orders o WHERE o.placed_at >= {} AND o.placed_at < {} AND o.cancelled_at IS NULL",
        query.start,
        query.end,
    )
    return [
        {
            "at": as_utc(r["placed_at"]),
            "order_id": r["id"],
            "channel": r["channel"],
            "segment": segment_of(r["placed_at"], r["previous_at"]),
            "units": int(r["units"]),
            "returned_units": int(r["returned"]),
            "returned": int(r["returned"]) > 0,
        }
        for r in rows
    ]


async def load_return_line_facts(query: FactQuery) -> list[Fact]:
    """Received units of return lines whose return was received in P (orders not cancelled)."""
    rows = await ReturnLine.raw(
        "SELECT rl.received_qty, rl.reason, rl.resolution, rl.disposition, rl.repair_cost, rl.replacement_cost, "
        "COALESCE(ol.unit_price, rl.unit_price) AS unit_price, r.received_at, o.channel, o.placed_at, "
        f"{PREVIOUS_ORDER} AS previous_at "
        "FROM return_lines rl JOIN returns r ON r.id = rl.return_id JOIN orders o ON o.id = rl.order_id "
        "LEFT JOIN order_lines ol ON ol.order_id = rl.order_id AND ol.sku = rl.sku "
        "WHERE r.received_at >= {} AND r.received_at < {} AND o.cancelled_at IS NULL AND rl.received_qty > 0",
        query.start,
        query.end,
    )
    facts = []
    for r in rows:
        units = int(r["received_qty"])
        facts.append(
            {
                "at": as_utc(r["received_at"]),
                "channel": r["channel"],
                "segment": segment_of(r["placed_at"], r["previous_at"]),
                "reason": r["reason"],
                "resolution": r["resolution"],
                "disposition": r["disposition"],
                "units": units,
                "resell_units": units if r["disposition"] == Disposition.RESELL else 0,
                "recycle_units": units if r["disposition"] == Disposition.RECYCLE else 0,
                "replacement_units": units if r["resolution"] == Resolution.REPLACEMENT else 0,
                "cost": int(r["repair_cost"]) + int(r["replacement_cost"]),
                "value": units * int(r["unit_price"]),
            }
        )
    return facts


ORDER_RETURN_FACTS = FactSource(
    id="returns.orders", load=load_order_return_facts, filters=frozenset({"channel", "segment"})
)
RETURN_LINE_FACTS = FactSource(
    id="returns.lines", load=load_return_line_facts, filters=frozenset({"channel", "segment"})
)
LINE_BASE = "Return lines with received units, of returns received in P (cancelled orders excluded)"


@hookimpl
def register_kpis(register: Callable[[KPIDefinition], None]) -> None:
    register(
        KPIDefinition(
            id="return_rate_units",
            name="Return rate (units)",
            unit="ratio",
            formula="Non-cancelled orders placed in P: units of those orders in received returns ÷ units ordered.",
            facts=ORDER_RETURN_FACTS,
            reduce=sum_ratio("returned_units", "units"),
            dimensions=("channel", "segment"),
        )
    )
    register(
        KPIDefinition(
            id="return_rate_orders",
            name="Return rate (orders)",
            unit="ratio",
            formula="Non-cancelled orders placed in P: orders with ≥ 1 unit in a received return ÷ all.",
            facts=ORDER_RETURN_FACTS,
            reduce=ratio("returned"),
            dimensions=("channel", "segment"),
        )
    )
    register(
        KPIDefinition(
            id="resell_rate",
            name="Resell rate",
            unit="ratio",
            formula=f"{LINE_BASE}: units with disposition resell ÷ units.",
            facts=RETURN_LINE_FACTS,
            reduce=sum_ratio("resell_units", "units"),
            dimensions=("reason", "resolution", "channel", "segment"),
        )
    )
    register(
        KPIDefinition(
            id="replacement_rate",
            name="Replacement rate",
            unit="ratio",
            formula=f"{LINE_BASE}: units with resolution replacement ÷ units.",
            facts=RETURN_LINE_FACTS,
            reduce=sum_ratio("replacement_units", "units"),
            dimensions=("reason", "disposition", "channel", "segment"),
        )
    )
    register(
        KPIDefinition(
            id="repair_cost_ratio",
            name="Repair and replacement cost ratio",
            unit="ratio",
            formula=(
                f"{LINE_BASE}: Σ (repair_cost + replacement_cost) ÷ Σ value (received qty × the order line's "
                "unit_price)."
            ),
            facts=RETURN_LINE_FACTS,
            reduce=sum_ratio("cost", "value"),
            dimensions=("reason", "resolution", "disposition", "channel", "segment"),
        )
    )
    register(
        KPIDefinition(
            id="recycling_rate",
            name="Recycling rate",
            unit="ratio",
            formula=f"{LINE_BASE}: units with disposition recycle ÷ units.",
            facts=RETURN_LINE_FACTS,
            reduce=sum_ratio("recycle_units", "units"),
            dimensions=("reason", "resolution", "channel", "segment"),
        )
    )


# ---------------------------------------------------------------------------------------------
# Import kind
# ---------------------------------------------------------------------------------------------

Utc = Annotated[datetime, msgspec.Meta(tz=True)]
ExtId = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Cost = Annotated[int, msgspec.Meta(ge=0, le=10**12)]


class ReturnLineRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sku: Sku
    qty: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    resolution: Resolution
    disposition: Disposition | None = None  # unknown in some histories: then it counts in no disposition
    repair_cost: Cost = 0
    replacement_cost: Cost = 0


class ReturnRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    kind: Literal["return"]
    id: ExtId
    order_id: ExtId
    requested_at: Utc
    lines: Annotated[list[ReturnLineRecord], msgspec.Meta(min_length=1)]
    received_at: Utc | None = None
    method: ReturnMethod = ReturnMethod.COURIER  # an addition to kpis.md's format; most histories lack it


async def _order_lines(order_ids: set[str]) -> dict[str, dict[str, dict[str, Any]]]:
    found: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    columns = ("order_id", "sku", "qty", "unit_price", "qty_returned")
    for row in await bulk.select_in(OrderLine, columns, "order_id", order_ids):
        ln = dict(zip(columns, row, strict=True))
        found[ln["order_id"]][ln["sku"]] = ln
    return found


async def _orders(order_ids: set[str]) -> tuple[dict[str, str], set[str]]:
    """Each order's customer, and which orders were cancelled."""
    rows = await bulk.select_in(Order, ("id", "customer_id", "cancelled_at"), "id", order_ids)
    return {r[0]: r[1] for r in rows}, {r[0] for r in rows if r[2] is not None}


def _check_return(
    row: ImportRow, order_id: str, lines: dict[str, dict[str, Any]], returned: dict[tuple[str, str], int]
) -> None:
    rec: ReturnRecord = row.record
    if rec.received_at is not None and rec.received_at < rec.requested_at:
        raise ImportLineError(row.line_no, f"return {rec.id}: received_at is before requested_at")
    seen: set[str] = set()
    for ln in rec.lines:
        if ln.sku in seen:
            raise ImportLineError(row.line_no, f"return {rec.id} has two lines for {ln.sku}")
        seen.add(ln.sku)
        ordered = lines.get(ln.sku)
        if ordered is None:
            raise ImportLineError(row.line_no, f"return {rec.id} returns {ln.sku}, which order {rec.order_id} lacks")
        left = ordered["qty"] - returned[(order_id, ln.sku)] if rec.received_at else ordered["qty"]
        if ln.qty > left:
            raise ImportLineError(
                row.line_no,
                f"return {rec.id} returns {ln.qty} × {ln.sku}, but order {rec.order_id} has only {left} "
                "not already returned",
            )


RETURN_COLUMNS = (
    "id",
    "external_ref",
    "order_id",
    "customer_id",
    "status",
    "method",
    "resolution",
    "origin",
    "requested_at",
    "decided_at",
    "received_at",
    "completed_at",
    "created_at",
    "updated_at",
)
RETURN_LINE_COLUMNS = (
    "id",
    "return_id",
    "order_id",
    "sku",
    "qty",
    "reason",
    "resolution",
    "unit_price",
    "received_qty",
    "disposition",
    "repair_cost",
    "replacement_cost",
)


async def apply_returns(rows: Sequence[ImportRow], ctx: ImportContext) -> None:
    existing = await external_to_internal(ReturnRequest, ctx, "return", {r.record.id for r in rows})
    orders = await external_to_internal(Order, ctx, "order", {r.record.order_id for r in rows})
    order_lines = await _order_lines(set(orders.values()))
    customers, cancelled = await _orders(set(orders.values()))
    returned: dict[tuple[str, str], int] = defaultdict(int)
    for order_id, by_sku in order_lines.items():
        for sku, ordered in by_sku.items():
            returned[(order_id, sku)] = ordered["qty_returned"]
    requests: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    received: list[tuple[str, str, int]] = []
    for row in rows:
        rec: ReturnRecord = row.record
        if rec.id in existing:
            continue  # imported before: re-running a file changes nothing
        if refused_reference(ctx, row, "order", rec.order_id, orders):
            raise ImportLineError(
                row.line_no,
                f"return {rec.id} refers to order {rec.order_id}, which is neither earlier in the file "
                "nor in the database",
            )
        order_id = orders[rec.order_id]
        _check_return(row, order_id, order_lines[order_id], returned)
        return_id = new_id("ret")
        existing[rec.id] = ctx.refs[("return", rec.id)] = return_id
        done = rec.received_at is not None
        requests.append(
            (
                return_id,
                rec.id,
                order_id,
                customers.get(order_id),
                (ReturnStatus.COMPLETED if done else ReturnStatus.REQUESTED).value,
                rec.method.value,
                rec.lines[0].resolution.value,
                "import",
                rec.requested_at,
                rec.requested_at if done else None,
                rec.received_at,
                rec.received_at,
                rec.requested_at,
                rec.received_at or rec.requested_at,
            )
        )
        for ln in rec.lines:
            if done:
                returned[(order_id, ln.sku)] += ln.qty
                if order_id not in cancelled:  # a cancelled order's lines count nothing delivered
                    received.append((order_id, ln.sku, ln.qty))
            lines.append(
                (
                    f"{return_id}|{ln.sku}",
                    return_id,
                    order_id,
                    ln.sku,
                    ln.qty,
                    ln.reason,
                    ln.resolution.value,
                    order_lines[order_id][ln.sku]["unit_price"],
                    ln.qty if done else 0,
                    ln.disposition.value if ln.disposition else None,
                    ln.repair_cost,
                    ln.replacement_cost,
                )
            )
    await bulk.insert(ReturnRequest, RETURN_COLUMNS, requests)
    await bulk.insert(ReturnLine, RETURN_LINE_COLUMNS, lines)
    # Imported returns land where live ones do: the order lines count their received units.
    await bulk.add_to(OrderLine, "qty_returned", ("order_id", "sku"), received)


@hookimpl
def register_import_kinds(register: Callable[[ImportKind], None]) -> None:
    register(ImportKind(kind="return", record_type=ReturnRecord, apply=apply_returns, depends_on=frozenset({"order"})))
