"""Real API processes for reliability tests: `emporio serve` subprocesses against the session's
test database (the environment the `test_env` fixture set up), killed when the block ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

START_TIMEOUT_S = 45.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def emporio_executable() -> str:
    candidate = Path(sys.executable).with_name("emporio")
    if not candidate.exists():
        raise RuntimeError(f"the emporio console script is not installed next to {sys.executable}")
    return str(candidate)


@dataclass
class Server:
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def rss_bytes(self) -> int:
        """Resident memory of the server process (Linux /proc)."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0


def start_server(log_dir: Path, *, name: str, extra_env: dict[str, str] | None = None) -> Server:
    port = free_port()
    env = dict(os.environ)
    env.setdefault("EMPORIO_LOG_LEVEL", "info")
    env.update(extra_env or {})
    log_path = log_dir / f"{name}-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [emporio_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill reaches uvicorn's children too
        )
    return Server(port=port, log_path=log_path, process=process, env=env)


async def wait_healthy(server: Server, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.url} exited with {server.process.returncode}:\n{server.log()[-4000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(server.url + "/health")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.url} not healthy after {timeout_s}s:\n{server.log()[-4000:]}")
            await asyncio.sleep(0.1)


def stop_server(server: Server) -> None:
    if server.process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)


@contextlib.asynccontextmanager
async def servers(log_dir: Path, count: int, *, extra_env: dict[str, str] | None = None) -> AsyncIterator[list[Server]]:
    """Start `count` API processes on free ports, wait until each answers /health, stop them all
    at the end (also when starting or the block fails)."""
    started: list[Server] = []
    try:
        for i in range(count):
            started.append(start_server(log_dir, name=f"api{i}", extra_env=extra_env))
        await asyncio.gather(*(wait_healthy(s) for s in started))
        yield started
    finally:
        for server in started:
            stop_server(server)
