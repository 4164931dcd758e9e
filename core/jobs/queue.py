"""The queue: arq behind a small interface. It only carries work; the database outbox is the
source of truth, so losing Redis loses nothing (the sweeper re-enqueues)."""

from __future__ import annotations

from typing import Any

import structlog
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings
from arq.constants import in_progress_key_prefix, job_key_prefix, retry_key_prefix

from core.settings import QUEUE_NAME as QUEUE_NAME_SETTING
from core.settings import read

log = structlog.get_logger("emporio.queue")

QUEUE_NAME = QUEUE_NAME_SETTING.default


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
        self.name = queue_name()

    async def start(self) -> None:
        self._pool = await create_pool(self.redis_settings, default_queue_name=self.name)

    async def stop(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

    @property
    def pool(self) -> ArqRedis:
        if self._pool is None:
            raise RuntimeError("the queue is not started")
        return self._pool

    async def enqueue(self, job: str, *args: Any, job_id: str | None = None, defer_s: float | None = None) -> bool:
        """Enqueue `job`; False when a job with the same id is already queued (arq dedupes)."""
        queued = await self.pool.enqueue_job(job, *args, _job_id=job_id, _defer_by=defer_s, _queue_name=self.name)
        return queued is not None

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
