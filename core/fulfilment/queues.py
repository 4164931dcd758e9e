"""The shop floor's work queues (`GET /v1/ops/queues`): what someone must do next, before any KPI —
orders waiting to be packed against their location's next cut-off, labels the courier refused,
failed deliveries waiting for a decision, returns back at the shop waiting for inspection,
refunds that failed, open tasks and payments stuck in 3-D Secure. Every item names its order.

The shape is a contract for the ops dashboard: queue ids, their order and the item fields are
stable (docs/api.md); new fields may be added, none renamed or removed.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec

from core.db.database import utcnow
from core.domain.errors import InvalidInput
from core.domain.fulfilment import ShipmentStatus, VoucherState
from core.domain.time import as_utc, next_cutoff
from core.fulfilment import cutoffs
from core.fulfilment.vouchers import MAX_VOUCHER_TRIES
from core.runtime import Runtime
from core.settings import shop_zone

STUCK_AFTER = timedelta(minutes=15)  # a 3-D Secure challenge older than this is not someone typing a code
MAX_ITEMS = 200


class QueueId(enum.StrEnum):
    TO_PACK = "to_pack"
    LABELS_FAILED = "labels_failed"
    FAILED_DELIVERIES = "failed_deliveries"
    RETURNS_TO_INSPECT = "returns_to_inspect"
    REFUNDS_FAILED = "refunds_failed"
    OPEN_TASKS = "open_tasks"
    PAYMENTS_REQUIRE_ACTION = "payments_require_action"


TITLES: dict[QueueId, tuple[str, str]] = {
    QueueId.TO_PACK: ("Προς συσκευασία", "Waiting to be packed"),
    QueueId.LABELS_FAILED: ("Ετικέτες που απέτυχαν", "Labels failed"),
    QueueId.FAILED_DELIVERIES: ("Αποτυχημένες παραδόσεις προς απόφαση", "Failed deliveries awaiting a decision"),
    QueueId.RETURNS_TO_INSPECT: ("Επιστροφές προς έλεγχο", "Returns waiting for inspection"),
    QueueId.REFUNDS_FAILED: ("Επιστροφές χρημάτων που απέτυχαν", "Refunds failed"),
    QueueId.OPEN_TASKS: ("Ανοιχτές εργασίες", "Open tasks"),
    QueueId.PAYMENTS_REQUIRE_ACTION: ("Πληρωμές σε αναμονή 3-D Secure", "Payments stuck in requires_action"),
}


class QueueItem(msgspec.Struct, frozen=True, kw_only=True):
    order_id: str | None
    order_url: str | None  # the order it is about: /v1/orders/{id}
    subject_type: str  # shipment, return, payment, money_movement or task
    subject_id: str
    since: datetime  # when it started waiting
    age_s: int
    title: str  # one line, in English
    location: str | None = None
    cutoff_at: datetime | None = None  # to_pack: the location's next pickup
    due_in_s: int | None = None  # to_pack: seconds left until that pickup
    late: bool = False  # to_pack: the order's promised ship-by comes before that pickup
    reason: str | None = None  # why it is stuck (the courier's or the PSP's words, a failure reason)


class LocalisedTitle(msgspec.Struct, frozen=True, kw_only=True):
    el: str
    en: str


class Queue(msgspec.Struct, frozen=True, kw_only=True):
    id: QueueId
    title: LocalisedTitle
    count: int  # every item waiting, even beyond `items`
    items: list[QueueItem]  # the oldest first, at most `limit`


class QueuesOut(msgspec.Struct, frozen=True, kw_only=True):
    generated_at: datetime
    queues: list[Queue]  # always every QueueId, in the enum's order


Reader = Callable[[Runtime, datetime], Awaitable[list[QueueItem]]]


def _item(
    row: dict[str, Any], now: datetime, subject_type: str, subject_id: str, title: str, **extra: Any
) -> QueueItem:
    since = as_utc(row["since"]) or now
    order_id = row.get("order_id")
    return QueueItem(
        order_id=order_id,
        order_url=f"/v1/orders/{order_id}" if order_id else None,
        subject_type=subject_type,
        subject_id=subject_id,
        since=since,
        age_s=max(0, int((now - since).total_seconds())),
        title=title,
        **extra,
    )


async def _to_pack(runtime: Runtime, now: datetime) -> list[QueueItem]:
    rows = await runtime.db.fetch(
        "SELECT s.id, s.order_id, s.location, s.status, s.created_at AS since, o.promised_ship_by "
        "FROM shipments s JOIN orders o ON o.id = s.order_id "
        "WHERE s.status IN ({}, {}) AND s.is_return = {} ORDER BY s.created_at, s.id",
        ShipmentStatus.PENDING.value,
        ShipmentStatus.PICKING.value,
        False,
    )
    countries, slots, zone = await cutoffs.location_countries(), cutoffs.dispatch_slots(), shop_zone()
    items = []
    for row in rows:
        country = countries.get(row["location"], cutoffs.DEFAULT_COUNTRY)
        cutoff = as_utc(next_cutoff(now, slots, zone, country))
        promised = as_utc(row["promised_ship_by"])
        step = "picked, to pack" if row["status"] == ShipmentStatus.PICKING.value else "to pick and pack"
        items.append(
            _item(
                row,
                now,
                "shipment",
                row["id"],
                f"Order {row['order_id']}: {step} at {row['location']}",
                location=row["location"],
                cutoff_at=cutoff,
                due_in_s=int((cutoff - now).total_seconds()) if cutoff else None,
                late=bool(promised and cutoff and promised < cutoff),
            )
        )
    return items


async def _labels_failed(runtime: Runtime, now: datetime) -> list[QueueItem]:
    rows = await runtime.db.fetch(
        "SELECT id, order_id, location, is_return, last_error, updated_at AS since FROM shipments "
        "WHERE status NOT IN ({}, {}) AND (voucher_state = {} OR (voucher_state IN ({}, {}) AND voucher_tries >= {})) "
        "ORDER BY updated_at, id",
        ShipmentStatus.CANCELLED.value,
        ShipmentStatus.PENDING.value,
        VoucherState.FAILED.value,
        VoucherState.NONE.value,
        VoucherState.REQUESTED.value,
        MAX_VOUCHER_TRIES,
    )
    return [
        _item(
            r,
            now,
            "shipment",
            r["id"],
            f"{'Return label' if r['is_return'] else 'Label'} failed for order {r['order_id']}",
            location=r["location"],
            reason=r["last_error"],
        )
        for r in rows
    ]


async def _failed_deliveries(runtime: Runtime, now: datetime) -> list[QueueItem]:
    rows = await runtime.db.fetch(
        "SELECT id, order_id, location, failure_reason, updated_at AS since FROM shipments "
        "WHERE status = {} ORDER BY updated_at, id",
        ShipmentStatus.DELIVERY_FAILED.value,
    )
    return [
        _item(
            r,
            now,
            "shipment",
            r["id"],
            f"Delivery failed for order {r['order_id']}: decide (re-attempt, contact, return)",
            location=r["location"],
            reason=r["failure_reason"],
        )
        for r in rows
    ]


async def _returns_to_inspect(runtime: Runtime, now: datetime) -> list[QueueItem]:
    rows = await runtime.db.fetch(
        "SELECT r.id, r.order_id, r.receiving_location, s.delivered_at AS since FROM returns r "
        "JOIN shipments s ON s.id = r.shipment_id "
        "WHERE r.status IN ('approved', 'in_transit') AND s.status = {} ORDER BY s.delivered_at, r.id",
        ShipmentStatus.DELIVERED.value,
    )
    return [
        _item(
            r,
            now,
            "return",
            r["id"],
            f"Return {r['id']} of order {r['order_id']} is at the shop: inspect and receive it",
            location=r["receiving_location"],
        )
        for r in rows
    ]


async def _refunds_failed(runtime: Runtime, now: datetime) -> list[QueueItem]:
    rows = await runtime.db.fetch(
        "SELECT m.id, p.order_id, m.amount, p.currency, m.status, m.last_error, m.created_at AS since "
        "FROM money_movements m JOIN payments p ON p.id = m.payment_id "
        "WHERE m.kind = 'refund' AND m.status IN ('failed', 'dead') ORDER BY m.created_at, m.id"
    )
    return [
        _item(
            r,
            now,
            "money_movement",
            r["id"],
            f"Refund of {r['amount']} {r['currency']} for order {r['order_id']} {r['status']}",
            reason=r["last_error"],
        )
        for r in rows
    ]


async def _open_tasks(runtime: Runtime, now: datetime) -> list[QueueItem]:
    rows = await runtime.db.fetch(
        "SELECT id, kind, title, detail, order_id, created_at AS since FROM tasks WHERE status = 'open' "
        "ORDER BY created_at, id"
    )
    return [_item(r, now, "task", r["id"], r["title"], reason=r["kind"]) for r in rows]


async def _payments_require_action(runtime: Runtime, now: datetime) -> list[QueueItem]:
    rows = await runtime.db.fetch(
        "SELECT id, order_id, provider, amount, currency, updated_at AS since FROM payments "
        "WHERE status = 'requires_action' AND updated_at < {} ORDER BY updated_at, id",
        now - STUCK_AFTER,
    )
    return [
        _item(
            r,
            now,
            "payment",
            r["id"],
            f"Payment of {r['amount']} {r['currency']} ({r['provider']}) for order {r['order_id']} "
            "waits for the customer's 3-D Secure",
        )
        for r in rows
    ]


READERS: dict[QueueId, Reader] = {
    QueueId.TO_PACK: _to_pack,
    QueueId.LABELS_FAILED: _labels_failed,
    QueueId.FAILED_DELIVERIES: _failed_deliveries,
    QueueId.RETURNS_TO_INSPECT: _returns_to_inspect,
    QueueId.REFUNDS_FAILED: _refunds_failed,
    QueueId.OPEN_TASKS: _open_tasks,
    QueueId.PAYMENTS_REQUIRE_ACTION: _payments_require_action,
}


async def work_queues(runtime: Runtime, *, limit: int = 20, only: QueueId | None = None) -> QueuesOut:
    """Every queue (or `only` one) with its count and its oldest `limit` items."""
    if not 1 <= limit <= MAX_ITEMS:
        raise InvalidInput(f"limit must be between 1 and {MAX_ITEMS}", errors=[{"field": "limit", "message": "range"}])
    now = utcnow()
    queues = []
    for queue_id, read in READERS.items():
        if only is not None and queue_id != only:
            continue
        items = await read(runtime, now)
        el, en = TITLES[queue_id]
        queues.append(Queue(id=queue_id, title=LocalisedTitle(el=el, en=en), count=len(items), items=items[:limit]))
    return QueuesOut(generated_at=now, queues=queues)


__all__ = ["STUCK_AFTER", "Queue", "QueueId", "QueueItem", "QueuesOut", "work_queues"]
