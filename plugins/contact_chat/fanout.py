"""Fan-out through Redis: a frame published for a session reaches every socket of that session,
on whichever API process holds it (no state in one process's memory). Agents' presence is a
Redis key with a short expiry that the workspace refreshes."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import redis.asyncio as redis

from core.jobs.embedded_redis import ensure_embedded_redis
from core.jobs.queue import queue_name
from core.settings import load_settings

PRESENCE_TTL_S = 90


def channel_of(session_id: str) -> str:
    return f"emporio:chat:{session_id}"


def redis_url() -> str:
    """The engine's Redis: the configured one, else the embedded server of the data dir."""
    settings = load_settings()
    if settings.redis_url:
        return settings.redis_url
    return ensure_embedded_redis(settings.data_dir)


@contextlib.asynccontextmanager
async def connection() -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url())
    try:
        yield client
    finally:
        await client.aclose()


async def publish(session_id: str, frame: bytes) -> int:
    async with connection() as client:
        return int(await client.publish(channel_of(session_id), frame))


def _presence_prefix() -> str:
    """Named after the deployment's queue: two engines sharing a Redis (or two test runs) never
    count each other's agents."""
    return f"{queue_name()}:presence:agent:"


async def mark_agent_online(agent_id: str) -> None:
    async with connection() as client:
        await client.set(f"{_presence_prefix()}{agent_id}", b"1", ex=PRESENCE_TTL_S)


async def agents_online() -> int:
    match = f"{_presence_prefix()}*"
    async with connection() as client:
        return len([key async for key in client.scan_iter(match=match, count=100)])
