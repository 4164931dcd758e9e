"""The outbox: domain events recorded with the change that caused them, dispatched to the
queue after commit, processed at least once by the worker, swept when Redis lost them."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import msgspec
import structlog

from core.db.database import raw_fetch, utcnow
from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.events import DomainEvent, EventPayload, EventType, SubjectType, decode_payload, encode_payload
from core.domain.events.sentences import describe
from core.domain.ids import new_id
from core.domain.time import as_utc
from core.jobs.tables import Event, EventHandling

if TYPE_CHECKING:
    from core.hookspecs.app import EventContext
    from core.runtime import Runtime
    from core.settings import Settings

log = structlog.get_logger("emporio.events")


class DuplicateEvent(RuntimeError):
    """A use case recorded the same event twice for one subject in one unit of work: every
    `on_event` reaction (a confirmation e-mail, a capture) would run twice for one change."""


@dataclass
class UnitEvents:
    """The events recorded by the unit of work in progress."""

    events: list[DomainEvent] = field(default_factory=list)  # dispatched in this order after commit
    recorded: dict[tuple[EventType, str], str] = field(default_factory=dict)  # (type, subject id) → event id

    @property
    def ids(self) -> list[str]:
        return [event.id for event in self.events]


_pending_events: contextvars.ContextVar[UnitEvents | None] = contextvars.ContextVar("pending_events", default=None)


@contextlib.contextmanager
def collect_events() -> Iterator[UnitEvents | None]:
    """Collect the events recorded inside a unit of work, to dispatch after commit. Yields None
    when an outer unit of work is already collecting (it dispatches)."""
    if _pending_events.get() is not None:
        yield None
        return
    unit = UnitEvents()
    token = _pending_events.set(unit)
    try:
        yield unit
    finally:
        _pending_events.reset(token)


PROCESS_JOB = "events.process"


async def record(
    payload: EventPayload, *, subject_id: str, order_id: str | None = None, customer_id: str | None = None
) -> str:
    """Write a domain event to the outbox; its type and subject type come from the payload's
    class. Call inside a unit of work: it commits with the change and is dispatched after.

    Raises DuplicateEvent when the unit of work already recorded this type for this subject
    and the type is not declared `repeatable`. It raises in production too: a second event for
    one change doubles every reaction to it, and a rolled-back request is the loud way to say so
    (a test running the flow finds it first)."""
    kind = type(payload)
    stored = encode_payload(payload)  # refuses anything but a catalogue payload
    event_id = new_id("evt")
    unit = _pending_events.get()
    if unit is not None and not kind.repeatable:
        first = unit.recorded.setdefault((kind.event_type, subject_id), event_id)
        if first != event_id:
            raise DuplicateEvent(
                f"{kind.event_type} was already recorded for {kind.subject} {subject_id} in this unit of work "
                f"(event {first}): record each change once, or declare {kind.__name__} repeatable if the "
                "subject really changes twice"
            )
    now = utcnow()
    # Plain SQL rather than an ORM object: every change that matters records one or two events.
    await raw_fetch(
        Event._meta.db,
        "INSERT INTO events (id, type, occurred_at, order_id, customer_id, subject_type, subject_id, payload, "
        "dispatched_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
        event_id,
        kind.event_type.value,
        now,
        order_id,
        customer_id,
        kind.subject.value,
        subject_id,
        stored,
        # Dispatched right after the commit (no second write to say so); if that enqueue is
        # lost, the sweeper takes the event once it is `sweep`'s `older_than_s` old.
        now if unit is not None else None,
    )
    if unit is not None:
        unit.events.append(
            DomainEvent(
                id=event_id,
                type=kind.event_type,
                occurred_at=now,
                order_id=order_id,
                customer_id=customer_id,
                subject_type=kind.subject,
                subject_id=subject_id,
                data=payload,
            )
        )
    return event_id


def to_domain(row: dict[str, Any]) -> DomainEvent:
    """A stored event as readers get it, its payload validated into its type's Struct."""
    data = decode_payload(row["type"], row["payload"])  # an unknown type raises UnknownEventType
    return DomainEvent(
        id=row["id"],
        type=data.event_type,
        occurred_at=row["occurred_at"],
        order_id=row["order_id"],
        customer_id=row["customer_id"],
        subject_type=SubjectType(row["subject_type"]) if row["subject_type"] else None,
        subject_id=row["subject_id"],
        data=data,
    )


async def once(event: DomainEvent, handler: str) -> bool:
    """True the first time `handler` handles `event`; call inside the handler's transaction so
    the side effect and this mark commit together."""
    key = f"{event.id}|{handler}"
    if await EventHandling.exists().where(EventHandling.id == key):
        return False
    await EventHandling.insert(EventHandling(id=key, handled_at=utcnow()))
    return True


class OutboxEventContext:
    """The `EventContext` the worker hands to `on_event` implementations: the engine's unit of
    work, its queue and its settings, and nothing else of it."""

    __slots__ = ("_runtime",)

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    @property
    def settings(self) -> Settings:
        return self._runtime.settings

    def unit_of_work(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self._runtime.unit_of_work()

    async def enqueue(self, job: str, *args: Any, key: str) -> bool:
        if self._runtime.queue is None:  # only a worker processes events, and it has a queue
            raise RuntimeError(f"cannot enqueue {job}: this process runs without a queue")
        return await self._runtime.queue.enqueue(job, *args, job_id=key)

    async def once(self, event: DomainEvent, handler: str) -> bool:
        return await once(event, handler)


def runtime_of(context: EventContext) -> Runtime:
    """The engine behind an event context, for the core's own domains only: their reactions
    (routing a confirmed order, capturing a shipped one) are use cases that take the engine.
    Plugins get the narrow context; tests/test_event_catalogue.py fails when a module under
    plugins/ calls this."""
    if not isinstance(context, OutboxEventContext):
        raise TypeError(f"{type(context).__name__} is not the outbox's event context")
    return context._runtime


async def dispatch_events(runtime: Runtime, event_ids: list[str]) -> None:
    if runtime.queue is None:
        return
    try:
        # One job per unit of work: its events are handled in the order they were written, and
        # the request pays one Redis enqueue instead of one per event.
        await runtime.queue.enqueue(PROCESS_JOB, *event_ids, job_id=f"{event_ids[0]}:0")
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
        await runtime.host.notify(to_domain(row), OutboxEventContext(runtime))
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
    """Newest first, as the contract's timeline items (`at`, `type`, `summary` {el, en},
    `subject_id`, and the payload read through its type's Struct, as on_event sees it). A
    customer's timeline holds every event about them and about their orders — payments, parcels
    (return parcels read as such) and returns — whether or not the use case that recorded it
    named the customer."""
    where, args = [], []
    if customer_id is not None:
        where.append("(e.customer_id = {} OR e.order_id IN (SELECT o.id FROM orders o WHERE o.customer_id = {}))")
        args += [customer_id, customer_id]
    if order_id is not None:
        where.append("e.order_id = {}")
        args.append(order_id)
    if before:
        where.append("e.id < {}")
        args.append(before)
    rows: list[dict[str, Any]] = await Event.raw(
        "SELECT e.id, e.type, e.occurred_at, e.order_id, e.subject_type, e.subject_id, e.payload, "
        "s.is_return AS return_parcel FROM events e "
        "LEFT JOIN shipments s ON e.subject_type = 'shipment' AND s.id = e.subject_id"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY e.id DESC LIMIT {}",
        *args,
        limit,
    )
    for row in rows:
        payload = msgspec.to_builtins(decode_payload(row["type"], row["payload"]))
        row["at"] = row["occurred_at"] = as_utc(row["occurred_at"])
        row["payload"] = payload
        row["summary"] = describe(row["type"], payload, return_parcel=bool(row.pop("return_parcel")))
    return rows


async def timeline_page(
    *, customer_id: str | None = None, order_id: str | None = None, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    rows = await timeline(
        customer_id=customer_id, order_id=order_id, limit=check_limit(limit) + 1, before=decode_cursor(cursor)
    )
    return page_of(rows, limit, "id", rows)
