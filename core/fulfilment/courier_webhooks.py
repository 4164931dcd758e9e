"""Tracking pushed by couriers that support it: the courier plugin verifies and parses the
webhook, the core applies each snapshot to the shipment with that tracking number."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from core.domain.errors import DomainError, NotFound
from core.fulfilment import delivery
from core.fulfilment.tables import Shipment
from core.hookspecs.couriers import CourierRejected
from core.runtime import Runtime


class WebhookRejected(DomainError):
    status = 401
    slug = "webhook-signature"
    title = "Webhook rejected"


class CourierWebhookOut(msgspec.Struct, frozen=True, kw_only=True):
    received: int  # snapshots in the webhook
    applied: int  # of them, those about a shipment of ours


async def receive(runtime: Runtime, courier: str, headers: Mapping[str, str], body: bytes) -> CourierWebhookOut:
    registered = runtime.host.couriers.get(courier)
    if registered is None:
        raise NotFound(f"no courier {courier} is installed")
    try:
        snapshots = registered.value.parse_webhook(headers, body)
    except CourierRejected as exc:
        raise WebhookRejected(f"webhook rejected: {exc}") from exc
    numbers = sorted({s.tracking_number for s in snapshots})
    rows = await Shipment.select(Shipment.id, Shipment.tracking_number).where(
        (Shipment.courier == courier) & Shipment.tracking_number.is_in(numbers or [""])
    )
    ours = {r["tracking_number"]: r["id"] for r in rows}
    applied = 0
    for snapshot in snapshots:
        shipment_id = ours.get(snapshot.tracking_number)
        if shipment_id is not None:
            await delivery.apply_tracking(runtime, shipment_id, snapshot)
            applied += 1
    return CourierWebhookOut(received=len(snapshots), applied=applied)
