"""Fixtures of the webhook tests: a receiver on 127.0.0.1, the plugin's clock pinned, and a queue
on a Redis of this module's own (jobs left queued here never reach another test's worker)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core.jobs.embedded_redis import ensure_embedded_redis
from core.jobs.queue import Queue
from core.runtime import Runtime
from plugins.webhooks_out import clock
from tests.feedback.support import Clock
from tests.hooks import own_queue
from tests.webhooks_out.receiver import Receiver, running_receiver


@pytest.fixture(scope="package")
def own_redis_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return ensure_embedded_redis(tmp_path_factory.mktemp("webhooks-redis"))


@pytest.fixture(autouse=True)
async def queue_of_our_own(app_client: Any, runtime: Runtime, own_redis_url: str) -> AsyncIterator[Queue]:
    async with own_queue(runtime, own_redis_url) as queue:
        yield queue


@pytest.fixture
def pinned(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """The plugin's clock at the wall clock's second, moved only by the test."""
    fixed = Clock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(clock, "now", fixed)
    yield fixed


@pytest.fixture(scope="package")
async def _receiver() -> AsyncIterator[Receiver]:
    async with running_receiver() as running:
        yield running


@pytest.fixture
def receiver(_receiver: Receiver) -> Receiver:
    _receiver.reset()
    return _receiver
