"""Click and collect at the counter: the customer shows the code they were given (the store
pickup code, or the parcel's tracking number) and staff record the collection with it."""

from __future__ import annotations

import hmac
from typing import Annotated

import msgspec
import structlog

from core.domain.errors import Conflict, InvalidInput
from core.domain.fulfilment import ShipmentOut
from core.fulfilment import delivery, shipments
from core.runtime import Runtime

log = structlog.get_logger("emporio.collection")


class CollectIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]  # as the customer shows it


def _normal(code: str) -> bytes:
    return code.strip().upper().encode("utf-8")


async def collect(runtime: Runtime, shipment_id: str, code: str) -> ShipmentOut:
    """Hand the parcel over: only with the shipment's own code, compared in constant time so
    the answer's timing tells nothing about how much of a guess was right."""
    row = await shipments.shipment_row(runtime, shipment_id)
    expected = row["tracking_number"]
    if not expected:
        raise Conflict(f"shipment {shipment_id} has no pickup code yet ({row['status']}); pack it first")
    if not hmac.compare_digest(_normal(code), _normal(expected)):
        log.warning("collection.code_mismatch", shipment=shipment_id)  # never the codes themselves
        raise InvalidInput(
            f"the code does not match shipment {shipment_id}; ask the customer for the code of this parcel",
            errors=[{"field": "code", "message": "does not match the shipment's code"}],
        )
    await delivery.mark_collected(runtime, shipment_id)
    return await shipments.get_shipment(runtime, shipment_id)
