"""Inbound PSP webhooks: verified, stored raw, acknowledged, then processed by the worker.

Deduplicated by (provider, event id) with a unique index; the outbox carries "process this"
to the worker, so a Redis restart loses nothing. Processing asks the provider for the payment's
current state and merges it, which makes duplicates and out-of-order events harmless.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
import structlog

from core.db.database import utcnow
from core.db.tables import Payment, PspWebhookEvent
from core.domain.ids import new_id
from core.hookspecs.payments import ProviderEvent, ProviderUnavailable
from core.runtime import Runtime
from core.services import events
from core.services.payments import apply_snapshot, processor_for

log = structlog.get_logger("emporio.webhooks")

RECEIVED = "psp.webhook_received"


async def receive(runtime: Runtime, provider: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Verify (raises WebhookSignatureInvalid) and store; True when the event is new."""
    processor = processor_for(runtime, provider)
    event = processor.verify_webhook(headers, body, utcnow())
    row_id = new_id("whk")
    async with runtime.unit_of_work():
        inserted = await runtime.db.fetch(
            "INSERT INTO psp_webhook_events (id, provider, event_id, event_type, psp_reference, merchant_reference, "
            "payload, normalized, received_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) "
            "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id",
            row_id,
            provider,
            event.event_id,
            event.event_type,
            event.psp_reference,
            event.merchant_reference,
            body.decode("utf-8", "replace"),
            msgspec.json.encode(event).decode(),
            utcnow(),
        )
        if inserted:
            await events.record(
                RECEIVED,
                subject_type="psp_webhook",
                subject_id=row_id,
                payload={"provider": provider, "event_type": event.event_type},
            )
    return bool(inserted)


async def process(runtime: Runtime, row_id: str) -> str:
    rows = await PspWebhookEvent.select().where(PspWebhookEvent.id == row_id)
    if not rows:
        return "missing"
    row = rows[0]
    if row["processed_at"] is not None:
        return row["outcome"] or "processed"
    event = msgspec.json.decode(row["normalized"], type=ProviderEvent)
    payment = None
    if event.merchant_reference:
        payment = (
            await Payment.select(Payment.id, Payment.psp_reference)
            .where((Payment.id == event.merchant_reference) & (Payment.provider == row["provider"]))
            .first()
        )
    if payment is None and event.psp_reference:
        payment = (
            await Payment.select(Payment.id, Payment.psp_reference)
            .where((Payment.provider == row["provider"]) & (Payment.psp_reference == event.psp_reference))
            .first()
        )
    if payment is None:
        outcome = "ignored: no payment of ours"
    else:
        processor = processor_for(runtime, row["provider"])
        reference = event.psp_reference or payment["psp_reference"]
        snapshot = await processor.retrieve(reference) if reference else None  # ProviderUnavailable → retried
        async with runtime.unit_of_work():
            status = await apply_snapshot(runtime, payment["id"], snapshot, attempt=event.attempt)
        outcome = f"applied: {status}"
    await PspWebhookEvent.update({PspWebhookEvent.processed_at: utcnow(), PspWebhookEvent.outcome: outcome}).where(
        PspWebhookEvent.id == row_id
    )
    return outcome


__all__ = ["RECEIVED", "ProviderUnavailable", "process", "receive"]
