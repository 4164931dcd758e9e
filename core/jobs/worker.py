"""The arq worker: every registered job, cron schedules, and the runtime in the job context."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from arq import Retry
from arq.cron import cron
from arq.worker import Function, Worker, func
from redis.exceptions import ConnectionError as RedisConnectionError

from core.domain.jobs import JobSpec
from core.runtime import Runtime

log = structlog.get_logger("emporio.worker")


def _with_backoff(spec: JobSpec) -> Any:
    """Wrap a job so a failure is retried by arq with exponential backoff (2, 4, 8 … ≤ 300 s)."""

    async def run(ctx: dict[str, Any], *args: Any) -> Any:
        try:
            return await spec.function(ctx, *args)
        except Retry:
            raise
        except Exception as exc:
            tries = int(ctx.get("job_try", 1))
            if tries >= spec.max_tries:
                log.error("job.dead_lettered", job=spec.name, args=args, tries=tries, error=repr(exc))
                raise
            log.warning("job.retry", job=spec.name, tries=tries, error=repr(exc))
            raise Retry(defer=min(2**tries, 300)) from exc

    run.__name__ = spec.name
    return run


# How many due jobs one poll looks at. A worker killed mid-job leaves its jobs queued under an
# "in progress" mark that lives as long as the longest job may run (kpis.build_rollups: 50 min);
# arq skips such jobs, but only within the ids one poll reads (100 by default). A few killed
# workers (20 jobs each) at the head of the queue would stall every worker until the marks
# expire; reading further lets the live work behind them run at once.
QUEUE_READ_LIMIT = 2000


def build_worker(runtime: Runtime, *, burst: bool = False) -> Worker:
    assert runtime.queue is not None
    functions: list[Function] = []
    cron_jobs = []
    for registered in runtime.host.jobs.values():
        spec: JobSpec = registered.value
        if spec.cron is not None:
            cron_jobs.append(
                cron(
                    _with_backoff(spec),
                    name=spec.name,
                    minute=set(spec.cron.minute) or None,
                    hour=set(spec.cron.hour) or None,
                    second=set(spec.cron.second) if isinstance(spec.cron.second, tuple) else spec.cron.second,
                    run_at_startup=False,
                    unique=True,
                    timeout=spec.timeout_s,
                    max_tries=spec.max_tries,
                )
            )
        else:
            functions.append(
                func(_with_backoff(spec), name=spec.name, timeout=spec.timeout_s, max_tries=spec.max_tries)
            )

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["runtime"] = runtime

    return Worker(
        functions=functions,
        cron_jobs=cron_jobs,
        redis_pool=runtime.queue.pool,
        queue_name=runtime.queue.name,
        on_startup=on_startup,
        burst=burst,
        handle_signals=False,
        max_jobs=20,
        poll_delay=0.1,
        keep_result=60,
        queue_read_limit=QUEUE_READ_LIMIT,
    )


# How long a stopping worker lets the jobs in flight finish before it cancels them (a cancelled
# job stays queued, its event in the outbox: it runs again). Under systemd's 90 s stop timeout.
DRAIN_S = 30.0


async def _drain(worker: Worker, within_s: float) -> int:
    """Take no new job and wait (up to `within_s`) for the running ones; returns those left."""
    worker.allow_pick_jobs = False
    await asyncio.sleep(worker.poll_delay_s)  # a poll already under way may still start a job
    running = [t for t in worker.tasks.values() if not t.done()]
    if running:
        _, left = await asyncio.wait(running, timeout=within_s)
        if left:
            log.warning("worker.drain_timed_out", jobs_cancelled=len(left), waited_s=within_s)
        return len(left)
    return 0


async def run_worker(runtime: Runtime, stop: asyncio.Event | None = None, *, drain_s: float = DRAIN_S) -> None:
    """Run the worker until `stop` is set (or forever); then let the jobs in flight finish."""
    worker = build_worker(runtime)
    task = asyncio.create_task(worker.async_run())
    log.info("worker.started", jobs=sorted(runtime.host.jobs))
    try:
        if stop is None:
            await task
        else:
            await stop.wait()
    finally:
        if not task.done():
            await _drain(worker, drain_s)
        try:
            await worker.close()
        except asyncio.CancelledError:
            # arq's close() cancels the jobs in flight and re-raises a cancellation that hits one
            # while it is still fetching its job. Such a job stays queued (and its event stays in
            # the outbox), so stopping mid-job is not an error, unless this task is itself cancelled.
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
        except RedisConnectionError as exc:
            # Ctrl-C (or `timeout`) signals the whole process group, so an embedded Redis may be
            # gone before the worker closes. Nothing is lost: unfinished events stay in the outbox.
            log.warning("worker.closed_without_redis", error=str(exc))
        task.cancel()
