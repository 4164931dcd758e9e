"""Deliveries, at least once and never lost: a delivery row is written in the transaction that
handles the event; a worker takes it for LEASE, signs the stored body and POSTs it, then records
the attempt. 2xx: delivered. A 5xx, a timeout or a network error: tried again on RETRY_DELAYS for up
to GIVE_UP_AFTER; any other answer (a 4xx) is final. A queued job that is lost, or a worker killed
mid-send (its lease runs out), is picked up by the sweep, so the database alone says what is owed."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import httpx
import msgspec
import structlog
from standardwebhooks import Webhook

from core import __version__
from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.errors import Conflict, NotFound
from core.domain.events import DomainEvent
from core.domain.ids import new_id
from core.runtime import Runtime
from plugins.webhooks_out import clock, endpoints, health, sealing
from plugins.webhooks_out.messages import body_of
from plugins.webhooks_out.settings import timeout_s
from plugins.webhooks_out.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = structlog.get_logger("emporio.webhooks")

SEND_JOB = "webhooks_out.send"
SWEEP_JOB = "webhooks_out.sweep"
# After the 1st failed try, the 2nd comes within a minute; then about 5 min, 30 min, 2 h, 5 h and
# every 10 h, until the delivery is GIVE_UP_AFTER old.
RETRY_DELAYS = (
    timedelta(seconds=30),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
GIVE_UP_AFTER = timedelta(days=3)
LEASE = timedelta(minutes=2)  # longer than the longest receiver timeout (60 s)
STUCK = timedelta(minutes=1)  # a due delivery whose queued job this long overdue is presumed lost
EXCERPT_BYTES = 1024
BATCH = 500


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its next try (`next_attempt_at`)
    SENDING = "sending"  # a worker holds it until `lease_until`
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # a 4xx, three days of failed tries, or its endpoint was disabled


class Outcome(StrEnum):
    DELIVERED = "delivered"  # 2xx
    REJECTED = "rejected"  # 4xx (or 1xx/3xx): not tried again
    SERVER_ERROR = "server_error"  # 5xx: tried again
    TIMEOUT = "timeout"  # no answer within EMPORIO_WEBHOOK_TIMEOUT_S: tried again
    NETWORK_ERROR = "network_error"  # refused, reset, DNS…: tried again
    INTERRUPTED = "interrupted"  # the worker died mid-try (its lease ran out): tried again
    NOT_SENT = "not_sent"  # the secret could not be unsealed: tried again (restore the key)


RETRIED = frozenset({Outcome.SERVER_ERROR, Outcome.TIMEOUT, Outcome.NETWORK_ERROR, Outcome.NOT_SENT})


class AttemptOut(msgspec.Struct, frozen=True, kw_only=True):
    attempt: int
    at: datetime
    outcome: Outcome
    status_code: int | None
    latency_ms: int | None
    error: str | None
    response_excerpt: str | None  # the first KB of the receiver's answer


class DeliveryOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str  # the `webhook-id` header, the same on every try
    endpoint_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: list[AttemptOut]
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class Sent(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Outcome
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    excerpt: str | None = None


def delay_after(attempts: int) -> timedelta:
    """How long after its `attempts`-th failed try a delivery is tried again."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


def delivery_id_of(event_id: str, endpoint_id: str) -> str:
    """The `webhook-id` of one event for one endpoint: made of both ids, so deliveries sort in the
    order their events happened (workers handle events in parallel, so the order in which
    deliveries are created says nothing) and one event can never give an endpoint two."""
    return f"msg_{event_id.partition('_')[2] or event_id}{endpoint_id.partition('_')[2] or endpoint_id}"


async def create_for(event: DomainEvent) -> list[str]:
    """One pending delivery per enabled endpoint subscribed to the event's type (a second call for
    the same event adds none). Call inside the unit of work that handles the event."""
    now = clock.now()
    created = []
    body: str | None = None
    for endpoint in await endpoints.subscribed(event.type):
        body = body or body_of(event)
        rows = await WebhookDelivery.raw(
            "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, status, attempts, "
            "next_attempt_at, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, 0, {}, {}, {}) "
            "ON CONFLICT DO NOTHING RETURNING id",
            delivery_id_of(event.id, endpoint["id"]),
            endpoint["id"],
            event.id,
            event.type.value,
            body,
            DeliveryStatus.PENDING.value,
            now,
            now,
            now,
        )
        created += [r["id"] for r in rows]
    return created


async def _claim(delivery_id: str) -> dict[str, Any] | None:
    """Take the delivery for this worker when it is due, or when the worker that held it died
    (its lease ran out: that try is logged as interrupted). None when there is nothing to send."""
    now = clock.now()
    rows = await WebhookDelivery.raw(
        "UPDATE webhook_deliveries SET status = 'sending', lease_until = {}, attempts = attempts + 1, "
        "updated_at = {} WHERE id = {} AND ((status = 'pending' AND next_attempt_at <= {}) "
        "OR (status = 'sending' AND lease_until < {})) RETURNING id",
        now + LEASE,
        now,
        delivery_id,
        now,
        now,
    )
    if not rows:
        return None
    row = await WebhookDelivery.select().where(WebhookDelivery.id == delivery_id).first()
    assert row is not None
    previous = row["attempts"] - 1
    if previous >= 1 and not await WebhookAttempt.exists().where(
        (WebhookAttempt.delivery_id == delivery_id) & (WebhookAttempt.attempt == previous)
    ):
        await _log(row, previous, Sent(outcome=Outcome.INTERRUPTED, error="the worker stopped before an answer"))
    endpoint = await WebhookEndpoint.select().where(WebhookEndpoint.id == row["endpoint_id"]).first()
    if endpoint is None or endpoint["status"] != endpoints.EndpointStatus.ENABLED.value:
        await _finish(row, DeliveryStatus.FAILED, None, error="its endpoint is disabled", code=None)
        return None
    return {**row, "url": endpoint["url"], "secret_sealed": endpoint["secret_sealed"]}


async def post(url: str, delivery_id: str, body: str, secret: str) -> Sent:
    """One signed POST; never raises for what the receiver or the network did."""
    sent_at = datetime.now(UTC)  # the wall clock: receivers reject timestamps far from theirs
    headers = {
        "content-type": "application/json",
        "user-agent": f"Emporio-Webhooks/{__version__}",
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery_id, sent_at, body),
    }
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        async with (
            httpx.AsyncClient(timeout=timeout_s(), follow_redirects=False) as client,
            client.stream("POST", url, content=body.encode(), headers=headers) as response,
        ):
            excerpt = b""
            async for chunk in response.aiter_raw():
                excerpt += chunk
                if len(excerpt) >= EXCERPT_BYTES:
                    break
            code = response.status_code
    except httpx.TimeoutException as exc:
        return Sent(outcome=Outcome.TIMEOUT, latency_ms=elapsed(), error=f"no answer in {timeout_s():g} s ({exc!r})")
    except httpx.HTTPError as exc:
        return Sent(outcome=Outcome.NETWORK_ERROR, latency_ms=elapsed(), error=f"{type(exc).__name__}: {exc}"[:500])
    text = excerpt[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    if 200 <= code < 300:
        outcome = Outcome.DELIVERED
    elif code >= 500:
        outcome = Outcome.SERVER_ERROR
    else:
        outcome = Outcome.REJECTED
    return Sent(outcome=outcome, status_code=code, latency_ms=elapsed(), excerpt=text)


async def send(runtime: Runtime, delivery_id: str) -> str:
    """Try the delivery once if it is due (or its sender died). Returns its status afterwards."""
    async with runtime.unit_of_work():
        claimed = await _claim(delivery_id)
        if claimed is None:
            row = await WebhookDelivery.select(WebhookDelivery.status).where(WebhookDelivery.id == delivery_id).first()
            return str(row["status"]) if row else "gone"
    try:
        secret = sealing.unseal(claimed["secret_sealed"])
    except sealing.SealingKeyMismatch as exc:
        result = Sent(outcome=Outcome.NOT_SENT, error=str(exc))
    else:
        result = await post(claimed["url"], delivery_id, claimed["payload"], secret)
    async with runtime.unit_of_work():
        status, next_at = await _record(claimed, result)
    log.info("webhooks.attempt", delivery=delivery_id, outcome=result.outcome.value, code=result.status_code)
    if next_at is not None:
        await _enqueue(runtime, delivery_id, f"{delivery_id}:{claimed['attempts']}", next_at)
    return status.value


async def _record(claimed: dict[str, Any], result: Sent) -> tuple[DeliveryStatus, datetime | None]:
    now = clock.now()
    await _log(claimed, claimed["attempts"], result)
    if result.outcome is Outcome.DELIVERED:
        await _finish(claimed, DeliveryStatus.DELIVERED, None, error=None, code=result.status_code)
        await health.after_success(claimed["endpoint_id"])
        return DeliveryStatus.DELIVERED, None
    due = now + delay_after(claimed["attempts"])
    error = result.error or f"HTTP {result.status_code}"
    next_at: datetime | None = None
    if result.outcome in RETRIED and due <= claimed["created_at"] + GIVE_UP_AFTER:
        next_at = due
        await _finish(claimed, DeliveryStatus.PENDING, next_at, error=error, code=result.status_code)
    else:
        await _finish(claimed, DeliveryStatus.FAILED, None, error=error, code=result.status_code)
    if await health.after_failure(claimed["endpoint_id"], claimed["url"]):
        await fail_pending(claimed["endpoint_id"])
        return DeliveryStatus.FAILED, None
    return (DeliveryStatus.PENDING if next_at else DeliveryStatus.FAILED), next_at


async def _log(row: dict[str, Any], attempt: int, result: Sent) -> None:
    await WebhookAttempt.insert(
        WebhookAttempt(
            id=new_id("wha"),
            delivery_id=row["id"],
            endpoint_id=row["endpoint_id"],
            attempt=attempt,
            outcome=result.outcome.value,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error,
            response_excerpt=result.excerpt,
            at=clock.now(),
        )
    )


async def _finish(
    row: dict[str, Any], status: DeliveryStatus, next_at: datetime | None, *, error: str | None, code: int | None
) -> None:
    now = clock.now()
    await WebhookDelivery.update(
        {
            WebhookDelivery.status: status.value,
            WebhookDelivery.next_attempt_at: next_at,
            WebhookDelivery.lease_until: None,
            WebhookDelivery.last_status_code: code,
            WebhookDelivery.last_error: error,
            WebhookDelivery.delivered_at: now if status is DeliveryStatus.DELIVERED else None,
            WebhookDelivery.updated_at: now,
        }
    ).where((WebhookDelivery.id == row["id"]) & (WebhookDelivery.attempts == row["attempts"]))


async def fail_pending(endpoint_id: str) -> None:
    """A disabled endpoint's waiting deliveries end as failed (a manual retry can revive one)."""
    await WebhookDelivery.update(
        {
            WebhookDelivery.status: DeliveryStatus.FAILED.value,
            WebhookDelivery.next_attempt_at: None,
            WebhookDelivery.last_error: "its endpoint is disabled",
            WebhookDelivery.updated_at: clock.now(),
        }
    ).where((WebhookDelivery.endpoint_id == endpoint_id) & (WebhookDelivery.status == DeliveryStatus.PENDING.value))


async def _enqueue(runtime: Runtime, delivery_id: str, job_id: str, at: datetime) -> None:
    """Queue the next try; if the queue is down the sweep sends it once it is overdue."""
    if runtime.queue is None:
        return
    try:
        defer_s = max((at - clock.now()).total_seconds(), 0.0)
        await runtime.queue.enqueue(SEND_JOB, delivery_id, job_id=job_id, defer_s=defer_s or None)
    except Exception as exc:
        log.warning("webhooks.enqueue_failed", delivery=delivery_id, error=str(exc))


async def sweep(runtime: Runtime) -> list[str]:
    """Queue every delivery whose job must have been lost (due for over STUCK) or whose worker
    died (lease ran out). Returns their ids."""
    now = clock.now()
    rows = (
        await WebhookDelivery.select(WebhookDelivery.id, WebhookDelivery.attempts)
        .where(
            (
                (WebhookDelivery.status == DeliveryStatus.PENDING.value)
                & (WebhookDelivery.next_attempt_at <= now - STUCK)
            )
            | ((WebhookDelivery.status == DeliveryStatus.SENDING.value) & (WebhookDelivery.lease_until < now))
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(BATCH)
    )
    for row in rows:
        await _enqueue(runtime, row["id"], f"{row['id']}:{row['attempts']}:sweep", now)
    return [r["id"] for r in rows]


async def retry(runtime: Runtime, delivery_id: str) -> DeliveryOut:
    """Send the delivery again now, whatever became of it (failed, given up, even delivered)."""
    async with runtime.unit_of_work():
        row = await WebhookDelivery.select().where(WebhookDelivery.id == delivery_id).first()
        if row is None:
            raise NotFound(f"no webhook delivery {delivery_id}")
        endpoint = await endpoints.get(row["endpoint_id"])
        if endpoint.status is not endpoints.EndpointStatus.ENABLED:
            raise Conflict(
                f"webhook endpoint {endpoint.id} is disabled ({endpoint.disabled_reason}); "
                f"enable it first (PATCH /v1/webhook-endpoints/{endpoint.id} with status enabled) "
                "once its receiver answers again"
            )
        if row["status"] == DeliveryStatus.SENDING.value and row["lease_until"] > clock.now():
            raise Conflict(f"webhook delivery {delivery_id} is being sent right now; look at its attempts shortly")
        now = clock.now()
        await WebhookDelivery.update(
            {
                WebhookDelivery.status: DeliveryStatus.PENDING.value,
                WebhookDelivery.next_attempt_at: now,
                WebhookDelivery.lease_until: None,
                WebhookDelivery.updated_at: now,
            }
        ).where(WebhookDelivery.id == delivery_id)
    await _enqueue(runtime, delivery_id, f"{delivery_id}:{row['attempts']}:manual", now)
    return (await _outs([{**row, "status": DeliveryStatus.PENDING.value, "next_attempt_at": now}]))[0]


async def list_for(endpoint_id: str, limit: int, cursor: str | None) -> Page[DeliveryOut]:
    """The endpoint's deliveries, newest first, each with every attempt."""
    await endpoints.get(endpoint_id)
    check_limit(limit)
    before = decode_cursor(cursor)
    query = (
        WebhookDelivery.select()
        .where(WebhookDelivery.endpoint_id == endpoint_id)
        .order_by(WebhookDelivery.id, ascending=False)
        .limit(limit + 1)
    )
    if before:
        query = query.where(WebhookDelivery.id < before)
    rows = await query
    return page_of(rows, limit, "id", await _outs(rows[:limit]))


async def _outs(rows: list[dict[str, Any]]) -> list[DeliveryOut]:
    ids = [r["id"] for r in rows]
    attempts: dict[str, list[AttemptOut]] = {i: [] for i in ids}
    if ids:
        for a in await WebhookAttempt.select().where(WebhookAttempt.delivery_id.is_in(ids)).order_by(WebhookAttempt.id):
            attempts[a["delivery_id"]].append(msgspec.convert(a, AttemptOut, strict=False))
    return [
        DeliveryOut(
            id=r["id"],
            endpoint_id=r["endpoint_id"],
            event_id=r["event_id"],
            event_type=r["event_type"],
            status=DeliveryStatus(r["status"]),
            attempts=attempts[r["id"]],
            next_attempt_at=r["next_attempt_at"],
            last_status_code=r["last_status_code"],
            last_error=r["last_error"],
            created_at=r["created_at"],
            delivered_at=r["delivered_at"],
        )
        for r in rows
    ]


async def send_job(ctx: dict[str, Any], delivery_id: str) -> str:
    return await send(ctx["runtime"], delivery_id)


async def sweep_job(ctx: dict[str, Any]) -> int:
    return len(await sweep(ctx["runtime"]))
