"""P5: verified PSP webhooks per second (verify + store + enqueue, with dedupe), target ≥ 1,000/s.

Runs the real server (`emporio serve`, Stripe configured against a Stripe simulator) on
PostgreSQL + Redis in a fresh bench database, fires signed Stripe events at
POST /v1/webhooks/psp/stripe from N concurrent keep-alive connections (~10 % redeliveries of
events already sent), then does the same against a baseline in the same run: a bare Litestar
handler doing the HMAC check, one INSERT … ON CONFLICT DO NOTHING with raw asyncpg and one
Redis LPUSH. Prints a JSON summary (events/s for both, their ratio, p50/p99 latency) and checks
that each distinct event was stored and queued exactly once.

    python bench/p5_webhook_intake.py [--seconds 15 --senders 32]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--redis-url redis://127.0.0.1:6379/9]

The bench database is created and dropped; the Redis entries it made are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import msgspec
import redis.asyncio as aioredis
from litestar import Litestar, Request, Response, post

ROOT = Path(__file__).resolve().parent.parent
RATIO_MIN = 0.7  # quality.md, P5: the engine against the bare handler in the same run
sys.path.insert(0, str(ROOT))

SECRET = "whsec_p5_bench"
API_KEY = "sk_test_p5_bench"
PATH = "/v1/webhooks/psp/stripe"
TOLERANCE_S = 300
BASELINE_TABLE = "p5_baseline_webhooks"
BASELINE_QUEUE = "p5:baseline:queue"
DUPLICATE_SHARE = 0.10


# ---------------------------------------------------------------------------------------------
# The baseline: the least a verified, deduplicated, queued intake can do
# ---------------------------------------------------------------------------------------------


def baseline_app(dsn: str, redis_url: str) -> Litestar:
    state: dict[str, Any] = {}

    async def startup() -> None:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=2, max_size=20)
        state["redis"] = aioredis.Redis.from_url(redis_url)

    async def shutdown() -> None:
        await state["pool"].close()
        await state["redis"].aclose()

    @post(PATH, status_code=200)
    async def webhook(request: Request[Any, Any, Any]) -> Response[Any]:
        body = await request.body()
        header = request.headers.get("stripe-signature", "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        timestamp, signature = parts.get("t", ""), parts.get("v1", "")
        expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not timestamp.isdigit() or not hmac.compare_digest(expected, signature):
            return Response({"detail": "bad signature"}, status_code=401)
        if abs(time.time() - int(timestamp)) > TOLERANCE_S:
            return Response({"detail": "stale"}, status_code=401)
        event = msgspec.json.decode(body)
        row_id = await state["pool"].fetchval(
            f"INSERT INTO {BASELINE_TABLE} (id, provider, event_id, event_type, payload, received_at) "
            "VALUES ($1, 'stripe', $2, $3, $4, now()) ON CONFLICT (provider, event_id) DO NOTHING RETURNING id",
            secrets.token_hex(12),
            event["id"],
            event["type"],
            body.decode(),
        )
        if row_id is not None:
            await state["redis"].lpush(BASELINE_QUEUE, row_id)
        return Response({"received": True, "duplicate": row_id is None})

    return Litestar([webhook], on_startup=[startup], on_shutdown=[shutdown])


def serve_baseline(port: int, dsn: str, redis_url: str) -> None:
    import uvicorn

    # As `emporio serve` runs the engine: one process, default loop and HTTP parser, no access log.
    uvicorn.run(baseline_app(dsn, redis_url), host="127.0.0.1", port=port, log_config=None, access_log=False)


# ---------------------------------------------------------------------------------------------
# The load: signed Stripe events over raw keep-alive HTTP/1.1 (a cheap client, so the server is
# what is measured)
# ---------------------------------------------------------------------------------------------


def sign(body: bytes) -> str:
    timestamp = int(time.time())
    digest = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class EventSource:
    """Fresh events from a real simulator event as template; ~10 % are redeliveries."""

    def __init__(self, template: dict[str, Any], seed: int) -> None:
        self.template = template
        self.random = random.Random(seed)
        self.sent: list[bytes] = []
        self.unique = 0

    def next(self) -> tuple[bytes, bool]:
        if self.sent and self.random.random() < DUPLICATE_SHARE:
            return self.random.choice(self.sent), True
        self.unique += 1
        event = {**self.template, "id": f"evt_p5{secrets.token_hex(10)}", "created": int(time.time())}
        body = json.dumps(event).encode()
        self.sent.append(body)
        return body, False


@dataclass
class LoadResult:
    seconds: float = 0.0
    ok: int = 0
    duplicates_sent: int = 0
    duplicates_acknowledged: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0

    def summary(self, unique: int) -> dict[str, Any]:
        lat = sorted(self.latencies) or [0.0]
        return {
            "events_per_s": round(self.ok / self.seconds, 1),
            "requests_ok": self.ok,
            "distinct_events_sent": unique,  # warm-up included, as stored_once counts them
            "duplicates_sent": self.duplicates_sent,
            "duplicates_acknowledged": self.duplicates_acknowledged,
            "errors": self.errors,
            "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2),
            # The server process's own CPU per event, and what one core could take at that cost:
            # the figure to trust when other work shares the machine.
            "server_cpu_ms_per_event": round(self.server_cpu_s * 1000 / max(self.ok, 1), 3),
            "events_per_s_per_core": round(self.ok / self.server_cpu_s, 1) if self.server_cpu_s else None,
            "seconds": round(self.seconds, 2),
        }


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length) if length else b""


async def _sender(port: int, source: EventSource, result: LoadResult, until: float, record: bool) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            body, duplicate = source.next()
            request = (
                f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Stripe-Signature: {sign(body)}\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            status, answer = await _response(reader)
            elapsed = time.perf_counter() - started
            if not record:
                continue
            if status == 200:
                result.ok += 1
                result.latencies.append(elapsed)
                result.duplicates_sent += duplicate
                result.duplicates_acknowledged += b'"duplicate":true' in answer
            else:
                result.errors[str(status)] = result.errors.get(str(status), 0) + 1
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def fire(
    port: int, source: EventSource, senders: int, seconds: float, pid: int, warmup_s: float = 2.0
) -> LoadResult:
    warm = time.perf_counter() + warmup_s
    await asyncio.gather(*(_sender(port, source, LoadResult(), warm, False) for _ in range(senders)))
    result = LoadResult()
    cpu = cpu_seconds(pid)
    started = time.perf_counter()
    until = started + seconds
    await asyncio.gather(*(_sender(port, source, result, until, True) for _ in range(senders)))
    result.seconds = time.perf_counter() - started
    result.server_cpu_s = cpu_seconds(pid) - cpu
    return result


# ---------------------------------------------------------------------------------------------
# Servers, databases, Redis
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(port: int, path: str, process: subprocess.Popen[bytes], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before it was ready")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            status, _ = await _response(reader)
            writer.close()
            if status == 200 or (path == PATH and status == 405):
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the server on port {port} was not ready within {within} s")


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + name))


def stripe_event_template(sim_url: str) -> dict[str, Any]:
    """A real `payment_intent.amount_capturable_updated` event, made by the simulator."""
    import httpx

    headers = {"Authorization": f"Bearer {API_KEY}"}
    with httpx.Client(base_url=sim_url, headers=headers) as client:
        pi = client.post(
            "/v1/payment_intents",
            data={"amount": "2500", "currency": "eur", "capture_method": "manual", "payment_method_types[]": "card"},
        ).json()
        confirmed: dict[str, Any] = client.post(
            f"/v1/payment_intents/{pi['id']}/confirm", data={"payment_method": "pm_card_visa"}
        ).json()
    return confirmed


async def count_rows(dsn: str, table: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from core.jobs.queue import QUEUE_NAME
    from plugins.psp_stripe.simulator.simulator import StripeSimulator

    name = f"emporio_bench_p5_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(args.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(args.database_url, name)
    redis = aioredis.Redis.from_url(args.redis_url)
    data_dir = Path(tempfile.mkdtemp(prefix="emporio-p5-"))
    sim = StripeSimulator(webhook_secret=SECRET, api_key=API_KEY)
    try:
        with sim.running() as sim_url:
            from plugins.psp_stripe.simulator.webhooks import build_event

            intent = stripe_event_template(sim_url)
            template = build_event("payment_intent.amount_capturable_updated", intent, api_version="2024-06-20")
            env = {
                **os.environ,
                "EMPORIO_DATABASE_URL": dsn,
                "EMPORIO_REDIS_URL": args.redis_url,
                "EMPORIO_DATA_DIR": str(data_dir),
                "EMPORIO_STRIPE_API_KEY": API_KEY,
                "EMPORIO_STRIPE_WEBHOOK_SECRET": SECRET,
                "EMPORIO_STRIPE_API_BASE": sim_url,
                "EMPORIO_LOG_LEVEL": args.log_level,
            }
            launcher = data_dir / "emporio_serve.py"
            launcher.write_text("from core.cli import main\n\nmain()\n")
            emporio = [sys.executable, str(launcher), "serve", "--port"]
            if args.profile:  # where the engine's time goes: cProfile around the whole server
                emporio[1:1] = ["-m", "cProfile", "-o", str(data_dir / "engine.prof")]

            port = free_port()
            engine_source = EventSource(template, seed=5)
            with server([*emporio, str(port)], env, data_dir / "engine.log") as process:
                await wait_ready(port, "/ready", process)
                engine = await fire(port, engine_source, args.senders, args.seconds, process.pid)
            stored = await count_rows(dsn, "psp_webhook_events")
            queued = await count_rows(dsn, "events WHERE type = 'psp.webhook_received' AND dispatched_at IS NOT NULL")

            conn = await asyncpg.connect(dsn)
            await conn.execute(
                f"CREATE TABLE {BASELINE_TABLE} (id TEXT PRIMARY KEY, provider TEXT NOT NULL, event_id TEXT NOT NULL, "
                "event_type TEXT NOT NULL, payload TEXT NOT NULL, received_at TIMESTAMPTZ NOT NULL, "
                "UNIQUE (provider, event_id))"
            )
            await conn.close()
            await redis.delete(BASELINE_QUEUE)
            port = free_port()
            baseline_source = EventSource(template, seed=5)
            command = [sys.executable, __file__, "--serve-baseline", str(port), "--database-url", dsn]
            with server([*command, "--redis-url", args.redis_url], env, data_dir / "baseline.log") as process:
                await wait_ready(port, PATH, process)
                baseline = await fire(port, baseline_source, args.senders, args.seconds, process.pid)
            baseline_stored = await count_rows(dsn, BASELINE_TABLE)
            baseline_queued = int(await redis.llen(BASELINE_QUEUE))

            # What the engine put on the shared queue: nobody's worker should chew on it later.
            conn = await asyncpg.connect(dsn)
            job_ids = [f"{r['id']}:0" for r in await conn.fetch("SELECT id FROM events")]
            await conn.close()
            for start in range(0, len(job_ids), 1000):
                chunk = job_ids[start : start + 1000]
                await redis.zrem(QUEUE_NAME, *chunk)
                await redis.delete(*(f"arq:job:{j}" for j in chunk))
            await redis.delete(BASELINE_QUEUE)
    finally:
        await redis.aclose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    engine_summary = engine.summary(engine_source.unique)
    baseline_summary = baseline.summary(baseline_source.unique)
    return {
        "benchmark": "P5 webhook intake (verify + store + enqueue, with dedupe)",
        "senders": args.senders,
        "seconds": args.seconds,
        "duplicate_share": DUPLICATE_SHARE,
        "cpus": os.cpu_count(),
        "engine_log_level": args.log_level,
        "engine": {
            **engine_summary,
            "stored_once": stored == engine_source.unique,
            "queued_once": queued == engine_source.unique,
        },
        "baseline": {
            **baseline_summary,
            "stored_once": baseline_stored == baseline_source.unique,
            "queued_once": baseline_queued == baseline_source.unique,
        },
        "ratio": round(engine_summary["events_per_s"] / baseline_summary["events_per_s"], 3),
        "ratio_target": RATIO_MIN,
        "ratio_met": engine_summary["events_per_s"] >= RATIO_MIN * baseline_summary["events_per_s"],
        "cpu_ratio": round(baseline_summary["server_cpu_ms_per_event"] / engine_summary["server_cpu_ms_per_event"], 3),
        "target_per_s": 1000,
        "target_met": engine_summary["events_per_s"] >= 1000,
        "logs": str(data_dir),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per server")
    parser.add_argument("--senders", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument(
        "--log-level", default="info", help="the engine's EMPORIO_LOG_LEVEL (info, as shipped, logs every request)"
    )
    parser.add_argument("--profile", action="store_true", help="run the engine under cProfile; print its top calls")
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        serve_baseline(args.serve_baseline, args.database_url, args.redis_url)
        return
    summary = asyncio.run(run(args))
    print(json.dumps(summary, indent=2))
    if args.profile:
        import pstats

        stats = pstats.Stats(str(Path(summary["logs"]) / "engine.prof"), stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(30)
        stats.sort_stats("cumulative").print_stats(60)


if __name__ == "__main__":
    main()
