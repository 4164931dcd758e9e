"""Shipments as the API shows them: one shipment, or a page of them, each with its lines,
delivery attempts and tracking checkpoints. A page costs two queries whatever its size: the
shipments, then every child row of all of them at once."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import msgspec

from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.errors import InvalidInput, NotFound
from core.domain.fulfilment import AttemptOut, ShipmentLineOut, ShipmentOut, ShipmentStatus, TrackingEventOut
from core.domain.time import as_utc
from core.runtime import Runtime

# Lines, attempts and checkpoints in one result: (kind, shipment_id, text1..3, number1..2, at).
# The checkpoints come first so that SQLite types the `at` column from a timestamp column; the
# first branch's NULLs are cast so that PostgreSQL types the number columns as integers.
_CHILDREN = (
    "SELECT 'event' AS kind, shipment_id, status AS t1, description AS t2, location AS t3, "
    "CAST(NULL AS INTEGER) AS n1, CAST(NULL AS INTEGER) AS n2, at FROM shipment_events WHERE shipment_id IN ({ids}) "
    "UNION ALL SELECT 'attempt', shipment_id, outcome, reason, NULL, number, NULL, at "
    "FROM delivery_attempts WHERE shipment_id IN ({ids}) "
    "UNION ALL SELECT 'line', shipment_id, sku, NULL, NULL, qty, picked_qty, NULL "
    "FROM shipment_lines WHERE shipment_id IN ({ids})"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def shipment_row(runtime: Runtime, shipment_id: str, *, lock: bool = False) -> dict[str, Any]:
    db = runtime.db
    rows = await db.fetch("SELECT * FROM shipments WHERE id = {}" + (db.for_update() if lock else ""), shipment_id)
    if not rows:
        raise NotFound(f"no shipment with id {shipment_id}")
    return rows[0]


async def get_shipment(runtime: Runtime, shipment_id: str) -> ShipmentOut:
    [shipment] = await shipments_out(runtime, [await shipment_row(runtime, shipment_id)])
    return shipment


async def list_shipments(
    runtime: Runtime,
    *,
    status: str | None,
    location: str | None,
    order_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ShipmentOut]:
    """Newest first, filtered by status, location and order; keyset pages."""
    if status is not None and status not in {s.value for s in ShipmentStatus}:
        raise InvalidInput(f"unknown shipment status {status}; one of {', '.join(s.value for s in ShipmentStatus)}")
    conditions: list[str] = []
    args: list[Any] = []
    for column, value in (("id <", decode_cursor(cursor)), ("status =", status), ("location =", location)):
        if value:
            conditions.append(f"{column} {{}}")
            args.append(value)
    if order_id:
        conditions.append("order_id = {}")
        args.append(order_id)
    where = f"WHERE {' AND '.join(conditions)} " if conditions else ""
    rows = await runtime.db.fetch(
        f"SELECT * FROM shipments {where}ORDER BY id DESC LIMIT {{}}", *args, check_limit(limit) + 1
    )
    return page_of(rows, limit, "id", await shipments_out(runtime, rows[:limit]))


async def shipments_out(runtime: Runtime, rows: list[dict[str, Any]]) -> list[ShipmentOut]:
    """The API view of these shipment rows, their child rows read in one query."""
    if not rows:
        return []
    ids = [row["id"] for row in rows]
    marks = ", ".join("{}" for _ in ids)
    children = await runtime.db.fetch(_CHILDREN.format(ids=marks), *ids, *ids, *ids)
    lines: dict[str, list[ShipmentLineOut]] = defaultdict(list)
    attempts: dict[str, list[AttemptOut]] = defaultdict(list)
    tracking: dict[str, list[TrackingEventOut]] = defaultdict(list)
    for child in children:
        sid = child["shipment_id"]
        if child["kind"] == "line":
            lines[sid].append(ShipmentLineOut(sku=child["t1"], qty=int(child["n1"]), picked_qty=_int(child["n2"])))
        elif child["kind"] == "attempt":
            at = as_utc(child["at"]) or _EPOCH
            attempts[sid].append(AttemptOut(number=int(child["n1"]), at=at, outcome=child["t1"], reason=child["t2"]))
        else:
            at = as_utc(child["at"]) or _EPOCH
            tracking[sid].append(
                TrackingEventOut(at=at, status=child["t1"], description=child["t2"], location=child["t3"])
            )
    return [
        _shipment_out(
            row,
            sorted(lines[row["id"]], key=lambda ln: ln.sku),
            sorted(attempts[row["id"]], key=lambda a: a.number),
            sorted(tracking[row["id"]], key=lambda e: e.at),
        )
        for row in rows
    ]


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _shipment_out(
    row: dict[str, Any], lines: list[ShipmentLineOut], attempts: list[AttemptOut], tracking: list[TrackingEventOut]
) -> ShipmentOut:
    packaging = row["packaging"]
    return ShipmentOut(
        id=row["id"],
        order_id=row["order_id"],
        location=row["location"],
        lines=lines,
        status=ShipmentStatus(row["status"]),
        courier=row["courier"],
        tracking_number=row["tracking_number"],
        tracking_url=row["tracking_url"],
        attempts=attempts,
        events=tracking,
        packaging=msgspec.json.decode(packaging) if isinstance(packaging, str | bytes) else packaging,
        voucher_state=row["voucher_state"],
        picker=row["picker"],
        pick_started_at=row["pick_started_at"],
        pick_completed_at=row["pick_completed_at"],
        pick_error=bool(row["pick_error"]),
        packed_at=row["packed_at"],
        shipped_at=row["shipped_at"],
        delivered_at=row["delivered_at"],
        failure_reason=row["failure_reason"],
        next_attempt_on=row["next_attempt_on"],
        cod_amount=row["cod_amount"],
        last_error=row["last_error"],
        is_return=bool(row["is_return"]),
    )
