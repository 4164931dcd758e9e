"""Inbound PSP webhooks: verified, stored raw, acknowledged, then processed by the worker.

Deduplicated by (provider, event id) with a unique index; the outbox carries "process this"
to the worker, so a Redis restart loses nothing. Processing asks the provider for the payment's
current state and merges it, which makes duplicates and out-of-order events harmless.

A signed event that cannot be read (the plugin says so, or what it returns would not fit the
table) is stored already dead-lettered, with its reason as the outcome, and answered 200: the
provider would otherwise redeliver it for days, and ops find it in `psp_webhook_events`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

import msgspec
import structlog

from core.db.database import utcnow
from core.domain.events import PspWebhookReceived, encode_payload
from core.domain.ids import new_id
from core.hookspecs.payments import AttemptStatus, ProviderEvent, ProviderUnavailable, WebhookPayloadUnreadable
from core.jobs import outbox as events
from core.payments.payments import apply_snapshot, processor_for
from core.payments.tables import Payment, PspWebhookEvent
from core.runtime import Runtime

log = structlog.get_logger("emporio.webhooks")

RECEIVED = PspWebhookReceived.event_type


_STORE_WEBHOOK = (
    "INSERT INTO psp_webhook_events (id, provider, event_id, event_type, psp_reference, merchant_reference, "
    "payload, normalized, received_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) "
    "ON CONFLICT (provider, event_id) DO NOTHING RETURNING id"
)
_STORE_DEAD = (
    "INSERT INTO psp_webhook_events (id, provider, event_id, event_type, payload, normalized, received_at, "
    "processed_at, outcome) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) "
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
    A verified event that cannot be read is stored dead-lettered instead, never queued.

    The hot path of every PSP's webhooks (P5), so it takes the shortest safe way: the raw
    event and its outbox event are written together (one statement on PostgreSQL), the outbox
    event already marked dispatched, then queued. Should the queue be down, the outbox sweeper
    re-sends it once its grace period has passed, as it does for any event not processed.
    Call it outside a transaction: the job is queued right after the write.
    """
    processor = processor_for(runtime, provider)
    now = utcnow()
    try:
        event = processor.verify_webhook(headers, body, now)
        normalized, problem = _storable(event)
    except WebhookPayloadUnreadable as exc:
        return await _dead_letter(runtime, provider, body, exc.reason, now, exc.event_id, exc.event_type)
    if problem is not None:
        return await _dead_letter(runtime, provider, body, problem, now, event.event_id, event.event_type)
    row_id, event_id = new_id("whk"), new_id("evt")
    webhook = (
        row_id,
        provider,
        event.event_id,
        event.event_type,
        event.psp_reference,
        event.merchant_reference,
        _raw_text(body),
        normalized,
        now,
    )
    payload = encode_payload(PspWebhookReceived(provider=provider, provider_event_type=event.event_type))
    subject = PspWebhookReceived.subject.value
    db = runtime.db
    if db.is_postgres:
        stored = await db.fetch(_STORE_BOTH_PG, *webhook, event_id, RECEIVED.value, now, subject, payload, now)
    else:
        async with db.write():
            stored = await db.fetch(_STORE_WEBHOOK, *webhook)
            if stored:
                await db.fetch(
                    f"INSERT INTO {_OUTBOX_COLUMNS} VALUES ({{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}})",
                    event_id,
                    RECEIVED.value,
                    now,
                    subject,
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
            log.warning("webhooks.enqueue_failed", error=str(exc), event_id=event_id)
    return True


# What the table and the outbox can hold: text without NUL (PostgreSQL refuses it), integers a
# BIGINT holds, aware times. A plugin's event is checked against this before it is stored.
_Text = Annotated[str, msgspec.Meta(min_length=1, max_length=255, pattern="^[^\\x00]*$")]
_Amount = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]


class _StorableAttempt(msgspec.Struct, frozen=True, kw_only=True):
    reference: _Text
    status: AttemptStatus
    amount: _Amount
    method: _Text | None = None
    card_brand: _Text | None = None
    funding: _Text | None = None
    issuer_bank: _Text | None = None
    decline_code: _Text | None = None


class _StorableEvent(msgspec.Struct, frozen=True, kw_only=True):
    event_id: _Text
    event_type: _Text
    psp_reference: _Text | None
    occurred_at: Annotated[datetime, msgspec.Meta(tz=True)]
    merchant_reference: _Text | None = None
    attempt: _StorableAttempt | None = None


def _storable(event: ProviderEvent) -> tuple[str, str | None]:
    """The event as JSON for the `normalized` column, and why it cannot be stored (None when it
    can). Structs do not check types when built, so a plugin may hand over an int, a NUL, a naive
    time or an amount beyond BIGINT: each would fail in the INSERT (a 500) or later in the worker."""
    try:
        normalized = msgspec.json.encode(event)
        msgspec.json.decode(normalized, type=_StorableEvent)
    except (msgspec.EncodeError, msgspec.DecodeError, TypeError, UnicodeEncodeError) as exc:
        return "", f"the {type(event).__name__} the plugin made from it does not fit: {exc}"
    return normalized.decode(), None


async def _dead_letter(
    runtime: Runtime,
    provider: str,
    body: bytes,
    reason: str,
    now: datetime,
    event_id: object,
    event_type: object,
) -> bool:
    """Store a verified event that will never be processed, with its reason; True when new.

    Deduplicated like any event: by its id when the plugin could read one, else by the body's
    hash (a provider redelivers the same bytes)."""
    if not _is_text(event_id):
        event_id = "unreadable-" + hashlib.sha256(body).hexdigest()
    if not _is_text(event_type):
        event_type = "unreadable"
    outcome = _printable(f"dead-lettered: {reason}")[:2000]
    normalized = msgspec.json.encode({"event_id": event_id, "event_type": event_type, "dead_letter": True}).decode()
    row = (new_id("whk"), provider, event_id, event_type, _raw_text(body), normalized, now, now, outcome)
    async with runtime.db.write():
        stored = await runtime.db.fetch(_STORE_DEAD, *row)
    if stored:
        log.warning("webhooks.dead_lettered", provider=provider, event_id=event_id, reason=reason)
    return bool(stored)


def _is_text(value: object) -> bool:
    """Fit for a TEXT column and for jsonb: a short string, valid Unicode, no NUL."""
    if not isinstance(value, str) or not 0 < len(value) <= 255 or "\x00" in value:
        return False
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def _raw_text(body: bytes) -> str:
    """The body as received, for the record; what PostgreSQL text refuses (NUL, invalid UTF-8)
    shown as U+FFFD."""
    return body.decode("utf-8", "replace").replace("\x00", "\ufffd")


def _printable(text: str) -> str:
    return text.encode("utf-8", "replace").decode().replace("\x00", "\ufffd")


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
            if payment["psp_reference"] is None and event.psp_reference:
                # A hosted page (a payment link) makes the provider's payment only when the
                # customer pays: its first webhook tells us which one it is.
                await Payment.update({Payment.psp_reference: event.psp_reference}).where(
                    (Payment.id == payment["id"]) & Payment.psp_reference.is_null()
                )
            status = await apply_snapshot(runtime, payment["id"], snapshot, attempt=event.attempt)
        outcome = f"applied: {status}"
    await PspWebhookEvent.update({PspWebhookEvent.processed_at: utcnow(), PspWebhookEvent.outcome: outcome}).where(
        PspWebhookEvent.id == row_id
    )
    return outcome


__all__ = ["RECEIVED", "ProviderUnavailable", "process", "receive"]
