"""Routing a confirmed order: ask the routing hook for a plan, then move the order's
reservations to the chosen locations and create one shipment per location, atomically.

The plan is computed from a locked stock snapshot (the order's own reservations count as
available to it), so applying it can never oversell; if a plugin returns a plan that does not
fit the snapshot, nothing is applied and the error names the plugin's mistake.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import msgspec

from core.catalogue.inventory import movement
from core.catalogue.tables import Location, Product
from core.db.database import utcnow
from core.domain.errors import Conflict, NotFound
from core.domain.events import (
    AllocatedPart,
    OrderHeld,
    OrderRerouted,
    OrderRouted,
    ShipmentCancelled,
    ShipmentCreated,
)
from core.domain.fulfilment import AllocationOut, ShipmentStatus
from core.domain.ids import new_id
from core.domain.orders import OrderStatus, check_transition
from core.fulfilment import tasks
from core.fulfilment.tables import Allocation, Shipment, ShipmentLine
from core.hookspecs.couriers import Courier
from core.hookspecs.routing import AllocationDecision, RoutingLine, RoutingLocation, RoutingRequest
from core.jobs import outbox as events
from core.orders.tables import Order, OrderLine, Reservation
from core.plugins import Registered
from core.runtime import Runtime
from core.settings import DEFAULT_COURIER, read


def _json(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def _capable(couriers: Mapping[str, Registered], capability: str) -> list[str]:
    """Names of the couriers declaring `capability`, in registration order."""
    found: list[str] = []
    for name, registered in couriers.items():
        courier: Courier = registered.value
        if getattr(courier.capabilities, capability):
            found.append(name)
    return found


def serves(courier: Courier, country: str | None) -> bool:
    """Whether the courier delivers to `country` (one declaring no countries is not asked)."""
    declared = courier.capabilities.countries
    return not declared or country is None or country.upper() in {c.upper() for c in declared}


def carrier_for(
    couriers: Mapping[str, Registered], *, for_return: bool = False, country: str | None = None
) -> str | None:
    """The courier that carries parcels away from the shop (or, for a return, back to it) for an
    address in `country`: EMPORIO_DEFAULT_COURIER when set and it serves the country (None if
    that courier is not installed), else the first carrier registered that does. Couriers that
    keep the parcel at a store are never carriers; a return label needs one declaring `returns`."""
    in_store = set(_capable(couriers, "in_store_pickup"))
    carriers = [name for name in (_capable(couriers, "returns") if for_return else couriers) if name not in in_store]
    candidates = [name for name in carriers if serves(couriers[name].value, country)]
    chosen = read(DEFAULT_COURIER)
    if chosen in candidates:
        return chosen
    if chosen and chosen not in carriers and not for_return:
        return None  # a default that is not installed: packing then names it, rather than guessing
    return candidates[0] if candidates else None


def delivery_problem(
    couriers: Mapping[str, Registered], delivery_method: str, address: Mapping[str, Any] | None
) -> dict[str, str] | None:
    """Why no installed carrier can bring a courier order to `address` ({field, message}), or
    None. Store pickup needs no carrier; with no carrier installed yet there is nothing to judge
    by (packing names the missing courier)."""
    if delivery_method != "courier" or not address or not address.get("country"):
        return None
    in_store = set(_capable(couriers, "in_store_pickup"))
    carriers = [name for name in couriers if name not in in_store]
    country = str(address["country"]).upper()
    if not carriers or any(serves(couriers[name].value, country) for name in carriers):
        return None
    served = sorted({c.upper() for name in carriers for c in couriers[name].value.capabilities.countries})
    return {
        "field": "shipping_address.country",
        "message": f"no installed courier delivers to {country} (they deliver to {', '.join(served)}); "
        "choose store pickup or an address in one of those countries",
    }


def in_store_courier(couriers: Mapping[str, Registered]) -> str | None:
    """The courier whose parcels wait at the shop's own store (click and collect), by the
    `in_store_pickup` capability it declares: the first one registered, or None."""
    found = _capable(couriers, "in_store_pickup")
    return found[0] if found else None


def default_courier(runtime: Runtime, *, for_return: bool = False, country: str | None = None) -> str | None:
    """The carrier for a new shipment of this engine's installed couriers (see `carrier_for`)."""
    return carrier_for(runtime.host.couriers, for_return=for_return, country=country)


async def route_order(runtime: Runtime, order_id: str, *, reroute: bool = False) -> AllocationOut | None:
    """Route (or re-route) the order's open units. Idempotent: a confirmed order is routed once;
    an already routed order is only changed when `reroute` is asked, and then only shipments
    that have not started picking are replaced."""
    db = runtime.db
    async with runtime.unit_of_work():
        rows = await db.fetch("SELECT * FROM orders WHERE id = {}" + db.for_update(), order_id)
        if not rows:
            raise NotFound(f"no order with id {order_id}")
        order = rows[0]
        status = OrderStatus(order["status"])
        if not reroute and status != OrderStatus.CONFIRMED:
            return await get_allocation(order_id) if status == OrderStatus.ROUTED else None
        if reroute and status not in (OrderStatus.CONFIRMED, OrderStatus.ROUTED, OrderStatus.PARTIALLY_SHIPPED):
            raise Conflict(f"order {order_id} is {status}; only confirmed or routed orders can be re-routed")
        problem = delivery_problem(runtime.host.couriers, order["delivery_method"], _json(order["shipping_address"]))
        if problem is not None:  # placed anyway (an import, a sales channel): ops must correct the address
            await hold(order, problem["message"])
            return None
        if reroute:
            await _withdraw_unstarted_shipments(order_id)
        decision, request = await _decide(runtime, order)
        await _apply(runtime, order, decision, request)
        if status == OrderStatus.CONFIRMED:
            check_transition(order_id, status, OrderStatus.ROUTED)
            await Order.update({Order.status: OrderStatus.ROUTED.value, Order.updated_at: utcnow()}).where(
                Order.id == order_id
            )
        routed = (OrderRerouted if reroute else OrderRouted)(
            plan=[AllocatedPart(location=p.location, lines=dict(p.lines)) for p in decision.plan.parts],
            reasons=list(decision.reasons),
            deferred=dict(decision.plan.deferred),
        )
        await events.record(routed, order_id=order_id, customer_id=order["customer_id"], subject_id=order_id)
    return await get_allocation(order_id)


async def hold(order: dict[str, Any], reason: str) -> None:
    """Keep an order nobody can deliver from routing, with a task for ops to correct its address
    (`PATCH /v1/orders/{id}/shipping-address`, which routes it then). Once per order."""
    task_id = await tasks.open_task(
        kind="undeliverable_address",
        title=f"Order {order['id']} cannot be delivered to its address: correct it",
        detail=f"{reason}. Correct the address with PATCH /v1/orders/{order['id']}/shipping-address; "
        "the order is routed as soon as a courier serves it.",
        shipment_id=None,
        order_id=order["id"],
        customer_id=order["customer_id"],
        dedupe_key=f"{order['id']}|undeliverable_address",
    )
    if task_id is not None:
        held = OrderHeld(reason=reason, field="shipping_address.country", task_id=task_id)
        await events.record(held, order_id=order["id"], customer_id=order["customer_id"], subject_id=order["id"])


async def _withdraw_unstarted_shipments(order_id: str) -> None:
    shipments = await Shipment.select(Shipment.id, Shipment.status).where(
        (Shipment.order_id == order_id)
        & (Shipment.status == ShipmentStatus.PENDING.value)
        & (Shipment.is_return == False)  # noqa: E712 - Piccolo builds SQL from ==
    )
    for shipment in shipments:
        lines = await ShipmentLine.select().where(ShipmentLine.shipment_id == shipment["id"])
        for line in lines:
            await OrderLine.update({OrderLine.qty_allocated: OrderLine.qty_allocated - line["qty"]}).where(
                (OrderLine.order_id == order_id) & (OrderLine.sku == line["sku"])
            )
        await Shipment.update({Shipment.status: ShipmentStatus.CANCELLED.value, Shipment.updated_at: utcnow()}).where(
            Shipment.id == shipment["id"]
        )
        await events.record(ShipmentCancelled(reason="re-routed"), order_id=order_id, subject_id=shipment["id"])


async def _decide(runtime: Runtime, order: dict[str, Any]) -> tuple[AllocationDecision, RoutingRequest]:
    db = runtime.db
    order_id = order["id"]
    lines = await OrderLine.select().where(OrderLine.order_id == order_id).order_by(OrderLine.sku)
    open_lines = {ln["sku"]: ln["qty"] - ln["qty_allocated"] for ln in lines if ln["qty"] - ln["qty_allocated"] > 0}
    products = {
        p["sku"]: p
        for p in await Product.select(Product.sku, Product.preorder, Product.backorder).where(
            Product.sku.is_in(sorted(open_lines) or [""])
        )
    }
    own: dict[tuple[str, str], int] = defaultdict(int)
    for r in await Reservation.select().where(Reservation.order_id == order_id):
        own[(r["location"], r["sku"])] += r["qty"]
    for key, qty in (await _allocated_by_location(order_id)).items():
        own[key] -= qty  # units already in this order's shipments are not free for its open units
    skus = sorted(open_lines)
    levels = []
    if skus:
        levels = await db.fetch(
            "SELECT id, location, sku, on_hand, reserved FROM inventory_levels WHERE sku IN ("
            + ", ".join("{}" for _ in skus)
            + ") ORDER BY sku, location"
            + db.for_update(),
            *skus,
        )
    available: dict[str, dict[str, int]] = defaultdict(dict)
    for lv in levels:
        # Units allocated to this order's existing shipments stay with them.
        free = lv["on_hand"] - lv["reserved"] + own[(lv["location"], lv["sku"])]
        available[lv["location"]][lv["sku"]] = max(0, free)
    locations = await Location.select().order_by(Location.code)
    address = _json(order["shipping_address"]) or {}
    request = RoutingRequest(
        order_id=order_id,
        lines=[
            RoutingLine(
                sku=sku,
                qty=qty,
                preorder=bool(products.get(sku, {}).get("preorder")),
                backorder=bool(products.get(sku, {}).get("backorder")),
            )
            for sku, qty in open_lines.items()
        ],
        locations=[
            RoutingLocation(
                code=loc["code"],
                type=loc["type"],
                ships=bool(loc["ships"]),
                pickup=bool(loc["pickup"]),
                priority=loc["priority"],
                lat=loc["lat"],
                lon=loc["lon"],
                available=available.get(loc["code"], {}),
            )
            for loc in locations
        ],
        delivery_method=order["delivery_method"],
        pickup_location=order["pickup_location"],
        destination_postcode=address.get("postcode"),
        destination_lat=address.get("lat"),
        destination_lon=address.get("lon"),
    )
    decision = runtime.host.pm.hook.resolve_allocation(request=request)
    if decision is None:
        raise Conflict("no routing plugin answered for order " + order_id + "; is the default routing plugin disabled?")
    return decision, request


async def _apply(
    runtime: Runtime, order: dict[str, Any], decision: AllocationDecision, request: RoutingRequest
) -> None:
    db = runtime.db
    order_id = order["id"]
    wanted: dict[tuple[str, str], int] = defaultdict(int)
    open_qty = {line.sku: line.qty for line in request.lines}
    available = {loc.code: loc.available for loc in request.locations}
    for part in decision.plan.parts:
        for sku, qty in part.lines.items():
            if sku not in open_qty or qty <= 0 or qty > available.get(part.location, {}).get(sku, 0):
                raise Conflict(
                    f"the routing plan for order {order_id} asks {qty} × {sku} at {part.location}, "
                    "which that location cannot give; nothing was changed"
                )
            wanted[(part.location, sku)] += qty
    per_sku: dict[str, int] = defaultdict(int)
    for (_, sku), qty in wanted.items():
        per_sku[sku] += qty
    if any(per_sku[sku] > qty for sku, qty in open_qty.items()):
        raise Conflict(f"the routing plan for order {order_id} allocates more than was ordered; nothing was changed")
    # Reservations follow the plan: at each location the order now holds the units of its live
    # shipments plus what the plan allocates there; the difference moves in inventory_levels.
    held = {
        (r["location"], r["sku"]): r["qty"] for r in await Reservation.select().where(Reservation.order_id == order_id)
    }
    in_shipments = await _allocated_by_location(order_id)
    now = utcnow()
    keys = {k for k in set(held) | set(wanted) | set(in_shipments) if k[1] in open_qty}
    totals: dict[str, int] = defaultdict(int)
    for key in sorted(keys, key=lambda k: (k[1], k[0])):
        location, sku = key
        new_total = in_shipments.get(key, 0) + wanted.get(key, 0)
        totals[sku] += new_total
        delta = new_total - held.get(key, 0)
        if not delta:
            continue
        await db.fetch(
            "UPDATE inventory_levels SET reserved = reserved + {}, updated_at = {} WHERE id = {}",
            delta,
            now,
            f"{location}|{sku}",
        )
        await movement(location, sku, reserved_delta=delta, reason="order_routed", order_id=order_id)
        await Reservation.delete().where(Reservation.id == f"{order_id}|{sku}|{location}")
        if new_total > 0:
            await Reservation.insert(
                Reservation(
                    id=f"{order_id}|{sku}|{location}", order_id=order_id, sku=sku, location=location, qty=new_total
                )
            )
    for sku, total in totals.items():
        await OrderLine.update({OrderLine.qty_reserved: total}).where(
            (OrderLine.order_id == order_id) & (OrderLine.sku == sku)
        )
    pickup = order["delivery_method"] == "pickup"
    courier = default_courier(runtime, country=(_json(order["shipping_address"]) or {}).get("country"))
    at_counter = in_store_courier(runtime.host.couriers) if pickup else None
    for part in decision.plan.parts:
        shipment_id = new_id("shp")
        at_pickup_store = pickup and part.location == order["pickup_location"]
        await Shipment.insert(
            Shipment(
                id=shipment_id,
                order_id=order_id,
                location=part.location,
                status=ShipmentStatus.PENDING.value,
                # A part already at the pickup store waits on its shelf; any other part is carried there.
                courier=at_counter if at_pickup_store and at_counter else courier,
                created_at=now,
                updated_at=now,
            )
        )
        await ShipmentLine.insert(
            *[
                ShipmentLine(id=f"{shipment_id}|{sku}", shipment_id=shipment_id, order_id=order_id, sku=sku, qty=qty)
                for sku, qty in sorted(part.lines.items())
            ]
        )
        for sku, qty in part.lines.items():
            await OrderLine.update({OrderLine.qty_allocated: OrderLine.qty_allocated + qty}).where(
                (OrderLine.order_id == order_id) & (OrderLine.sku == sku)
            )
        await events.record(
            ShipmentCreated(location=part.location, lines=dict(part.lines)), order_id=order_id, subject_id=shipment_id
        )
    for sku, qty in decision.plan.deferred.items():
        await OrderLine.update({OrderLine.qty_deferred: qty}).where(
            (OrderLine.order_id == order_id) & (OrderLine.sku == sku)
        )
    await _store_allocation(order_id, decision, now)


async def _allocated_by_location(order_id: str) -> dict[tuple[str, str], int]:
    """Units already in this order's live (not cancelled, not yet shipped) shipments."""
    rows = await ShipmentLine.raw(
        "SELECT s.location, l.sku, SUM(l.qty) AS qty FROM shipment_lines l JOIN shipments s ON s.id = l.shipment_id "
        "WHERE l.order_id = {} AND s.status NOT IN ('cancelled') AND s.shipped_at IS NULL AND s.is_return = {} "
        "GROUP BY s.location, l.sku",
        order_id,
        False,
    )
    return {(r["location"], r["sku"]): int(r["qty"]) for r in rows}


async def _store_allocation(order_id: str, decision: AllocationDecision, now: Any) -> None:
    existing = await Allocation.select(Allocation.version).where(Allocation.order_id == order_id).first()
    values = dict(
        plan=msgspec.json.encode(decision.plan.parts).decode(),
        reasons=msgspec.json.encode(decision.reasons).decode(),
        alternatives=msgspec.json.encode(decision.alternatives).decode(),
        deferred=msgspec.json.encode(decision.plan.deferred).decode(),
        strategy=decision.strategy,
        decided_at=now,
    )
    if existing:
        await Allocation.update(
            {**{getattr(Allocation, k): v for k, v in values.items()}, Allocation.version: existing["version"] + 1}
        ).where(Allocation.order_id == order_id)
    else:
        await Allocation.insert(Allocation(order_id=order_id, version=1, **values))


async def get_allocation(order_id: str) -> AllocationOut | None:
    row = await Allocation.select().where(Allocation.order_id == order_id).first()
    if row is None:
        return None
    return AllocationOut(
        order_id=order_id,
        plan=_json(row["plan"]),
        reasons=_json(row["reasons"]),
        alternatives=_json(row["alternatives"]),
        deferred=_json(row["deferred"]),
        strategy=row["strategy"],
        decided_at=row["decided_at"],
        version=row["version"],
    )
