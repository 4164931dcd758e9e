"""Order intake (reading and listing: core/orders/views.py; cancellation: cancellation.py).

Intake reserves stock for every line atomically across locations: either every line that must
be in stock now is reserved, or nothing is and the caller gets 409 with what was short.
Pre-order and backorder lines reserve what exists and defer the rest.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec

from core.catalogue.tables import Location, Product, SalesChannel
from core.customers.customers import resolve_customer
from core.db.database import Database, utcnow
from core.domain.errors import InsufficientStock, InvalidInput
from core.domain.events import ConfirmedBy, OrderConfirmed, OrderPlaced
from core.domain.ids import new_id
from core.domain.orders import (
    DeliveryMethod,
    OrderOut,
    OrderStatus,
    PlaceOrder,
)
from core.domain.time import add_business_days
from core.hookspecs.payments import PaymentFlow
from core.jobs import outbox as events
from core.orders.views import get_order
from core.plugins import PluginHost
from core.settings import Settings


def _in(values: list[str]) -> str:
    return "(" + ", ".join("{}" for _ in values) + ")"


async def _insert(db: Database, table: str, rows: list[dict[str, Any]]) -> None:
    """One multi-row INSERT of `rows` (dicts with the same keys, the column names)."""
    columns = list(rows[0])
    placeholders = ", ".join("(" + ", ".join("{}" for _ in columns) + ")" for _ in rows)
    await db.fetch(
        "INSERT INTO " + table + " (" + ", ".join(columns) + ") VALUES " + placeholders,
        *[row[c] for row in rows for c in columns],
    )


async def _validate(
    cmd: PlaceOrder, host: PluginHost, counter: str | None = None
) -> tuple[dict[str, dict[str, Any]], str]:
    """Checks that need the database but no lock. Returns products by sku and the currency.
    A counter sale (`counter`: the store) is handed over there: it needs no delivery."""
    errors: list[dict[str, Any]] = []
    skus = [line.sku for line in cmd.lines]
    seen: set[str] = set()
    for i, sku in enumerate(skus):
        if sku in seen:
            errors.append(
                {"field": f"lines[{i}].sku", "message": f"{sku} appears twice; put the total qty on one line"}
            )
        seen.add(sku)
    wanted = sorted(seen)
    # The prices and whether the channel exists, in one round trip.
    rows = await Product.raw(
        "SELECT sku, price_amount, currency, preorder, backorder, "
        "(SELECT COUNT(*) FROM sales_channels WHERE code = {}) AS channel_known "
        "FROM products WHERE sku IN " + _in(wanted),
        cmd.channel,
        *wanted,
    )
    products = {p["sku"]: p for p in rows}
    for i, sku in enumerate(skus):
        if sku not in products:
            errors.append({"field": f"lines[{i}].sku", "message": f"unknown product {sku}"})
    channel_known = (
        rows[0]["channel_known"] > 0 if rows else await SalesChannel.exists().where(SalesChannel.code == cmd.channel)
    )
    if not channel_known:
        errors.append({"field": "channel", "message": f"unknown sales channel {cmd.channel}"})
    if counter is None and cmd.delivery.method == DeliveryMethod.PICKUP:
        code = cmd.delivery.pickup_location
        if not code:
            errors.append(
                {"field": "delivery.pickup_location", "message": "a pickup order needs the store to collect from"}
            )
        elif not await Location.exists().where((Location.code == code) & (Location.pickup == True)):  # noqa: E712
            errors.append(
                {"field": "delivery.pickup_location", "message": f"{code} is not a location that offers pickup"}
            )
    elif counter is None and cmd.shipping_address is None:
        errors.append({"field": "shipping_address", "message": "a courier delivery needs a shipping address"})
    if cmd.payment is not None and cmd.payment.provider not in host.payment_processors:
        known = ", ".join(sorted(host.payment_processors)) or "none installed"
        errors.append(
            {
                "field": "payment.provider",
                "message": f"unknown payment provider {cmd.payment.provider} (installed: {known})",
            }
        )
    elif cmd.payment is not None:
        at_counter = host.payment_processors[cmd.payment.provider].value.flow == PaymentFlow.COUNTER
        if at_counter != (counter is not None):
            why = "is not a way to pay at the counter" if counter else "is paid at a store's counter (store orders)"
            errors.append({"field": "payment.provider", "message": f"{cmd.payment.provider} {why}"})
    currencies = {p["currency"] for p in products.values()}
    if len(currencies) > 1:
        errors.append(
            {
                "field": "lines",
                "message": f"products are priced in several currencies ({', '.join(sorted(currencies))})",
            }
        )
    if errors:
        raise InvalidInput(
            "the order cannot be accepted as sent: " + "; ".join(e["message"] for e in errors), errors=errors
        )
    return products, currencies.pop()


async def _reserve(
    db: Database, cmd: PlaceOrder, products: dict[str, dict[str, Any]], order_id: str, counter: str | None = None
) -> tuple[list[tuple[str, str, int]], dict[str, int]]:
    """Take stock for every line; returns the takes (level id, location, qty per sku) and deferred units.
    A counter sale takes only from its store's shelves, and defers nothing (it leaves with the customer)."""
    skus = sorted(products)
    levels = await db.fetch(
        "SELECT l.id, l.location, l.sku, l.on_hand, l.reserved, loc.priority, loc.ships, loc.pickup "
        "FROM inventory_levels l JOIN locations loc ON loc.code = l.location "
        f"WHERE l.sku IN {_in(skus)} ORDER BY l.sku, l.location" + db.for_update("l"),
        *skus,
    )
    by_sku: dict[str, list[dict[str, Any]]] = defaultdict(list)
    pickup_at = cmd.delivery.pickup_location if cmd.delivery.method == DeliveryMethod.PICKUP else None
    for level in levels:
        if counter is not None:
            if level["location"] == counter:
                by_sku[level["sku"]].append(level)
        elif level["ships"] or level["location"] == pickup_at:
            by_sku[level["sku"]].append(level)
    takes: list[tuple[str, str, int]] = []
    deferred: dict[str, int] = {}
    short: list[dict[str, Any]] = []
    for line in cmd.lines:
        candidates = sorted(
            by_sku[line.sku],
            key=lambda lv: (
                lv["location"] != pickup_at,
                lv["priority"],
                -(lv["on_hand"] - lv["reserved"]),
                lv["location"],
            ),
        )
        need = line.qty
        for level in candidates:
            take = min(need, level["on_hand"] - level["reserved"])
            if take > 0:
                takes.append((level["id"], level["location"], take))
                level["reserved"] += take
                need -= take
            if need == 0:
                break
        if need:
            product = products[line.sku]
            if (product["preorder"] or product["backorder"]) and counter is None:
                deferred[line.sku] = need
            else:
                available = line.qty - need
                short.append({"sku": line.sku, "requested": line.qty, "available": available})
    if short:
        detail = "; ".join(f"{s['sku']}: {s['requested']} requested, {s['available']} available" for s in short)
        raise InsufficientStock(f"not enough stock, nothing was reserved ({detail})", errors=short)
    if takes:  # one statement for every level taken from (each is one round trip less to the database)
        by_level: dict[str, int] = defaultdict(int)
        for level_id, _, qty in takes:
            by_level[level_id] += qty
        ids = sorted(by_level)
        await db.fetch(
            "UPDATE inventory_levels SET reserved = reserved + CASE id "
            + " ".join("WHEN {} THEN CAST({} AS INTEGER)" for _ in ids)
            + " END, updated_at = {} WHERE id IN "
            + _in(ids),
            *[v for level_id in ids for v in (level_id, by_level[level_id])],
            utcnow(),
            *ids,
        )
    return takes, deferred


async def place_order(
    db: Database,
    host: PluginHost,
    settings: Settings,
    cmd: PlaceOrder,
    *,
    free_of: str | None = None,
    counter: str | None = None,
) -> OrderOut:
    """Create an order with its reservations. Call inside a unit of work.

    `free_of` makes a no-charge order replacing or repairing units of that order (a return's
    resolution): its prices are zero and it is confirmed at once, so it is routed like any order.
    `counter` is the store of a counter sale (core/orders/counter.py): stock is taken there only,
    and the order is recorded as collected there."""
    products, currency = await _validate(cmd, host, counter)
    customer_id, _, _ = await resolve_customer(cmd.customer)
    order_id = new_id("ord")
    takes, deferred = await _reserve(db, cmd, products, order_id, counter)
    now = utcnow()
    # Every order waits for its payment; the payment (started right after intake when the body
    # names a provider) confirms it — at once for cash on delivery.
    status = OrderStatus.CONFIRMED if free_of else OrderStatus.PENDING_PAYMENT
    if free_of:
        products = {sku: {**p, "price_amount": 0} for sku, p in products.items()}
    merchandise = sum(line.qty * products[line.sku]["price_amount"] for line in cmd.lines)
    reserved_by_sku: dict[str, int] = defaultdict(int)
    reservation_rows = []
    for level_id, location, qty in takes:
        sku = level_id.split("|", 1)[1]
        reserved_by_sku[sku] += qty
        reservation_rows.append(
            {"id": f"{order_id}|{sku}|{location}", "order_id": order_id, "sku": sku, "location": location, "qty": qty}
        )
    # Plain rows and SQL rather than ORM objects: intake is the hottest write path, and building
    # Table instances and their INSERTs costs more CPU than the database spends on them.
    order_row: dict[str, Any] = {
        "id": order_id,
        "external_ref": cmd.external_ref,
        "channel": cmd.channel,
        "customer_id": customer_id,
        "status": status.value,
        "currency": currency,
        "merchandise_total": merchandise,
        "shipping_total": 0,
        "grand_total": merchandise,
        "placed_at": now,
        "promised_ship_by": add_business_days(now, settings.promise_ship_days),
        "promised_delivery_by": add_business_days(now, settings.promise_delivery_days),
        "shipping_address": msgspec.json.encode(cmd.shipping_address).decode() if cmd.shipping_address else None,
        "delivery_method": DeliveryMethod.PICKUP.value if counter else cmd.delivery.method.value,
        "pickup_location": counter or cmd.delivery.pickup_location,
        "payment_provider": cmd.payment.provider if cmd.payment else None,
        "updated_at": now,
        "replacement_of": free_of,
    }
    await _insert(db, "orders", [order_row])
    order_row.update(cancelled_at=None, cancel_reason=None)
    line_rows = [
        {
            "id": f"{order_id}|{line.sku}",
            "order_id": order_id,
            "sku": line.sku,
            "qty": line.qty,
            "unit_price": products[line.sku]["price_amount"],
            "qty_reserved": reserved_by_sku[line.sku],
            "qty_deferred": deferred.get(line.sku, 0),
        }
        for line in cmd.lines
    ]
    await _insert(db, "order_lines", line_rows)
    for ln in line_rows:
        ln.update(qty_allocated=0, qty_shipped=0, qty_delivered=0, qty_returned=0)
    if reservation_rows:
        await _insert(db, "reservations", reservation_rows)
        await _insert(
            db,
            "inventory_movements",
            [
                {
                    "id": new_id("mov"),
                    "location": r["location"],
                    "sku": r["sku"],
                    "on_hand_delta": 0,
                    "reserved_delta": r["qty"],
                    "reason": "order_reserved",
                    "order_id": order_id,
                    "at": now,
                }
                for r in reservation_rows
            ],
        )
    placed = OrderPlaced(channel=cmd.channel, total=merchandise, currency=currency, status=status, deferred=deferred)
    await events.record(placed, order_id=order_id, customer_id=customer_id, subject_id=order_id)
    if free_of:  # confirmed at once, and once: a reaction (routing, an e-mail) runs once per order
        confirmed = OrderConfirmed(by=ConfirmedBy.RETURN, replacement_of=free_of)
        await events.record(confirmed, order_id=order_id, customer_id=customer_id, subject_id=order_id)
    return await get_order(order_id, written=(order_row, line_rows, reservation_rows))
