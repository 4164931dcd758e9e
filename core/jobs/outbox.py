"""The outbox: domain events recorded with the change that caused them, dispatched to the
queue after commit, processed at least once by the worker, swept when Redis lost them."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import msgspec
import structlog

from core.db.database import utcnow
from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.events import DomainEvent
from core.domain.ids import new_id
from core.jobs.tables import Event, EventHandling

if TYPE_CHECKING:
    from core.runtime import Runtime

log = structlog.get_logger("emporio.events")

_pending_events: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("pending_events", default=None)


@contextlib.contextmanager
def collect_events() -> Iterator[list[str] | None]:
    """Collect the ids of events recorded inside a unit of work, to dispatch after commit.
    Yields None when an outer unit of work is already collecting (it dispatches)."""
    if _pending_events.get() is not None:
        yield None
        return
    events: list[str] = []
    token = _pending_events.set(events)
    try:
        yield events
    finally:
        _pending_events.reset(token)


def note_event(event_id: str) -> None:
    """Called by `record` so the enclosing unit of work dispatches the event."""
    pending = _pending_events.get()
    if pending is not None:
        pending.append(event_id)


PROCESS_JOB = "events.process"


async def record(
    type: str,
    *,
    order_id: str | None = None,
    customer_id: str | None = None,
    subject_type: str | None = None,
    subject_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> str:
    """Write a domain event to the outbox. Call inside a unit of work."""
    event_id = new_id("evt")
    await Event.insert(
        Event(
            id=event_id,
            type=type,
            occurred_at=utcnow(),
            order_id=order_id,
            customer_id=customer_id,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=msgspec.json.encode(payload or {}).decode(),
        )
    )
    note_event(event_id)
    return event_id


def to_domain(row: dict[str, Any]) -> DomainEvent:
    payload = row["payload"]
    return DomainEvent(
        id=row["id"],
        type=row["type"],
        occurred_at=row["occurred_at"],
        order_id=row["order_id"],
        customer_id=row["customer_id"],
        subject_type=row["subject_type"],
        subject_id=row["subject_id"],
        payload=msgspec.json.decode(payload) if isinstance(payload, str | bytes) else payload,
    )


async def once(event: DomainEvent, handler: str) -> bool:
    """True the first time `handler` handles `event`; call inside the handler's transaction so
    the side effect and this mark commit together."""
    key = f"{event.id}|{handler}"
    if await EventHandling.exists().where(EventHandling.id == key):
        return False
    await EventHandling.insert(EventHandling(id=key, handled_at=utcnow()))
    return True


async def dispatch_events(runtime: Runtime, event_ids: list[str]) -> None:
    if runtime.queue is None:
        return
    try:
        # One job per unit of work: its events are handled in the order they were written, and
        # the request pays one Redis enqueue instead of one per event.
        await runtime.queue.enqueue(PROCESS_JOB, *event_ids, job_id=f"{event_ids[0]}:0")
        await Event.update({Event.dispatched_at: utcnow()}).where(Event.id.is_in(event_ids))
    except Exception as exc:  # the sweeper will send them; the request must not fail for it
        log.warning("events.dispatch_failed", error=str(exc), events=len(event_ids))


async def process_event(runtime: Runtime, event_id: str) -> str:
    rows = await Event.select().where(Event.id == event_id)
    if not rows:
        return "missing"
    row = rows[0]
    if row["processed_at"] is not None:
        return "already processed"
    try:
        await runtime.host.notify(to_domain(row), runtime)
    except Exception as exc:
        await Event.update({Event.attempts: Event.attempts + 1, Event.last_error: repr(exc)[:2000]}).where(
            Event.id == event_id
        )
        raise
    await Event.update({Event.processed_at: utcnow(), Event.attempts: Event.attempts + 1}).where(Event.id == event_id)
    return "processed"


async def sweep(runtime: Runtime, older_than_s: float = 15.0, limit: int = 500) -> int:
    """Re-enqueue events not processed within `older_than_s` (lost by Redis, or a dead worker)."""
    if runtime.queue is None:
        return 0
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    rows = await runtime.db.fetch(
        "SELECT id, attempts FROM events WHERE processed_at IS NULL AND attempts < {} "
        "AND (dispatched_at IS NULL OR dispatched_at < {}) ORDER BY id LIMIT {}",
        25,
        cutoff,
        limit,
    )
    for row in rows:
        # A fresh job id per sweep: arq keeps the result of a finished job under its id.
        await runtime.queue.enqueue(
            PROCESS_JOB, row["id"], job_id=f"{row['id']}:{row['attempts']}:{int(cutoff.timestamp())}"
        )
    if rows:
        await Event.update({Event.dispatched_at: utcnow()}).where(Event.id.is_in([r["id"] for r in rows]))
        log.info("events.swept", count=len(rows))
    return len(rows)


async def timeline(
    *, customer_id: str | None = None, order_id: str | None = None, limit: int = 100, before: str | None = None
) -> list[dict[str, Any]]:
    query = Event.select(
        Event.id, Event.type, Event.occurred_at, Event.order_id, Event.subject_type, Event.subject_id, Event.payload
    )
    if customer_id is not None:
        query = query.where(Event.customer_id == customer_id)
    if order_id is not None:
        query = query.where(Event.order_id == order_id)
    if before:
        query = query.where(Event.id < before)
    rows: list[dict[str, Any]] = await query.order_by(Event.id, ascending=False).limit(limit)
    for row in rows:
        if isinstance(row["payload"], str):
            row["payload"] = msgspec.json.decode(row["payload"])
    return rows


async def timeline_page(
    *, customer_id: str | None = None, order_id: str | None = None, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    rows = await timeline(
        customer_id=customer_id, order_id=order_id, limit=check_limit(limit) + 1, before=decode_cursor(cursor)
    )
    return page_of(rows, limit, "id", rows)
