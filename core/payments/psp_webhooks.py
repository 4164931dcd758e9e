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
from core.domain.ids import new_id
from core.hookspecs.payments import ProviderEvent, ProviderUnavailable
from core.jobs import outbox as events
from core.payments.payments import apply_snapshot, processor_for
from core.payments.tables import Payment, PspWebhookEvent
from core.runtime import Runtime

log = structlog.get_logger("emporio.webhooks")

RECEIVED = "psp.webhook_received"


_STORE_WEBHOOK = (
    "INSERT INTO psp_webhook_events (id, provider, event_id, event_type, psp_reference, merchant_reference, "
    "payload, normalized, received_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) "
    "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id"
)
_OUTBOX_COLUMNS = "events (id, type, occurred_at, subject_type, subject_id, payload, dispatched_at)"
# PostgreSQL: the webhook and its outbox event in one statement: one round trip, one commit.
_STORE_BOTH_PG = (
    f"WITH stored AS ({_STORE_WEBHOOK}) INSERT INTO {_OUTBOX_COLUMNS} "
    "SELECT {}, {}, {}::timestamptz, {}, stored.id, {}::jsonb, {}::timestamptz FROM stored RETURNING id"
)


async def receive(runtime: Runtime, provider: str, headers: Mapping[str, str], body: bytes) -> bool:
    """Verify (raises WebhookSignatureInvalid), store and queue; True when the event is new.

    The hot path of every PSP's webhooks (P5), so it takes the shortest safe way: the raw
    event and its outbox event are written together (one statement on PostgreSQL), the outbox
    event already marked dispatched, then queued. Should the queue be down, the outbox sweeper
    re-sends it once its grace period has passed, as it does for any event not processed.
    Call it outside a transaction: the job is queued right after the write.
    """
    processor = processor_for(runtime, provider)
    now = utcnow()
    event = processor.verify_webhook(headers, body, now)
    row_id, event_id = new_id("whk"), new_id("evt")
    webhook = (
        row_id,
        provider,
        event.event_id,
        event.event_type,
        event.psp_reference,
        event.merchant_reference,
        body.decode("utf-8", "replace"),
        msgspec.json.encode(event).decode(),
        now,
    )
    payload = msgspec.json.encode({"provider": provider, "event_type": event.event_type}).decode()
    db = runtime.db
    if db.is_postgres:
        stored = await db.fetch(_STORE_BOTH_PG, *webhook, event_id, RECEIVED, now, "psp_webhook", payload, now)
    else:
        async with db.write():
            stored = await db.fetch(_STORE_WEBHOOK, *webhook)
            if stored:
                await db.fetch(
                    f"INSERT INTO {_OUTBOX_COLUMNS} VALUES ({{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}})",
                    event_id,
                    RECEIVED,
                    now,
                    "psp_webhook",
                    row_id,
                    payload,
                    now,
                )
    if not stored:
        return False  # a redelivery: already stored and queued
    if runtime.queue is not None:
        try:
            await runtime.queue.enqueue(events.PROCESS_JOB, event_id, job_id=f"{event_id}:0")
        except Exception as exc:  # the sweeper sends it; the provider must get its 200 now
            log.warning("webhooks.enqueue_failed", error=str(exc), event=event_id)
    return True


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
