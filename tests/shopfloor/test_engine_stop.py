"""Issue 17, items 9 and 10: `make run` installs no browser (`make test` still does), and
stopping the engine — SIGTERM, or Ctrl-C in its terminal — stops everything it started, the
embedded Redis included, after the requests and jobs in flight: nothing is left behind."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.domain.jobs import JobSpec
from core.hookspecs import hookimpl
from core.jobs.worker import run_worker
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin

ROOT = Path(__file__).resolve().parents[2]
EMPORIO = Path(sys.executable).with_name("emporio")


def make_dry_run(target: str) -> str:
    done = subprocess.run(["make", "-n", "-C", str(ROOT), target], capture_output=True, text=True, check=True)
    return done.stdout


def test_make_run_installs_no_browser_and_make_test_still_does() -> None:
    assert shutil.which("make"), "make is part of the quick start"
    run = make_dry_run("run")
    assert "emporio serve --with-worker --demo" in run
    assert "chromium" not in run and "apt-get" not in run
    assert "apt-get install -y -qq chromium chromium-driver" in make_dry_run("test")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children_of(pid: int) -> set[int]:
    """Every process below `pid` (Linux /proc), while it runs."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                kids = {int(k) for k in (task / "children").read_text().split()}
            except (FileNotFoundError, ProcessLookupError):
                continue
            todo += sorted(kids - found)
            found |= kids
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@pytest.fixture
def engine(tmp_path: Path, test_env: dict[str, str]) -> Iterator[Callable[[], tuple[subprocess.Popen[bytes], str]]]:
    """Start `emporio serve --with-worker` in its own process group, on the suite's database and
    an embedded Redis of its own data dir; returns the process and its address."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        env = {k: v for k, v in test_env.items() if k != "EMPORIO_REDIS_URL"}
        env.update(EMPORIO_DATA_DIR=str(tmp_path / "var"), EMPORIO_LOG_LEVEL="info", EMPORIO_QUEUE_NAME="stop-test")
        process = subprocess.Popen(
            [str(EMPORIO), "serve", "--with-worker", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "engine.log", "wb"),  # noqa: SIM115 - closed with the process
            start_new_session=True,  # its own process group, as a terminal gives it
        )
        started.append(process)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return process, f"http://127.0.0.1:{port}"
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "engine.log").read_text()
            time.sleep(0.2)
        raise AssertionError("the engine did not start within 90 s")

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("stop", ["SIGTERM", "Ctrl-C"])
def test_stopping_the_engine_leaves_no_process_behind(
    engine: Callable[[], tuple[subprocess.Popen[bytes], str]], tmp_path: Path, stop: str
) -> None:
    process, _ = engine()
    children = children_of(process.pid)
    redis = [pid for pid in children if "redis-server" in Path(f"/proc/{pid}/cmdline").read_text()]
    assert redis, f"the embedded Redis runs below the engine: {children}"
    if stop == "SIGTERM":
        process.send_signal(signal.SIGTERM)
    else:  # the terminal sends SIGINT to its whole foreground process group
        os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=60) == 0
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in children if alive(pid)] == [], "a process the engine started outlived it"
    log = (tmp_path / "engine.log").read_text()
    assert "redis.embedded_stopped" in log and "Traceback" not in log
    assert "closed_without_redis" not in log, "Redis must outlive the worker's last job"


async def test_a_stopping_worker_lets_the_job_in_flight_finish(runtime: Runtime, api: Any) -> None:
    started, finished = asyncio.Event(), asyncio.Event()

    async def slow_job(ctx: dict[str, Any]) -> str:
        started.set()
        await asyncio.sleep(0.5)
        finished.set()
        return "done"

    class SlowJobs:
        @hookimpl
        def register_jobs(self, register: Callable[[JobSpec], None]) -> None:
            register(JobSpec(name="shopfloor.slow", function=slow_job, max_tries=1))

    with inline_plugin(runtime.host, SlowJobs(), "slow-jobs"):
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop))
        assert runtime.queue is not None
        await runtime.queue.enqueue("shopfloor.slow", job_id="shopfloor-slow-1")
        await asyncio.wait_for(started.wait(), timeout=20)
        stop.set()  # what SIGTERM does
        await asyncio.wait_for(worker, timeout=20)
        assert finished.is_set(), "the job in flight was cancelled instead of finishing"
