"""P8: live chat, a customer's message until an agent sees it, over WebSockets through two API
processes (fan-out through Redis), against a bare WebSocket echo in the same run.

What runs: two `emporio serve` processes (A and B) and one `emporio worker`, all on one throwaway
data dir (the embedded default: SQLite + the embedded Redis the processes of a data dir share),
or on a fresh PostgreSQL database (created from EMPORIO_DATABASE_URL, dropped at the end) and
EMPORIO_REDIS_URL when those are set. The processes get a queue of their own
(EMPORIO_QUEUE_NAME=bench-p8-<random>), so they never share one with a test run. The bench
migrates the database and creates a storefront key and an agent key in-process before starting
them, opens `--clients` chat sessions (POST /v1/chat/sessions) and connects:

- each customer to A: `ws://127.0.0.1:A/v1/chat/ws?token=…`;
- one agent to B: `ws://127.0.0.1:B/v1/service/live` (Authorization: Bearer <agent key>),
  waiting for its `{"type": "ready"}` frame before any customer sends.

Each customer sends `--messages` messages one after the other; the next one leaves as soon as
the previous one's ack arrived (stored and committed on A), not when the agent saw it. So the
agent leg (commit on A → event job → worker → Redis channel → B → agent socket) is open loop:
a stall there delays the frames of every message sent meanwhile and shows in their latencies,
instead of holding back the next send and hiding behind it (coordinated omission). Measured per message:

- `customer_to_agent_ms`: send on the customer's socket → the agent's socket receives the
  `case.message_received` frame whose `message_id` is the id the ack gave that message (frames
  are recorded by message id as they arrive, so a frame before its ack is matched too);
- `customer_ack_ms`: send → ack on the customer's socket (the figure this bench had before).

The first `--warmup` messages of each client (the first one opens the case) are sent and checked
but left out of the percentiles. The baseline, `bare_echo_ms`, is the same clients × messages
against a bare `websockets` echo server in a process of its own (this file with --echo-server).

    .venv/bin/python bench/chat_roundtrip.py [--clients 4] [--messages 100] [--warmup 5]
        [--timeout 10]
    EMPORIO_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \\
        EMPORIO_REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/chat_roundtrip.py

Progress goes to stderr; stdout gets one JSON summary: p50/p95/p99 of `customer_to_agent_ms`,
`customer_ack_ms` and `bare_echo_ms`; `p99_ratio` (agent p99 / echo p99) and `target_met`
(p99_ratio ≤ 3 and nothing lost or duplicated); `lost` (acked messages the agent did not get
within `--timeout` seconds of their send), `duplicated` (message ids the agent got more than
once), `errors` (messages never acked), the database, and the load average before and after.
If B has no agent socket, the customer side alone is measured and `agent_error` says why.
Every process started is stopped (SIGTERM to its process group, SIGKILL after 20 s) and the
temporary directory removed, whatever happens; the exit status is 1 when the run failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from inbound_mail import drop_database, fresh_database  # noqa: E402 - after the path tweak, for `python bench/…`

EMPORIO = Path(sys.executable).parent / "emporio"
TARGET_RATIO = 3.0
STOP_TIMEOUT_S = 20.0
HEADERS_KW = "additional_headers" if int(version("websockets").split(".")[0]) >= 14 else "extra_headers"


def say(message: str) -> None:
    print(f"[p8] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def figures(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    return {
        "n": len(values),
        "p50": round(percentile(values, 0.50), 3),
        "p95": round(percentile(values, 0.95), 3),
        "p99": round(percentile(values, 0.99), 3),
        "max": round(max(values), 3),
    }


# ---------------------------------------------------------------------------------------------
# Processes


@dataclass
class Proc:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


def tail(log: Path, chars: int = 3000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except FileNotFoundError:
        return ""


def start(name: str, command: list[str], env: dict[str, str], logs: Path) -> Proc:
    log = logs / f"{name}.log"
    with log.open("ab") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True
        )
    say(f"started {name} (pid {process.pid}): {' '.join(command[1:])}")
    return Proc(name, process, log)


def stop(procs: list[Proc]) -> None:
    """SIGTERM to every process group, then SIGKILL to those still running after the timeout."""
    for proc in procs:
        if proc.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for proc in procs:
        try:
            proc.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{proc.name} did not stop within {STOP_TIMEOUT_S:.0f} s; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.process.pid, signal.SIGKILL)
            proc.process.wait()


def stop_leftover_redis(data_dir: Path) -> None:
    """The embedded Redis runs in a session of its own and is stopped by the process that started
    it; if that one was killed, stop the server here so nothing outlives the bench."""
    import redis

    sock = data_dir / "redis.sock"
    if not sock.exists():
        return
    client = redis.Redis(unix_socket_path=str(sock), socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        return
    say("the embedded Redis outlived its process; shutting it down")
    with contextlib.suppress(redis.RedisError):
        client.shutdown(nosave=True)


async def wait_ready(port: int, proc: Proc, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if proc.process.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with {proc.process.returncode}:\n{tail(proc.log)}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"http://127.0.0.1:{port}/ready")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{proc.name} was not ready within {within:.0f} s:\n{tail(proc.log)}")


# ---------------------------------------------------------------------------------------------
# Database


async def fresh_p8_database(base: str) -> str:
    url = await fresh_database(base, "bench_p8")
    if url is None:
        raise RuntimeError(f"PostgreSQL does not answer at {base}")
    return url


async def prepare(env: dict[str, str]) -> tuple[str, str]:
    """Migrate the database and create the keys in-process, before any server starts (so three
    processes never migrate a fresh database at once); returns (storefront key, agent key)."""
    from core.access import apikeys
    from core.logging import configure_logging
    from core.runtime import Runtime
    from core.settings import load_settings

    configure_logging("warning")
    runtime = Runtime(load_settings(env))
    await runtime.start(with_queue=False)
    try:
        async with runtime.db.write():
            storefront = (await apikeys.create_key("bench-p8-storefront", ["storefront"])).key
            agent = (await apikeys.create_key("bench-p8-agent", ["agent"])).key
    finally:
        await runtime.stop()
    return storefront, agent


# ---------------------------------------------------------------------------------------------
# Load


@dataclass
class Sent:
    client: int
    n: int
    at: float
    ack_at: float | None = None
    message_id: str | None = None


@dataclass
class AgentLog:
    """What the agent's socket received: the arrival times of each message id."""

    seen: dict[str, list[float]] = field(default_factory=dict)
    other: dict[str, int] = field(default_factory=dict)
    frames: int = 0


async def customer(url: str, client: int, messages: int, ack_within: float) -> list[Sent]:
    """Send `messages` messages, each after the previous one's ack (see the module docstring)."""
    sent: list[Sent] = []
    async with websockets.connect(url, max_size=None) as ws:
        for n in range(messages):
            client_id = f"b{client}-{n}"
            record = Sent(client, n, time.perf_counter())
            sent.append(record)
            await ws.send(
                json.dumps({"type": "message", "body": f"Μήνυμα {n} του πελάτη {client}", "client_id": client_id})
            )
            deadline = record.at + ack_within
            while True:
                try:
                    raw = await asyncio.wait_for(ws.recv(), max(0.0, deadline - time.perf_counter()))
                except TimeoutError:
                    say(f"client {client}: no ack for message {n} within {ack_within:.0f} s")
                    break
                frame = json.loads(raw)
                if frame.get("type") == "ack" and frame.get("client_id") == client_id:
                    record.ack_at = time.perf_counter()
                    record.message_id = str(frame["id"])
                    break
                if frame.get("type") == "error":
                    say(f"client {client}: message {n} refused: {frame.get('detail')}")
                    break
    return sent


async def agent_reader(ws: Any, log: AgentLog) -> None:
    async for raw in ws:
        now = time.perf_counter()
        log.frames += 1
        frame = json.loads(raw)
        kind = str(frame.get("type"))
        message_id = frame.get("message_id")
        if kind == "case.message_received" and message_id:
            log.seen.setdefault(str(message_id), []).append(now)
        else:
            log.other[kind] = log.other.get(kind, 0) + 1


async def open_sessions(port: int, key: str, clients: int) -> list[str]:
    tokens = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        for c in range(clients):
            opened = await http.post(
                "/v1/chat/sessions",
                json={"customer": {"email": f"p8.bench{c}@example.gr", "name": f"Πελάτης {c}"}},
                headers={"Authorization": f"Bearer {key}"},
            )
            opened.raise_for_status()
            tokens.append(str(opened.json()["token"]))
    return tokens


async def connect_agent(port: int, key: str, stack: contextlib.AsyncExitStack) -> Any:
    """The agent's socket on B, once its `ready` frame arrived."""
    headers: dict[str, Any] = {HEADERS_KW: {"Authorization": f"Bearer {key}"}}
    url = f"ws://127.0.0.1:{port}/v1/service/live"
    agent = await stack.enter_async_context(websockets.connect(url, max_size=None, **headers))
    ready_by = time.perf_counter() + 15
    while True:
        frame = json.loads(await asyncio.wait_for(agent.recv(), max(0.0, ready_by - time.perf_counter())))
        if frame.get("type") == "ready":
            return agent


async def live_chat(port_a: int, port_b: int, keys: tuple[str, str], args: argparse.Namespace) -> dict[str, Any]:
    storefront, agent_key = keys
    tokens = await open_sessions(port_a, storefront, args.clients)
    say(f"{len(tokens)} chat sessions open on A; connecting the agent to B")
    log = AgentLog()
    agent_error: str | None = None
    async with contextlib.AsyncExitStack() as stack:
        try:
            agent = await connect_agent(port_b, agent_key, stack)
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            agent_error = f"no agent socket at /v1/service/live: {type(exc).__name__}: {exc}"
            say(f"{agent_error}; measuring the customer side only")
            agent = None
        reader = asyncio.create_task(agent_reader(agent, log)) if agent is not None else None
        say("customers sending")
        started = time.perf_counter()
        runs = await asyncio.gather(
            *(
                customer(f"ws://127.0.0.1:{port_a}/v1/chat/ws?token={token}", c, args.messages, args.timeout)
                for c, token in enumerate(tokens)
            )
        )
        sent = [s for run in runs for s in run]
        acked = [s for s in sent if s.message_id is not None]
        say(f"{len(acked)}/{len(sent)} acked in {time.perf_counter() - started:.1f} s")
        if reader is not None:
            wait_until = max((s.at for s in acked), default=0.0) + args.timeout
            while time.perf_counter() < wait_until and not reader.done():
                if all(s.message_id in log.seen for s in acked):
                    break
                await asyncio.sleep(0.05)
            if reader.done():
                failure = reader.exception()
                agent_error = f"the agent socket ended early: {failure!r}"
                say(agent_error)
            else:
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader

    ours = {s.message_id for s in acked if s.message_id is not None}
    to_agent: list[float] = []
    ack: list[float] = []
    lost: list[str] = []
    for s in acked:
        assert s.message_id is not None and s.ack_at is not None
        times = log.seen.get(s.message_id)
        if not times or times[0] - s.at > args.timeout:
            lost.append(s.message_id)
            continue
        if s.n >= args.warmup:
            to_agent.append((times[0] - s.at) * 1000)
            ack.append((s.ack_at - s.at) * 1000)
    duplicated = sorted(m for m in ours if len(log.seen.get(m, [])) > 1)
    if reader is None:  # nothing to match: the agent leg was not measured
        to_agent, lost, duplicated = [], [], []
        ack = [(s.ack_at - s.at) * 1000 for s in acked if s.ack_at is not None and s.n >= args.warmup]
    return {
        "agent_error": agent_error,
        "sent": len(sent),
        "acked": len(acked),
        "errors": len(sent) - len(acked),
        "lost": len(lost) if reader is not None else None,
        "lost_ids": lost[:10],
        "duplicated": len(duplicated) if reader is not None else None,
        "duplicated_ids": duplicated[:10],
        "agent_frames": log.frames,
        "agent_other_frames": log.other,
        "foreign_message_ids": len(set(log.seen) - ours),
        "customer_to_agent": to_agent,
        "customer_ack": ack,
    }


# ---------------------------------------------------------------------------------------------
# Baseline: a bare echo in its own process


def echo_server(port: int) -> None:
    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async def serve() -> None:
        async with websockets.serve(echo, "127.0.0.1", port, max_size=None):
            await asyncio.Future()

    with contextlib.suppress(KeyboardInterrupt):
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        asyncio.run(serve())


async def echo_client(url: str, client: int, messages: int) -> list[Sent]:
    sent: list[Sent] = []
    async with websockets.connect(url, max_size=None) as ws:
        for n in range(messages):
            record = Sent(client, n, time.perf_counter())
            await ws.send(
                json.dumps(
                    {"type": "message", "body": f"Μήνυμα {n} του πελάτη {client}", "client_id": f"b{client}-{n}"}
                )
            )
            await ws.recv()
            record.ack_at = time.perf_counter()
            sent.append(record)
    return sent


async def echo_baseline(port: int, proc: Proc, args: argparse.Namespace) -> list[float]:
    deadline = time.monotonic() + 20
    while True:
        if proc.process.poll() is not None:
            raise RuntimeError(f"the echo server exited:\n{tail(proc.log)}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)
    runs = await asyncio.gather(*(echo_client(f"ws://127.0.0.1:{port}", c, args.messages) for c in range(args.clients)))
    return [(s.ack_at - s.at) * 1000 for run in runs for s in run if s.ack_at is not None and s.n >= args.warmup]


# ---------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, tmp: Path, procs: list[Proc]) -> dict[str, Any]:
    logs = tmp / "logs"
    logs.mkdir()
    summary: dict[str, Any] = {"load_average_before": os.getloadavg()}

    echo_port = free_port()
    echo = start("echo", [sys.executable, __file__, "--echo-server", str(echo_port)], dict(os.environ), logs)
    procs.append(echo)
    say("bare echo baseline")
    bare = await echo_baseline(echo_port, echo, args)
    stop([echo])

    env = {k: v for k, v in os.environ.items() if k != "EMPORIO_QUEUE_NAME"}
    env |= {
        "EMPORIO_DATA_DIR": str(tmp / "data"),
        "EMPORIO_QUEUE_NAME": f"bench-p8-{secrets.token_hex(4)}",
        "EMPORIO_DISPATCH_TIMES": "",
        "EMPORIO_LOG_LEVEL": os.environ.get("EMPORIO_LOG_LEVEL", "warning"),
    }
    keys = await prepare(env)
    say(
        f"database migrated, keys created; starting the worker and API processes A and B, "
        f"queue {env['EMPORIO_QUEUE_NAME']}"
    )
    port_a, port_b = free_port(), free_port()
    worker = start("worker", [str(EMPORIO), "worker"], env, logs)
    procs.append(worker)
    api_a = start("api-a", [str(EMPORIO), "serve", "--port", str(port_a)], env, logs)
    procs.append(api_a)
    api_b = start("api-b", [str(EMPORIO), "serve", "--port", str(port_b)], env, logs)
    procs.append(api_b)
    await asyncio.gather(wait_ready(port_a, api_a), wait_ready(port_b, api_b))
    if worker.process.poll() is not None:
        raise RuntimeError(f"the worker exited with {worker.process.returncode}:\n{tail(worker.log)}")
    say("A and B ready")

    live = await live_chat(port_a, port_b, keys, args)
    if worker.process.poll() is not None:
        say(f"the worker exited during the run:\n{tail(worker.log)}")
    to_agent, ack = live.pop("customer_to_agent"), live.pop("customer_ack")
    agent_p99 = percentile(to_agent, 0.99) if to_agent else None
    bare_p99 = percentile(bare, 0.99)
    ratio = agent_p99 / bare_p99 if agent_p99 is not None and bare_p99 > 0 else None
    summary |= {
        "customer_to_agent_ms": figures(to_agent),
        "customer_ack_ms": figures(ack),
        "bare_echo_ms": figures(bare),
        "p99_ratio": round(ratio, 2) if ratio is not None else None,
        "target": f"p99_ratio ≤ {TARGET_RATIO:g}, nothing lost or duplicated",
        "target_met": ratio is not None and ratio <= TARGET_RATIO and live["lost"] == 0 and live["duplicated"] == 0,
        **live,
    }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100, help="messages per client (default 100)")
    parser.add_argument("--clients", type=int, default=4, help="customers, one chat session each (default 4)")
    parser.add_argument("--warmup", type=int, default=5, help="first messages per client left out of the figures")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds an acked message may take to reach the agent"
    )
    parser.add_argument("--echo-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_server:
        echo_server(args.echo_server)
        return

    base_url = os.environ.get("EMPORIO_DATABASE_URL", "")
    postgres = base_url.startswith(("postgres://", "postgresql://"))
    summary: dict[str, Any] = {
        "benchmark": "P8 live chat: customer → agent over WebSockets via two API processes",
        "database": "postgresql" if postgres else "sqlite",
        "redis": "external" if os.environ.get("EMPORIO_REDIS_URL") else "embedded",
        "clients": args.clients,
        "messages_per_client": args.messages,
        "warmup_per_client": args.warmup,
    }
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stopped: still clean up (below)
    procs: list[Proc] = []
    db_url: str | None = None
    failed = False
    with tempfile.TemporaryDirectory(prefix="bench-p8-") as tmp_name:
        tmp = Path(tmp_name)
        saved = os.environ.get("EMPORIO_DATABASE_URL")
        try:
            if postgres:
                db_url = asyncio.run(fresh_p8_database(base_url))
                os.environ["EMPORIO_DATABASE_URL"] = db_url
                say(f"fresh database {urlparse(db_url).path[1:]}")
            summary |= asyncio.run(run(args, tmp, procs))
        except Exception as exc:
            failed = True
            summary["error"] = f"{type(exc).__name__}: {exc}"
            say(f"failed: {summary['error']}")
            for proc in procs:
                if proc.name != "echo":
                    say(f"--- {proc.name} log (tail) ---\n{tail(proc.log, 1500)}")
        finally:
            stop(procs)
            stop_leftover_redis(tmp / "data")
            if saved is not None:
                os.environ["EMPORIO_DATABASE_URL"] = saved
            if db_url is not None:
                try:
                    asyncio.run(drop_database(base_url, db_url))
                except Exception as exc:  # reported, not hidden: a database may be left behind
                    say(f"could not drop {db_url}: {exc!r}")
    summary["load_average"] = os.getloadavg()
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    if failed or not summary.get("customer_to_agent_ms", {}).get("n"):
        sys.exit(1)


if __name__ == "__main__":
    main()
