"""The running engine: settings, database, plugin host and queue, started once per process
(API lifespan, worker startup, CLI command) and shared by every use case."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import AsyncIterator
from typing import Any

import structlog

from core.db.database import Database
from core.jobs.queue import Queue
from core.plugins import PluginHost, load_host
from core.settings import Settings, load_settings

log = structlog.get_logger("emporio.runtime")

_pending_events: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("pending_events", default=None)


class Runtime:
    def __init__(self, settings: Settings | None = None, host: PluginHost | None = None) -> None:
        self.settings = settings or load_settings()
        self.host = host or load_host()
        self.db = Database(self.settings)
        self.queue: Queue | None = None
        self.state: dict[str, Any] = {}

    async def start(self, *, with_queue: bool = True, migrate: bool = True) -> None:
        await self.db.start()
        if migrate:
            await self.db.migrate()
        if with_queue:
            self.queue = Queue(self.redis_url())
            await self.queue.start()

    async def stop(self) -> None:
        if self.queue is not None:
            await self.queue.stop()
        await self.db.stop()

    def redis_url(self) -> str:
        if self.settings.redis_url:
            return self.settings.redis_url
        from core.jobs.embedded_redis import ensure_embedded_redis

        return ensure_embedded_redis(self.settings.data_dir)

    @contextlib.asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[None]:
        """A write transaction whose domain events are handed to the queue once it commits.

        If the queue is down the events stay in the outbox and the sweeper sends them later.
        """
        if _pending_events.get() is not None:  # nested: the outer unit dispatches
            async with self.db.write():
                yield
            return
        events: list[str] = []
        token = _pending_events.set(events)
        try:
            async with self.db.write():
                yield
        finally:
            _pending_events.reset(token)
        if events:
            await self.dispatch(events)

    async def dispatch(self, event_ids: list[str]) -> None:
        from core.services.events import dispatch_events

        await dispatch_events(self, event_ids)


def note_event(event_id: str) -> None:
    """Called by `events.record` so the enclosing unit of work dispatches the event."""
    pending = _pending_events.get()
    if pending is not None:
        pending.append(event_id)
