"""Stock per location: on hand, reserved by orders, available = on hand − reserved ≥ 0 always.

Every change is a movement; reservations take row locks on PostgreSQL (and run inside an
IMMEDIATE transaction on SQLite), and CHECK constraints in the schema are the last guard.
"""

from __future__ import annotations

from typing import Any

from core.catalogue.tables import InventoryCount, InventoryLevel, InventoryMovement, Location, Product
from core.db.database import Database, utcnow
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events import InventoryAdjusted, InventoryShortfall
from core.domain.ids import new_id
from core.domain.inventory import CycleCountIn, CycleCountOut, LevelOut
from core.jobs import outbox as events


def level_id(location: str, sku: str) -> str:
    return f"{location}|{sku}"


def level_out(row: dict[str, Any]) -> LevelOut:
    return LevelOut(
        location=row["location"],
        sku=row["sku"],
        on_hand=row["on_hand"],
        reserved=row["reserved"],
        available=row["on_hand"] - row["reserved"],
    )


async def _check_refs(location: str, sku: str, *, missing: type[Exception] = NotFound) -> None:
    if not await Location.exists().where(Location.code == location):
        raise missing(f"no location with code {location}")
    if not await Product.exists().where(Product.sku == sku):
        raise missing(f"no product with sku {sku}")


async def _locked_level(db: Database, location: str, sku: str) -> dict[str, Any] | None:
    rows = await db.fetch(
        "SELECT id, location, sku, on_hand, reserved FROM inventory_levels WHERE id = {}" + db.for_update(),
        level_id(location, sku),
    )
    return rows[0] if rows else None


async def movement(
    location: str,
    sku: str,
    *,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    reason: str,
    order_id: str | None = None,
    actor: str | None = None,
) -> None:
    await InventoryMovement.insert(
        InventoryMovement(
            id=new_id("mov"),
            location=location,
            sku=sku,
            on_hand_delta=on_hand_delta,
            reserved_delta=reserved_delta,
            reason=reason,
            order_id=order_id,
            actor=actor,
            at=utcnow(),
        )
    )


async def set_on_hand(
    db: Database, location: str, sku: str, on_hand: int, *, actor: str, reason: str = "set"
) -> LevelOut:
    """Set the units on hand (a receipt, a correction). Refused below what orders reserved."""
    await _check_refs(location, sku)
    now = utcnow()
    row = await _locked_level(db, location, sku)
    if row is None:
        inserted = await db.fetch(
            "INSERT INTO inventory_levels (id, location, sku, on_hand, reserved, updated_at) "
            "VALUES ({}, {}, {}, {}, 0, {}) ON CONFLICT (id) DO NOTHING RETURNING id",
            level_id(location, sku),
            location,
            sku,
            on_hand,
            now,
        )
        if inserted:
            await movement(location, sku, on_hand_delta=on_hand, reason=reason, actor=actor)
            await events.record(
                InventoryAdjusted(location=location, sku=sku, on_hand=on_hand, delta=on_hand),
                subject_id=level_id(location, sku),
            )
            return LevelOut(location=location, sku=sku, on_hand=on_hand, reserved=0, available=on_hand)
        row = await _locked_level(db, location, sku)
        assert row is not None
    if on_hand < row["reserved"]:
        raise Conflict(
            f"{row['reserved']} units of {sku} at {location} are reserved by orders; on_hand cannot go below "
            f"that (asked {on_hand}). Re-route or cancel those orders first.",
            reserved=row["reserved"],
        )
    delta = on_hand - row["on_hand"]
    await InventoryLevel.update({InventoryLevel.on_hand: on_hand, InventoryLevel.updated_at: now}).where(
        InventoryLevel.id == row["id"]
    )
    if delta:
        await movement(location, sku, on_hand_delta=delta, reason=reason, actor=actor)
        await events.record(
            InventoryAdjusted(location=location, sku=sku, on_hand=on_hand, delta=delta), subject_id=row["id"]
        )
    return LevelOut(
        location=location, sku=sku, on_hand=on_hand, reserved=row["reserved"], available=on_hand - row["reserved"]
    )


async def levels(sku: str | None = None, location: str | None = None) -> list[LevelOut]:
    query = InventoryLevel.select().order_by(InventoryLevel.sku).order_by(InventoryLevel.location)
    if sku:
        query = query.where(InventoryLevel.sku == sku)
    if location:
        query = query.where(InventoryLevel.location == location)
    return [level_out(r) for r in await query]


async def record_count(db: Database, data: CycleCountIn, *, actor: str) -> CycleCountOut:
    """A cycle count: records the system quantity at count time, then corrects stock to what was
    counted. A count below the reserved units is still recorded; stock is set to the reserved
    units and the shortfall is raised as an event so the affected orders can be re-routed."""
    await _check_refs(data.location, data.sku, missing=InvalidInput)
    row = await _locked_level(db, data.location, data.sku)
    system_qty = row["on_hand"] if row else 0
    reserved = row["reserved"] if row else 0
    now = utcnow()
    count_id = new_id("cnt")
    await InventoryCount.insert(
        InventoryCount(
            id=count_id,
            location=data.location,
            sku=data.sku,
            system_qty=system_qty,
            counted_qty=data.counted_qty,
            counted_at=now,
            counted_by=data.counted_by or actor,
        )
    )
    shortfall = max(0, reserved - data.counted_qty)
    level = await set_on_hand(
        db, data.location, data.sku, max(data.counted_qty, reserved), actor=actor, reason="cycle_count"
    )
    if shortfall:
        await events.record(
            InventoryShortfall(location=data.location, sku=data.sku, shortfall=shortfall, count_id=count_id),
            subject_id=level_id(data.location, data.sku),
        )
    return CycleCountOut(
        id=count_id,
        location=data.location,
        sku=data.sku,
        system_qty=system_qty,
        counted_qty=data.counted_qty,
        counted_at=now,
        accurate=system_qty == data.counted_qty,
        level=level,
        shortfall=shortfall,
    )
