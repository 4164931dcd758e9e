"""Tests of the hook contract: the meta-tests over every hookspec, and one test per hook that
registers an inline plugin and shows the host calling it as the hookspec's docstring says."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from core.jobs.queue import Queue
from core.runtime import Runtime


@contextlib.asynccontextmanager
async def own_queue(runtime: Runtime, redis_url: str) -> AsyncIterator[Queue]:
    """Point the runtime at a queue on a Redis of this test session's own.

    The PostgreSQL runs share one Redis database between every test session on the machine, and
    arq workers of one session would take (and lose) the jobs of another; tests that run a worker,
    or flush Redis, use this so they neither suffer nor cause that."""
    shared = runtime.queue
    queue = Queue(redis_url)
    await queue.start()
    runtime.queue = queue
    try:
        yield queue
    finally:
        runtime.queue = shared
        await queue.stop()
