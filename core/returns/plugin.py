"""Returns' reactions: parcels back at the sender enter the returns model, and a return
parcel handed to the courier moves its return to in transit."""

from __future__ import annotations

from collections.abc import Callable

from piccolo.table import Table

from core.db.database import utcnow
from core.domain.events import DomainEvent, ReturnInTransit, ShipmentReturnedToSender, ShipmentShipped
from core.domain.returns import ReturnStatus
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.jobs import outbox as events
from core.returns import returns
from core.returns.tables import TABLES, ReturnRequest


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    runtime = events.runtime_of(context)
    if isinstance(event.data, ShipmentReturnedToSender) and event.subject_id:
        await returns.received_to_sender(runtime, event.subject_id)
    elif isinstance(event.data, ShipmentShipped) and event.subject_id:
        async with runtime.unit_of_work():
            moved = await runtime.db.fetch(
                "UPDATE returns SET status = {}, updated_at = {} WHERE shipment_id = {} AND status = {} "
                "RETURNING id, order_id",
                ReturnStatus.IN_TRANSIT.value,
                utcnow(),
                event.subject_id,
                ReturnStatus.APPROVED.value,
            )
            for row in moved:
                await events.record(ReturnInTransit(), order_id=row["order_id"], subject_id=row["id"])


__all__ = ["ReturnRequest", "on_event"]


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)
