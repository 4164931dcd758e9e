"""Live updates for agents: every case event is published, right after the commit that recorded it
and by the process that committed it (`Runtime.unit_of_work`), on one Redis channel of the
deployment; each agent's WebSocket (`GET /v1/service/live`, on whichever API process holds it)
forwards the frames. Nothing is kept in a process's memory, and a frame is a nudge, not the
record: a client that was away reads the cases again (the inbox does on every reconnect), so a
frame lost with Redis costs a moment's staleness, never data."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

import msgspec
import redis.asyncio as redis
import structlog

from core.domain.events import DomainEvent, SubjectType
from core.domain.events.service import CaseMessageReceived, CaseReplied
from core.jobs.queue import queue_name

log = structlog.get_logger("emporio.service.live")


class LiveFrame(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One case event as an agent's socket sends it: `type` is the event type (`case.created`,
    `case.message_received`, `case.assigned`…); a message event names the message and its channel."""

    type: str
    case_id: str
    number: int
    event_id: str
    at: datetime
    message_id: str | None = None
    channel: str | None = None


class Ready(msgspec.Struct, frozen=True, kw_only=True, tag="ready", tag_field="type"):
    """The socket's first frame: subscribed, so nothing published from now on is missed."""


def channel() -> str:
    """The deployment's channel (named after its queue, so two engines sharing a Redis — or two
    test runs — never hear each other)."""
    return f"{queue_name()}:service-live"


def frame_of(event: DomainEvent) -> LiveFrame | None:
    """The frame of a case event, or None for any other event."""
    if event.subject_type is not SubjectType.CASE or not event.subject_id:
        return None
    data = event.data
    message_id = channel_name = None
    if isinstance(data, CaseMessageReceived | CaseReplied):
        message_id, channel_name = data.message_id, data.channel
    return LiveFrame(
        type=event.type.value,
        case_id=event.subject_id,
        number=int(getattr(data, "number", 0)),
        event_id=event.id,
        at=event.occurred_at,
        message_id=message_id,
        channel=channel_name,
    )


async def announce(client: redis.Redis, events: list[DomainEvent]) -> int:
    """Publish the frames of the case events among `events` (a committed unit of work's, in
    order); how many. Redis away costs the nudges, never the request: it is logged, and the
    agents' inboxes read again on reconnect and poll while their socket is down."""
    frames = [msgspec.json.encode(frame) for frame in map(frame_of, events) if frame is not None]
    if not frames:
        return 0
    try:
        async with client.pipeline(transaction=False) as pipe:
            for frame in frames:
                pipe.publish(channel(), frame)
            await pipe.execute()
    except (redis.RedisError, OSError) as exc:
        log.warning("service.live_publish_failed", frames=len(frames), error=repr(exc))
        return 0
    return len(frames)


@contextlib.asynccontextmanager
async def subscription(redis_url: str) -> AsyncIterator[AsyncIterator[bytes]]:
    """Subscribe to the channel (done when this enters) and yield the frames as they come."""
    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(channel())

        async def frames() -> AsyncIterator[bytes]:
            async for message in pubsub.listen():
                if message.get("type") == "message" and isinstance(message.get("data"), bytes):
                    yield message["data"]

        yield frames()
    finally:
        with contextlib.suppress(Exception):
            await pubsub.aclose()
        await client.aclose()


__all__ = ["LiveFrame", "Ready", "announce", "channel", "frame_of", "subscription"]
