"""Returns' reactions: parcels back at the sender enter the returns model, and a return
parcel handed to the courier moves its return to in transit."""

from __future__ import annotations

from core.db.database import utcnow
from core.db.tables import ReturnRequest
from core.domain.events import DomainEvent
from core.domain.returns import ReturnStatus
from core.hookspecs import hookimpl
from core.runtime import Runtime
from core.services import events, returns


@hookimpl
async def on_event(event: DomainEvent, runtime: Runtime) -> None:
    if event.type == "shipment.returned_to_sender" and event.subject_id:
        await returns.received_to_sender(runtime, event.subject_id)
    elif event.type == "shipment.shipped" and event.subject_id:
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
                await events.record(
                    "return.in_transit", order_id=row["order_id"], subject_type="return", subject_id=row["id"]
                )


__all__ = ["ReturnRequest", "on_event"]
