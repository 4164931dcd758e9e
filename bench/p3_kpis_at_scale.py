"""P3: `GET /v1/kpis` for a 30-day window over a 1,000,000-order history, on PostgreSQL + Redis,
target median ≤ 200 ms and ≥ 50 × faster than computing the same KPIs by a full scan.

On the imported history (the database P4 leaves with --keep-database, else the history file is
imported first with `emporio import`), builds the daily rollups from scratch with
`emporio rollups build` (timed), starts the real server (`emporio serve`, no worker) and asks
`GET /v1/kpis?from=&to=` ≥ 20 times (median, p95). Baselines in the same run, computing the same
KPIs for the same window without rollups:

- `raw`: `KPIEngine(host, use_rollups=False).all(…)` — every fact of the window loaded from the
  tables (index range scans on the window) and reduced: what the engine computes from scratch.
- `full_scan`: the truly naive way — every source's facts of the whole history loaded, the
  window's kept, reduced (sequential scans of everything). Run once; skip with --no-full-scan.

The answers must be equal: the server's JSON with rollups, the raw computation and the full scan
(exactly, field by field). Prints a JSON summary.

    python bench/p3_kpis_at_scale.py [--database emporio_bench_history_1m]
        [--history var/bench/history-1m.jsonl] [--requests 25] [--from 2026-09-01 --to 2026-10-01]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--redis-url redis://127.0.0.1:6379/9]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import httpx
import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MEDIAN_MS = 200
TARGET_RATIO = 50


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + name))


def emporio_command() -> list[str]:
    script = Path(sys.executable).with_name("emporio")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from core.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def ensure_database(admin_url: str, name: str) -> bool:
    """True when the database exists with an imported history; creates it (empty) if missing."""
    admin = await asyncpg.connect(admin_url)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
            return False
    finally:
        await admin.close()
    conn = await asyncpg.connect(with_database(admin_url, name))
    try:
        has_orders = await conn.fetchval("SELECT to_regclass('orders') IS NOT NULL")
        return bool(has_orders and await conn.fetchval("SELECT EXISTS (SELECT 1 FROM orders)"))
    finally:
        await conn.close()


async def history_span(dsn: str) -> tuple[datetime, datetime, int]:
    conn = await asyncpg.connect(dsn)
    try:
        first, last, orders = await conn.fetchrow("SELECT min(placed_at), max(placed_at), count(*) FROM orders")
    finally:
        await conn.close()
    return first, last, int(orders)


async def reset_rollups(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DELETE FROM kpi_rollup_days; DELETE FROM kpi_dirty_days; DELETE FROM kpi_rollups")
    finally:
        await conn.close()


def run(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()[-3000:]}")
    return time.perf_counter() - started, done.stdout.decode()


@contextlib.contextmanager
def server(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*emporio_command(), "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def wait_ready(client: httpx.AsyncClient, process: subprocess.Popen[bytes], within: float = 90.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before it was ready")
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get("/ready", timeout=2)).status_code == 200:
                return
        await asyncio.sleep(0.3)
    raise RuntimeError("the server was not ready in time")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


# ---------------------------------------------------------------------------------------------
# The baselines, in this process, on the same database
# ---------------------------------------------------------------------------------------------


async def baselines(
    dsn: str, start: datetime, end: datetime, span: tuple[datetime, datetime], repeat: int, full_scan: bool
) -> dict[str, Any]:
    os.environ["EMPORIO_DATABASE_URL"] = dsn
    from core.domain.kpis import Fact, FactQuery
    from core.kpis.engine import KPIEngine, _out
    from core.runtime import Runtime

    runtime = Runtime()
    await runtime.start(with_queue=False, migrate=False)
    out: dict[str, Any] = {}
    try:
        raw_times = []
        for _ in range(repeat):
            t = time.perf_counter()
            raw = await KPIEngine(runtime.host, use_rollups=False).all(start, end, {})
            raw_times.append(time.perf_counter() - t)
        out["raw"] = {"answer": raw, "seconds": raw_times}
        if full_scan:
            t = time.perf_counter()
            answer: dict[str, Any] = {}
            kept: dict[str, list[Fact]] = {}
            everything = FactQuery(start=span[0], end=span[1])
            for kpi_id in sorted(runtime.host.kpis):
                kpi = runtime.host.kpis[kpi_id].value
                if kpi.facts.id not in kept:  # one source at a time: all its facts, then the window's
                    kept[kpi.facts.id] = [f for f in await kpi.facts.load(everything) if start <= f["at"] < end]
                answer[kpi_id] = _out(kpi, kpi.reduce(kept[kpi.facts.id]))
            out["full_scan"] = {"answer": answer, "seconds": [time.perf_counter() - t]}
    finally:
        await runtime.stop()
    return out


def as_json(value: Any) -> Any:
    """What the API would send for it (msgspec encodes both; floats round-trip exactly)."""
    return msgspec.json.decode(msgspec.json.encode(value))


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="emporio-p3-"))
    dsn = with_database(args.database_url, args.database)
    env = {
        **os.environ,
        "EMPORIO_DATABASE_URL": dsn,
        "EMPORIO_REDIS_URL": args.redis_url,
        "EMPORIO_DATA_DIR": str(work),
        "EMPORIO_LOG_LEVEL": "warning",
    }
    imported: dict[str, Any] | None = None
    if not await ensure_database(args.database_url, args.database):
        seconds, output = run([*emporio_command(), "import", str(args.history)], env)
        imported = {"seconds": round(seconds, 1), "output": output.strip()}
    first, last, orders = await history_span(dsn)
    if args.to:
        end = datetime.fromisoformat(args.to).replace(tzinfo=UTC)
    else:  # the last 30 whole days of the history
        end = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    start = datetime.fromisoformat(args.start).replace(tzinfo=UTC) if args.start else end - timedelta(days=30)

    if not args.keep_rollups:
        await reset_rollups(dsn)
    build_seconds, build_output = run([*emporio_command(), "rollups", "build"], env)

    _, key_output = run([*emporio_command(), "keys", "create", "--name", "p3-bench", "--scope", "ops"], env)
    api_key = key_output.strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    params = {"from": start.date().isoformat(), "to": end.date().isoformat()}
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {api_key}"}
    with server(env, port, work / "server.log") as process:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
            await wait_ready(client, process)
            for _ in range(args.warmup):
                assert (await client.get("/v1/kpis", params=params)).status_code == 200
            for _ in range(args.requests):  # one at a time: the latency of one request, not a load test
                t = time.perf_counter()
                response = await client.get("/v1/kpis", params=params)
                latencies.append(time.perf_counter() - t)
                assert response.status_code == 200, response.text
            served = response.json()

    span = (
        datetime(first.year, first.month, first.day, tzinfo=UTC),
        datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1),
    )
    base_runs = await baselines(dsn, start, end, span, args.raw_repeat, not args.no_full_scan)
    raw = base_runs["raw"]
    expected = as_json({"from": start, "to": end, "filters": {}, "kpis": raw["answer"]})
    median_ms = statistics.median(latencies) * 1000
    raw_s = statistics.median(raw["seconds"])
    summary: dict[str, Any] = {
        "benchmark": "P3 KPIs at scale (GET /v1/kpis, 30-day window, PostgreSQL + Redis)",
        "database": args.database,
        "orders_in_history": orders,
        "history": [span[0].date().isoformat(), span[1].date().isoformat()],
        "window": [start.isoformat(), end.isoformat()],
        **({"imported": imported} if imported else {}),
        "rollups_build": {"seconds": round(build_seconds, 1), "output": build_output.strip()},
        "kpis": len(served["kpis"]),
        "with_rollups": {
            "requests": len(latencies),
            "median_ms": round(median_ms, 1),
            "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
            "min_ms": round(min(latencies) * 1000, 1),
            "max_ms": round(max(latencies) * 1000, 1),
        },
        "baseline_raw": {
            "how": "KPIEngine(host, use_rollups=False).all(window): the window's facts by index range scans",
            "runs_s": [round(s, 2) for s in raw["seconds"]],
            "median_ms": round(raw_s * 1000, 1),
        },
        "ratio_raw_to_rollups": round(raw_s * 1000 / median_ms, 1),
        "equal_to_raw": served == expected,
        "target_median_ms": TARGET_MEDIAN_MS,
        "target_ratio": TARGET_RATIO,
        "cpus": os.cpu_count(),
        "logs": str(work),
    }
    ratios = [summary["ratio_raw_to_rollups"]]
    if "full_scan" in base_runs:
        full = base_runs["full_scan"]
        summary["baseline_full_scan"] = {
            "how": "every source's facts of the whole history loaded, the window's kept, reduced",
            "seconds": round(full["seconds"][0], 1),
        }
        summary["ratio_full_scan_to_rollups"] = round(full["seconds"][0] * 1000 / median_ms, 1)
        summary["equal_to_full_scan"] = served["kpis"] == as_json(full["answer"])
        ratios.append(summary["ratio_full_scan_to_rollups"])
    if served != expected:
        summary["differences"] = {
            k: {"rollups": served["kpis"].get(k), "raw": expected["kpis"].get(k)}
            for k in sorted(set(served["kpis"]) | set(expected["kpis"]))
            if served["kpis"].get(k) != expected["kpis"].get(k)
        }
    summary["target_met"] = {
        "median": median_ms <= TARGET_MEDIAN_MS,
        "ratio_vs_raw": summary["ratio_raw_to_rollups"] >= TARGET_RATIO,
        "ratio_vs_full_scan": len(ratios) > 1 and ratios[1] >= TARGET_RATIO,
    }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="emporio_bench_history_1m", help="the bench database (kept)")
    parser.add_argument("--history", type=Path, default=ROOT / "var" / "bench" / "history-1m.jsonl")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--from", dest="start", default=None, help="window start (default: 30 days before --to)")
    parser.add_argument("--to", dest="end", default=None, help="window end (default: the history's last day + 1)")
    parser.add_argument("--requests", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--raw-repeat", type=int, default=3, help="runs of the raw baseline")
    parser.add_argument("--no-full-scan", action="store_true", help="skip the naive full-scan baseline")
    parser.add_argument("--keep-rollups", action="store_true", help="do not rebuild the rollups from scratch")
    args = parser.parse_args()
    args.to = args.end
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
