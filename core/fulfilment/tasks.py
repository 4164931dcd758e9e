"""Tasks for agents: what a use case cannot settle by itself (a parcel held for a wrong address,
a COD remittance that does not match) becomes a task a person closes. Opening and closing each
record an event, so the order's and the customer's timelines show who acted and when."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from core.db.database import utcnow
from core.domain.errors import InvalidInput, NotFound
from core.domain.events import TaskClosed, TaskCreated
from core.domain.ids import new_id
from core.fulfilment.tables import Task
from core.jobs import outbox as events
from core.runtime import Runtime

LIST_LIMIT = 200


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class TaskOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: str  # contact_customer, cod_mismatch…
    status: TaskStatus
    title: str
    detail: str | None
    order_id: str | None
    shipment_id: str | None
    customer_id: str | None
    created_at: datetime
    closed_at: datetime | None


class CloseTaskIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None  # what was done, for the timeline


def _out(row: dict[str, object]) -> TaskOut:
    return msgspec.convert(row, TaskOut, strict=False)


async def open_task(
    *,
    kind: str,
    title: str,
    detail: str | None,
    shipment_id: str | None,
    order_id: str | None,
    customer_id: str | None,
    dedupe_key: str,
) -> str | None:
    """Open a task unless one with `dedupe_key` exists (the same failure reported twice opens
    one task). Call inside a unit of work. Returns the new task's id, or None.

    A task about a shipment records `task.created` for it; one about a whole order (no
    shipment) is announced by the caller's own event (`order.held` names the task)."""
    task_id = new_id("tsk")
    inserted = await Task.raw(
        "INSERT INTO tasks (id, kind, status, title, detail, order_id, shipment_id, customer_id, created_at, "
        "dedupe_key) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING RETURNING id",
        task_id,
        kind,
        TaskStatus.OPEN.value,
        title,
        detail,
        order_id,
        shipment_id,
        customer_id,
        utcnow(),
        dedupe_key,
    )
    if not inserted:
        return None
    if shipment_id is not None:
        await events.record(TaskCreated(kind=kind), order_id=order_id, customer_id=customer_id, subject_id=shipment_id)
    return task_id


async def close_tasks_of(runtime: Runtime, order_id: str, kind: str, closed_by: str, note: str) -> list[str]:
    """Close the order's open tasks of `kind` (the problem they were about was settled)."""
    rows = await Task.select(Task.id).where(
        (Task.order_id == order_id) & (Task.kind == kind) & (Task.status == TaskStatus.OPEN.value)
    )
    for row in rows:
        await close_task(runtime, row["id"], closed_by, note)
    return [row["id"] for row in rows]


async def list_tasks(status: str | None = TaskStatus.OPEN.value) -> list[TaskOut]:
    """The newest tasks first (at most LIST_LIMIT), of one status, or of any when None or empty."""
    if status and status not in {s.value for s in TaskStatus}:
        raise InvalidInput(f"unknown task status {status}; one of {', '.join(s.value for s in TaskStatus)}")
    query = Task.select().order_by(Task.id, ascending=False).limit(LIST_LIMIT)
    if status:
        query = query.where(Task.status == status)
    return [_out(row) for row in await query]


async def close_task(runtime: Runtime, task_id: str, closed_by: str, note: str | None = None) -> TaskOut:
    """Close a task and record `task.closed`. Closing a closed task changes nothing and records
    nothing (an agent's double click, a retried request)."""
    db = runtime.db
    async with runtime.unit_of_work():
        rows = await db.fetch("SELECT * FROM tasks WHERE id = {}" + db.for_update(), task_id)
        if not rows:
            raise NotFound(f"no task {task_id}")
        row = rows[0]
        if row["status"] == TaskStatus.DONE.value:
            return _out(row)
        now = utcnow()
        await Task.update({Task.status: TaskStatus.DONE.value, Task.closed_at: now}).where(Task.id == task_id)
        await events.record(
            TaskClosed(kind=row["kind"], shipment_id=row["shipment_id"], closed_by=closed_by, note=note),
            order_id=row["order_id"],
            customer_id=row["customer_id"],
            subject_id=task_id,
        )
    return _out({**row, "status": TaskStatus.DONE.value, "closed_at": now})
