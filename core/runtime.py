"""The running engine: settings, database, plugin host and queue, started once per process
(API lifespan, worker startup, CLI command) and shared by every use case."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import structlog

from core.db.database import Database
from core.jobs.outbox import collect_events, dispatch_events
from core.jobs.queue import Queue
from core.plugins import PluginHost, load_host
from core.service import live
from core.settings import Settings, load_settings

log = structlog.get_logger("emporio.runtime")


class Runtime:
    def __init__(self, settings: Settings | None = None, host: PluginHost | None = None) -> None:
        self.settings = settings or load_settings()
        self.host = host or load_host()
        self.db = Database(
            self.settings,
            [r.value for r in self.host.tables.values()],
            [(r.plugin, r.value) for r in self.host.migrations.values()],
        )
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

        If the queue is down the events stay in the outbox and the sweeper sends them later. Case
        events are also announced to the agents' live sockets right after the commit, by this
        process (core/service/live.py), before any worker handles them.
        """
        with collect_events() as unit:
            if unit is None:  # nested: the outer unit dispatches
                async with self.db.write():
                    yield
                return
            async with self.db.write():
                yield
        if unit.events:
            await self.dispatch(unit.ids)
            if self.queue is not None:  # agents' open workspaces hear of case changes at once
                await live.announce(self.queue.pool, unit.events)

    async def dispatch(self, event_ids: list[str]) -> None:
        await dispatch_events(self, event_ids)
