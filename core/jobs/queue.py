"""The queue: arq behind a small interface. It only carries work; the database outbox is the
source of truth, so losing Redis loses nothing (the sweeper re-enqueues)."""

from __future__ import annotations

from typing import Any

import structlog
from arq import create_pool
from arq.connections import ArqRedis, RedisSettings

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

    async def ping(self) -> bool:
        try:
            return bool(await self.pool.ping())
        except Exception:
            return False
