"""The queue: arq behind a small interface. It only carries work; the database outbox is the
source of truth, so losing Redis loses nothing (the sweeper re-enqueues)."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import structlog
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix, retry_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from redis.commands.core import AsyncScript

from core.settings import QUEUE_NAME as QUEUE_NAME_SETTING
from core.settings import read

log = structlog.get_logger("emporio.queue")

QUEUE_NAME = QUEUE_NAME_SETTING.default

# arq's enqueue as one atomic step: a job whose id is queued, or whose result is kept, is not
# enqueued again (KEYS: job, result, queue; ARGV: expiry ms, serialised job, score ms, job id).
_ENQUEUE_LUA = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('PSETEX', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
return 1
"""


def queue_name() -> str:
    """EMPORIO_QUEUE_NAME separates engines (or test sessions) sharing one Redis."""
    return read(QUEUE_NAME_SETTING)


class Queue:
    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.redis_settings = RedisSettings.from_dsn(redis_url)
        self.redis_settings.conn_timeout = 2
        self.redis_settings.conn_retries = 1
        self._pool: ArqRedis | None = None
        self._script: AsyncScript | None = None
        self.name = queue_name()

    async def start(self) -> None:
        self._pool = await create_pool(self.redis_settings, default_queue_name=self.name)
        self._script = None

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = self._script = None

    @property
    def pool(self) -> ArqRedis:
        if self._pool is None:
            raise RuntimeError("the queue is not started")
        return self._pool

    async def enqueue(self, job: str, *args: Any, job_id: str | None = None, defer_s: float | None = None) -> bool:
        """Enqueue `job`; False when a job with the same id is queued or has a kept result.

        What arq's `enqueue_job` does (the same keys, serialisation and expiry, so arq's worker
        runs it), in one round trip to Redis instead of three (WATCH, EXISTS, MULTI/EXEC): every
        request that changes something pays it once, after its commit."""
        pool = self.pool
        job_id = job_id or uuid4().hex
        now_ms = timestamp_ms()
        defer_ms = round(defer_s * 1000) if defer_s else 0
        payload = serialize_job(job, args, {}, None, now_ms, serializer=pool.job_serializer)
        keys = [job_key_prefix + job_id, result_key_prefix + job_id, self.name]
        queued = await self._enqueue_script(
            keys=keys, args=[defer_ms + pool.expires_extra_ms, payload, now_ms + defer_ms, job_id]
        )
        return bool(queued)

    @property
    def _enqueue_script(self) -> AsyncScript:
        if self._script is None:
            self._script = self.pool.register_script(_ENQUEUE_LUA)
        return self._script

    async def clear(self) -> int:
        """Drop every job of this queue, queued or marked in progress (tests start each case
        from an empty queue); returns how many jobs were dropped."""
        job_ids = [raw.decode() for raw in await self.pool.zrange(self.name, 0, -1)]
        async with self.pool.pipeline(transaction=True) as pipe:
            for start in range(0, len(job_ids), 500):
                chunk = job_ids[start : start + 500]
                pipe.delete(
                    *(
                        f"{prefix}{job_id}"
                        for job_id in chunk
                        for prefix in (job_key_prefix, in_progress_key_prefix, retry_key_prefix)
                    )
                )
            pipe.delete(self.name)
            await pipe.execute()
        return len(job_ids)

    async def ping(self) -> bool:
        try:
            return bool(await self.pool.ping())
        except Exception:
            return False
