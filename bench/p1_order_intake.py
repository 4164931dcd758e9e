"""P1: order intake on PostgreSQL, the engine against a bare baseline in the same run.

N concurrent storefront clients POST /v1/orders (3 lines, an Idempotency-Key each, stock reserved,
an outbox event) to the real server (`emporio serve`, one process) for a fixed time; then the same
load goes to the baseline: a minimal Litestar app served by uvicorn in a subprocess whose handler
does the same SQL work with raw asyncpg in one transaction (API key lookup; idempotency row; the
customer and the prices; inventory rows locked FOR UPDATE and `reserved` raised; the order, its 3
lines, 3 reservations and 3 movements; one outbox event; the stored response). Both write to the
same tables of a fresh bench database, created and dropped by this script.

Prints one JSON summary: orders/s, p50 and p99 for both, the ratios against the targets
(throughput ≥ 0.6 × baseline, p99 ≤ 2 × baseline p99), and the API process's RSS (P6: ≤ 200 MB).

    python bench/p1_order_intake.py [--clients 32 --seconds 20]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--redis-url redis://127.0.0.1:6379/9]
        [--rounds 1] [--with-worker] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import msgspec
from litestar import Litestar, Request, Response, get, post

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.domain.ids import new_id  # noqa: E402 - after the path tweak, for `python bench/…`

PATH = "/v1/orders"
SKUS = [f"P1-{i:04d}" for i in range(300)]
LOCATIONS = ("WH-ATH", "WH-SKG")
ON_HAND = 1_000_000  # per SKU and location: 600 M units, nothing runs out
PRICE = 1999
CUSTOMERS = 100
WARMUP_S = 3.0
POOL_SIZE = 20  # the engine's pool (core.db.database.Database.start)
THROUGHPUT_MIN, P99_MAX = 0.6, 2.0  # quality.md, P1
PROFILES = ROOT / "bench" / "profiles"
# One storefront key places every order: its writes limit (6,000 a minute by default) is raised
# out of the way, and still counted in Redis on every order as in production.
BENCH_ENV = {"EMPORIO_RATE_LIMIT_STOREFRONT_WRITES": "1000000/minute"}


# ---------------------------------------------------------------------------------------------
# The baseline: the same SQL work as the engine's intake, by hand with raw asyncpg
# ---------------------------------------------------------------------------------------------


class LineIn(msgspec.Struct, forbid_unknown_fields=True):
    sku: str
    qty: int


class OrderIn(msgspec.Struct, forbid_unknown_fields=True):
    channel: str
    customer: dict[str, Any]
    lines: list[LineIn]
    shipping_address: dict[str, Any] | None = None


class Refused(Exception):
    """Leaves the transaction (rolled back) with a problem response."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def baseline_app(dsn: str) -> Litestar:
    state: dict[str, Any] = {}

    async def startup() -> None:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=2, max_size=POOL_SIZE)

    async def shutdown() -> None:
        await state["pool"].close()

    def problem(status: int, detail: str) -> Response[Any]:
        body = {"type": "about:blank", "title": "error", "status": status, "detail": detail}
        return Response(body, status_code=status, media_type="application/problem+json")

    @post(PATH, status_code=201)
    async def place_order(request: Request[Any, Any, Any]) -> Response[Any]:
        raw = await request.body()
        try:
            cmd = msgspec.json.decode(raw, type=OrderIn)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            return problem(400, str(exc))
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        key = request.headers.get("idempotency-key")
        pool = state["pool"]
        principal = await pool.fetchrow(
            "SELECT id, scopes, revoked_at FROM api_keys WHERE key_hash = $1", _sha256(token.encode())
        )
        if principal is None or principal["revoked_at"] is not None:
            return problem(401, "unknown key")
        if not {"storefront", "admin"} & set(json.loads(principal["scopes"])):
            return problem(403, "needs storefront")
        now = datetime.now(UTC)
        try:
            return await _place(pool, principal["id"], key, raw, cmd, now)
        except Refused as exc:
            return problem(exc.status, exc.detail)

    async def _place(
        pool: asyncpg.Pool, principal_id: str, key: str | None, raw: bytes, cmd: OrderIn, now: datetime
    ) -> Response[Any]:
        async with pool.acquire() as conn, conn.transaction():
            rid = None
            if key is not None:
                rid = _sha256(f"{principal_id}\x00{key}".encode())
                fingerprint = _sha256(b"POST\x00" + PATH.encode() + b"\x00" + raw)
                claimed = await conn.fetchval(
                    "INSERT INTO idempotency_keys (id, principal, key, method, path, request_hash, state, "
                    "created_at, locked_until) VALUES ($1, $2, $3, 'POST', $4, $5, 'in_progress', $6, $7) "
                    "ON CONFLICT (id) DO NOTHING RETURNING id",
                    rid,
                    principal_id,
                    key,
                    PATH,
                    fingerprint,
                    now,
                    now + timedelta(seconds=60),
                )
                if claimed is None:
                    stored = await conn.fetchrow(
                        "SELECT request_hash, status_code, response_body FROM idempotency_keys WHERE id = $1", rid
                    )
                    if stored["request_hash"] != fingerprint:
                        raise Refused(422, "key reused with another body")
                    return Response(stored["response_body"].encode(), status_code=stored["status_code"])
            customer_id = await conn.fetchval("SELECT id FROM customers WHERE id = $1", cmd.customer.get("id"))
            if customer_id is None:
                raise Refused(422, "unknown customer")
            skus = sorted({line.sku for line in cmd.lines})
            prices = {
                r["sku"]: r["price_amount"]
                for r in await conn.fetch("SELECT sku, price_amount FROM products WHERE sku = ANY($1::text[])", skus)
            }
            levels = await conn.fetch(
                "SELECT id, location, sku, on_hand, reserved FROM inventory_levels WHERE sku = ANY($1::text[]) "
                "ORDER BY sku, location FOR UPDATE",
                skus,
            )
            by_sku: dict[str, list[dict[str, Any]]] = {}
            for level in levels:
                by_sku.setdefault(level["sku"], []).append(dict(level))
            takes: list[tuple[str, str, str, int]] = []
            for line in cmd.lines:
                need = line.qty
                for level in sorted(by_sku.get(line.sku, []), key=lambda lv: lv["reserved"] - lv["on_hand"]):
                    take = min(need, level["on_hand"] - level["reserved"])
                    if take > 0:
                        takes.append((level["id"], level["location"], line.sku, take))
                        need -= take
                    if need == 0:
                        break
                if need or line.sku not in prices:
                    raise Refused(409, f"not enough {line.sku}")
            order_id = new_id("ord")
            total = sum(prices[line.sku] * line.qty for line in cmd.lines)
            await conn.executemany(
                "UPDATE inventory_levels SET reserved = reserved + $2, updated_at = $3 WHERE id = $1",
                [(level_id, qty, now) for level_id, _, _, qty in takes],
            )
            await conn.execute(
                "INSERT INTO orders (id, channel, customer_id, status, currency, merchandise_total, shipping_total, "
                "grand_total, placed_at, promised_ship_by, promised_delivery_by, shipping_address, delivery_method, "
                "updated_at) VALUES ($1, $2, $3, 'pending_payment', 'EUR', $4, 0, $4, $5, $6, $7, $8, 'courier', $5)",
                order_id,
                cmd.channel,
                customer_id,
                total,
                now,
                now + timedelta(days=1),
                now + timedelta(days=3),
                json.dumps(cmd.shipping_address),
            )
            await conn.executemany(
                "INSERT INTO order_lines (id, order_id, sku, qty, unit_price, qty_reserved) "
                "VALUES ($1, $2, $3, $4, $5, $4)",
                [(f"{order_id}|{line.sku}", order_id, line.sku, line.qty, prices[line.sku]) for line in cmd.lines],
            )
            await conn.executemany(
                "INSERT INTO reservations (id, order_id, sku, location, qty) VALUES ($1, $2, $3, $4, $5)",
                [(f"{order_id}|{sku}|{location}", order_id, sku, location, qty) for _, location, sku, qty in takes],
            )
            await conn.executemany(
                "INSERT INTO inventory_movements (id, location, sku, reserved_delta, reason, order_id, at) "
                "VALUES ($1, $2, $3, $4, 'order_reserved', $5, $6)",
                [(new_id("mov"), location, sku, qty, order_id, now) for _, location, sku, qty in takes],
            )
            await conn.execute(
                "INSERT INTO events (id, type, occurred_at, order_id, customer_id, subject_type, subject_id, payload) "
                "VALUES ($1, 'order.placed', $2, $3, $4, 'order', $3, $5)",
                new_id("evt"),
                now,
                order_id,
                customer_id,
                json.dumps({"channel": cmd.channel, "total": total, "currency": "EUR", "status": "pending_payment"}),
            )
            body = msgspec.json.encode(
                {
                    "id": order_id,
                    "status": "pending_payment",
                    "channel": cmd.channel,
                    "customer_id": customer_id,
                    "lines": [
                        {"sku": ln.sku, "qty": ln.qty, "unit_price": {"amount": prices[ln.sku], "currency": "EUR"}}
                        for ln in cmd.lines
                    ],
                    "totals": {"grand_total": {"amount": total, "currency": "EUR"}},
                    "reservations": [{"sku": s, "location": loc, "qty": q} for _, loc, s, q in takes],
                    "placed_at": now.isoformat(),
                }
            )
            if rid is not None:
                await conn.execute(
                    "UPDATE idempotency_keys SET state = 'done', status_code = 201, response_body = $2, "
                    "response_type = 'application/json' WHERE id = $1",
                    rid,
                    body.decode(),
                )
        return Response(body, status_code=201, media_type="application/json")

    @get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar([place_order, health], on_startup=[startup], on_shutdown=[shutdown])


def serve_baseline(port: int, dsn: str) -> None:
    import uvicorn

    # As `emporio serve` runs the engine: one process, default loop and HTTP parser, no access log.
    uvicorn.run(baseline_app(dsn), host="127.0.0.1", port=port, log_config=None, access_log=False)


# ---------------------------------------------------------------------------------------------
# The load: storefront orders over raw keep-alive HTTP/1.1 (a cheap client on a 2-core machine,
# so that the server is what is measured)
# ---------------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    seconds: float = 0.0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    sample: str = ""

    def add(self, other: LoadResult) -> None:
        self.seconds += other.seconds
        self.ok += other.ok
        self.latencies += other.latencies
        for k, v in other.errors.items():
            self.errors[k] = self.errors.get(k, 0) + v
        self.sample = self.sample or other.sample

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies) or [0.0]
        return {
            "orders_per_s": round(self.ok / self.seconds, 1) if self.seconds else 0.0,
            "orders": self.ok,
            "errors": self.errors,
            "p50_ms": round(lat[len(lat) // 2] * 1000, 2),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000, 2),
            "max_ms": round(lat[-1] * 1000, 2),
            "seconds": round(self.seconds, 2),
            **({"first_error": self.sample} if self.sample else {}),
        }


class Orders:
    """Order bodies: 3 distinct random SKUs of 300, qty 1–2, a known customer."""

    def __init__(self, customers: list[str], seed: int) -> None:
        self.customers = customers
        self.random = random.Random(seed)

    def next(self) -> bytes:
        skus = self.random.sample(SKUS, 3)
        return msgspec.json.encode(
            {
                "channel": "web",
                "customer": {"id": self.random.choice(self.customers)},
                "lines": [{"sku": sku, "qty": self.random.randint(1, 2)} for sku in skus],
                "shipping_address": {
                    "name": "Bench Buyer",
                    "line1": "Ermou 10",
                    "city": "Athens",
                    "postcode": "10563",
                    "country": "GR",
                },
            }
        )


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


async def _client(port: int, key: str, orders: Orders, result: LoadResult, until: float) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            body = orders.next()
            request = (
                f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Authorization: Bearer {key}\r\nIdempotency-Key: p1-{secrets.token_hex(12)}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            started = time.perf_counter()
            writer.write(request)
            status, answer = await _response(reader)
            elapsed = time.perf_counter() - started
            if status == 201:
                result.ok += 1
                result.latencies.append(elapsed)
            else:
                result.errors[str(status)] = result.errors.get(str(status), 0) + 1
                result.sample = result.sample or answer[:300].decode("utf-8", "replace")
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def fire(port: int, key: str, orders: Orders, clients: int, seconds: float) -> tuple[LoadResult, LoadResult]:
    """(warm-up, measured): the same clients, first unmeasured for WARMUP_S."""
    warm = LoadResult()
    until = time.perf_counter() + WARMUP_S
    await asyncio.gather(*(_client(port, key, orders, warm, until) for _ in range(clients)))
    result = LoadResult()
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, key, orders, result, started + seconds) for _ in range(clients)))
    result.seconds = time.perf_counter() - started
    return warm, result


# ---------------------------------------------------------------------------------------------
# Processes, memory, the database
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ProcessSampler:
    """Peak RSS while the load runs, and the CPU the server spent on it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self.last = 0
        self.cpu_start = 0.0
        self.cpu_end = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.last = rss_bytes(self.pid) or self.last
            self.peak = max(self.peak, self.last)
            await asyncio.sleep(0.25)

    def __enter__(self) -> ProcessSampler:
        self.cpu_start = cpu_seconds(self.pid)
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.cpu_end = cpu_seconds(self.pid)

    def summary(self, orders: int = 0) -> dict[str, float]:
        out = {"rss_mb_peak": round(self.peak / 2**20, 1), "rss_mb_end": round(self.last / 2**20, 1)}
        if orders:
            out["server_cpu_ms_per_order"] = round((self.cpu_end - self.cpu_start) * 1000 / orders, 2)
        return out


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


async def wait_ready(port: int, process: subprocess.Popen[bytes], log: Path, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{_tail(log)}")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            status, _ = await _response(reader)
            writer.close()
            if status in (200, 405):
                return
        except OSError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the server on port {port} was not ready within {within} s:\n{_tail(log)}")


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
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


async def seed(env: dict[str, str]) -> tuple[str, list[str]]:
    """Schema, catalogue, stock and customers through the engine's own services; returns a
    storefront key and the customer ids."""
    from core.access import apikeys
    from core.catalogue import catalogue, inventory
    from core.customers import customers
    from core.domain.catalogue import LocationIn, LocationType, PriceIn, ProductIn
    from core.domain.customers import CustomerIn
    from core.runtime import Runtime
    from core.settings import load_settings

    runtime = Runtime(load_settings(env))
    await runtime.start(with_queue=False)
    try:
        async with runtime.unit_of_work():
            await catalogue.ensure_channels({})
            key = (await apikeys.create_key("p1-bench", ["storefront"])).key
            for i, code in enumerate(LOCATIONS):
                await catalogue.create_location(
                    LocationIn(code=code, name=code, type=LocationType.WAREHOUSE, priority=10 + i)
                )
            for sku in SKUS:
                await catalogue.create_product(ProductIn(sku=sku, name=sku, price=PriceIn(PRICE, "EUR")))
            for sku in SKUS:
                for code in LOCATIONS:
                    await inventory.set_on_hand(runtime.db, code, sku, ON_HAND, actor="p1-bench")
            ids = [
                (await customers.create_customer(CustomerIn(email=f"p1-{i}@example.com", name=f"Buyer {i}"))).id
                for i in range(CUSTOMERS)
            ]
    finally:
        await runtime.stop()
    return key, ids


async def consistency(dsn: str, expected_orders: int) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        orders = await conn.fetchval("SELECT count(*) FROM orders")
        reserved = await conn.fetchval("SELECT COALESCE(sum(reserved), 0) FROM inventory_levels")
        held = await conn.fetchval("SELECT COALESCE(sum(qty), 0) FROM reservations")
        lines = await conn.fetchval("SELECT count(*) FROM order_lines")
        done = await conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE state = 'done'")
        placed = await conn.fetchval("SELECT count(*) FROM events WHERE type = 'order.placed'")
        negative = await conn.fetchval("SELECT count(*) FROM inventory_levels WHERE on_hand - reserved < 0")
    finally:
        await conn.close()
    ok = (
        orders == expected_orders
        and reserved == held
        and lines == 3 * orders
        and done == orders
        and placed == orders
        and negative == 0
    )
    return {"ok": ok, "orders": orders, "reserved_units": reserved, "reservation_units": held}


async def clear_queue(dsn: str, redis_url: str, queue: str) -> None:
    """Remove the bench's queue and the jobs the engine put on it for its events (no worker was
    running), so nothing of the run stays in a Redis others share."""
    import redis.asyncio as aioredis

    conn = await asyncpg.connect(dsn)
    try:
        job_ids = [f"{r['id']}:0" for r in await conn.fetch("SELECT id FROM events")]
    finally:
        await conn.close()
    redis = aioredis.from_url(redis_url)
    try:
        await redis.delete(queue)
        for start in range(0, len(job_ids), 1000):
            await redis.delete(*(f"arq:job:{j}" for j in job_ids[start : start + 1000]))
    finally:
        await redis.aclose()


def merge_rounds(rounds: list[dict[str, float]]) -> dict[str, float]:
    """Peak and last RSS over the rounds, mean server CPU per order."""
    if not rounds:
        return {}
    out = {"rss_mb_peak": max(r["rss_mb_peak"] for r in rounds), "rss_mb_end": rounds[-1]["rss_mb_end"]}
    cpu = [r["server_cpu_ms_per_order"] for r in rounds if "server_cpu_ms_per_order" in r]
    if cpu:
        out["server_cpu_ms_per_order"] = round(sum(cpu) / len(cpu), 2)
    return out


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    name = f"emporio_bench_p1_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(args.database_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = with_database(args.database_url, name)
    data_dir = Path(tempfile.mkdtemp(prefix="emporio-p1-"))
    env = {
        **os.environ,
        "EMPORIO_DATABASE_URL": dsn,
        "EMPORIO_REDIS_URL": args.redis_url,
        "EMPORIO_DATA_DIR": str(data_dir),
        "EMPORIO_QUEUE_NAME": f"emporio:bench:{name}",  # a queue of its own: no other worker takes its jobs
        **BENCH_ENV,
    }
    engine, baseline = LoadResult(), LoadResult()
    engine_procs: list[dict[str, float]] = []
    worker_procs: list[dict[str, float]] = []
    baseline_procs: list[dict[str, float]] = []
    created = 0
    try:
        key, customer_ids = await seed(env)
        emporio = [str(Path(sys.executable).with_name("emporio")), "serve", "--port"]
        if args.profile:  # cProfile around the whole engine server; printed at the end
            launcher = data_dir / "emporio_serve.py"
            launcher.write_text("from core.cli import main\n\nmain()\n")
            emporio = [sys.executable, "-m", "cProfile", "-o", str(data_dir / "engine.prof"), str(launcher)]
            emporio += ["serve", "--port"]
        for round_no in range(args.rounds):
            port = free_port()
            with contextlib.ExitStack() as stack:
                process = stack.enter_context(server([*emporio, str(port)], env, data_dir / "engine.log"))
                worker = None
                if args.with_worker:
                    worker_cmd = [str(Path(sys.executable).with_name("emporio")), "worker"]
                    worker = stack.enter_context(server(worker_cmd, env, data_dir / "worker.log"))
                await wait_ready(port, process, data_dir / "engine.log")
                with ProcessSampler(process.pid) as sampler, contextlib.ExitStack() as wstack:
                    wsampler = wstack.enter_context(ProcessSampler(worker.pid)) if worker else None
                    warm, measured = await fire(
                        port, key, Orders(customer_ids, seed=round_no), args.clients, args.seconds
                    )
                engine_procs.append(sampler.summary(warm.ok + measured.ok))
                if wsampler:
                    worker_procs.append(wsampler.summary())
            engine.add(measured)
            created += warm.ok + measured.ok

            port = free_port()
            command = [sys.executable, __file__, "--serve-baseline", str(port), "--database-url", dsn]
            with server(command, env, data_dir / "baseline.log") as process:
                await wait_ready(port, process, data_dir / "baseline.log")
                with ProcessSampler(process.pid) as sampler:
                    warm, measured = await fire(
                        port, key, Orders(customer_ids, seed=1000 + round_no), args.clients, args.seconds
                    )
                baseline_procs.append(sampler.summary(warm.ok + measured.ok))
            baseline.add(measured)
            created += warm.ok + measured.ok
        checked = await consistency(dsn, created)
        await clear_queue(dsn, args.redis_url, env["EMPORIO_QUEUE_NAME"])
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()

    e, b = engine.summary(), baseline.summary()
    engine_rss, baseline_rss, worker_rss = (merge_rounds(p) for p in (engine_procs, baseline_procs, worker_procs))
    throughput = ratio(e["orders_per_s"], b["orders_per_s"])
    p99 = ratio(e["p99_ms"], b["p99_ms"])
    summary: dict[str, Any] = {
        "benchmark": "P1 order intake (3 lines, reservation, Idempotency-Key, outbox) on PostgreSQL",
        "clients": args.clients,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "cpus": os.cpu_count(),
        "engine": {**e, **engine_rss},
        "baseline": {**b, **baseline_rss},
        "throughput_ratio": throughput,
        "p99_ratio": p99,
        "targets": {"throughput_ratio_min": THROUGHPUT_MIN, "p99_ratio_max": P99_MAX, "api_rss_mb_max": 200},
        "met": {
            "throughput": throughput is not None and throughput >= THROUGHPUT_MIN,
            "p99": p99 is not None and p99 <= P99_MAX,
            "api_rss": engine_rss.get("rss_mb_peak", 0) <= 200,
            **({"worker_rss": worker_rss.get("rss_mb_peak", 0) <= 200} if worker_rss else {}),
        },
        "consistent": checked,
        "logs": str(data_dir),
    }
    if worker_rss:
        summary["worker"] = worker_rss
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent keep-alive storefront clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per server and round")
    parser.add_argument("--rounds", type=int, default=1, help="engine/baseline alternations (noisy machines)")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--with-worker", action="store_true", help="run `emporio worker` beside the API (P6)")
    parser.add_argument("--profile", action="store_true", help="run the engine under cProfile; print its top calls")
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_baseline:
        serve_baseline(args.serve_baseline, args.database_url)
        return
    from core.logging import configure_logging

    configure_logging("warning")  # stdout carries the JSON summary only
    summary = asyncio.run(run(args))
    print(json.dumps(summary, indent=2))
    if args.profile:
        keep_profile(Path(summary["logs"]) / "engine.prof")


def keep_profile(prof: Path) -> None:
    """The engine's cProfile, kept under bench/profiles/ (the .prof for snakeviz or pstats, and its
    top functions as text), and its top functions printed to stderr."""
    import io
    import pstats
    import shutil

    PROFILES.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    shutil.copy(prof, PROFILES / f"p1-engine-{stamp}.prof")
    text = io.StringIO()
    stats = pstats.Stats(str(prof), stream=text)
    stats.sort_stats("tottime").print_stats(40)
    stats.sort_stats("cumulative").print_stats(60)
    (PROFILES / f"p1-engine-{stamp}.txt").write_text(text.getvalue())
    print(text.getvalue(), file=sys.stderr)


if __name__ == "__main__":
    main()
