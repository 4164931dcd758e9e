"""P1 on the embedded default: the same storefront clients as bench/p1_order_intake.py against
`emporio serve` with no database or Redis configured (SQLite in the data dir + the embedded
Redis), so a shop can read when to move to PostgreSQL. No baseline: the figures stand beside
P1's PostgreSQL ones (`make bench` prints both).

    python bench/p1_embedded.py [--clients 32] [--seconds 10]

Prints one JSON summary: orders/s, p50, p99, the server's peak RSS and CPU per order, and
whether the stock and the orders agree afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import p1_order_intake as p1  # noqa: E402 - after the path tweak, for `python bench/…`


def embedded_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("EMPORIO_DATABASE_URL", "EMPORIO_REDIS_URL")}
    env.update(p1.BENCH_ENV)
    env["EMPORIO_DATA_DIR"] = str(data_dir)
    env["EMPORIO_QUEUE_NAME"] = f"emporio:bench:embedded:{data_dir.name}"
    return env


def consistency(db_path: Path, expected_orders: int) -> dict[str, Any]:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        orders = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
        reserved = conn.execute("SELECT COALESCE(sum(reserved), 0) FROM inventory_levels").fetchone()[0]
        held = conn.execute("SELECT COALESCE(sum(qty), 0) FROM reservations").fetchone()[0]
        negative = conn.execute("SELECT count(*) FROM inventory_levels WHERE on_hand - reserved < 0").fetchone()[0]
    ok = orders == expected_orders and reserved == held and negative == 0
    return {"ok": ok, "orders": orders, "reserved_units": reserved, "reservation_units": held}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="emporio-p1-embedded-"))
    env = embedded_env(data_dir)
    key, customer_ids = await p1.seed(env)
    port = p1.free_port()
    command = [str(Path(sys.executable).with_name("emporio")), "serve", "--port", str(port)]
    with p1.server(command, env, data_dir / "engine.log") as process:
        await p1.wait_ready(port, process, data_dir / "engine.log")
        with p1.ProcessSampler(process.pid) as sampler:
            warm, measured = await p1.fire(port, key, p1.Orders(customer_ids, seed=7), args.clients, args.seconds)
    created = warm.ok + measured.ok
    return {
        "benchmark": "P1 order intake on the embedded default (SQLite + embedded Redis)",
        "clients": args.clients,
        "seconds": args.seconds,
        "cpus": os.cpu_count(),
        "engine": {**measured.summary(), **sampler.summary(created)},
        "consistent": consistency(data_dir / "emporio.sqlite3", created),
        "logs": str(data_dir),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32, help="concurrent keep-alive storefront clients")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds")
    args = parser.parse_args()
    from core.logging import configure_logging

    configure_logging("warning")  # stdout carries the JSON summary only
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
