"""The queue's own enqueue (one round trip, core/jobs/queue.py) writes what arq's does: arq reads
the job back, a queued or finished id is not enqueued twice, a deferred job waits its turn, and
`clear` leaves nothing of the queue behind."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from arq.jobs import Job, JobStatus

from core.jobs.embedded_redis import ensure_embedded_redis
from core.jobs.queue import Queue


@pytest.fixture
async def queue(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Queue]:
    own = Queue(ensure_embedded_redis(tmp_path_factory.mktemp("queue-redis")))
    own.name = "emporio:test:queue"
    await own.start()
    try:
        yield own
    finally:
        await own.pool.flushdb()
        await own.stop()


async def test_arq_reads_the_job_it_enqueued(queue: Queue) -> None:
    assert await queue.enqueue("events.process", "evt_1", "evt_2", job_id="evt_1:0")
    job = Job("evt_1:0", queue.pool, _queue_name=queue.name)
    info = await job.info()
    assert info is not None
    assert (info.function, info.args, info.kwargs) == ("events.process", ("evt_1", "evt_2"), {})
    assert info.job_try is None  # arq counts tries from the first run
    assert await job.status() is JobStatus.queued
    assert await queue.pool.pttl("arq:job:evt_1:0") > 86_000_000  # arq's day of grace


async def test_a_queued_or_finished_id_is_not_enqueued_twice(queue: Queue) -> None:
    assert await queue.enqueue("mail.send", "a", job_id="once")
    assert not await queue.enqueue("mail.send", "a", job_id="once")
    await queue.pool.delete("arq:job:once")
    await queue.pool.zrem(queue.name, "once")
    await queue.pool.set("arq:result:once", b"kept")  # finished: arq keeps its result a while
    assert not await queue.enqueue("mail.send", "a", job_id="once")
    assert await queue.pool.zcard(queue.name) == 0


async def test_a_deferred_job_is_scored_in_the_future_and_an_id_is_made_when_none_is_given(queue: Queue) -> None:
    assert await queue.enqueue("mail.send", defer_s=120)
    [(job_id, score)] = await queue.pool.zrange(queue.name, 0, -1, withscores=True)
    job = Job(job_id.decode(), queue.pool, _queue_name=queue.name)
    info = await job.info()
    assert info is not None and info.function == "mail.send"
    assert score - info.enqueue_time.timestamp() * 1000 == pytest.approx(120_000, abs=5)
    assert await job.status() is JobStatus.deferred


async def test_clear_drops_queued_and_in_progress_jobs(queue: Queue) -> None:
    for n in range(3):
        assert await queue.enqueue("events.process", f"evt_{n}", job_id=f"j{n}")
    await queue.pool.psetex("arq:in-progress:j1", 60_000, b"1")  # as a killed worker leaves it
    assert await queue.clear() == 3
    assert await queue.pool.keys("arq:*") == []
    assert await queue.pool.zcard(queue.name) == 0
