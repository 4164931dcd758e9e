"""P4: `emporio import` of a shop history on PostgreSQL, target ≥ 10,000 records/s with flat
memory (the file is streamed).

Imports the file (from bench/generate_history.py) with the real command, `emporio import FILE`,
into a fresh PostgreSQL database, sampling the process's resident memory, then does the same
work with a baseline in the same run: a bare-Python loader that parses the same file and writes
the same rows into another fresh database with the same schema, with raw asyncpg
`copy_records_to_table`, one transaction per batch of the same size, ids mapped in a dict. It
skips everything the engine checks (references, duplicates, re-runs, line errors) and keeps
every id in memory: the fastest honest bare path. Prints a JSON summary (records/s and peak
RSS of both, their ratio, RSS over time) and checks that both databases hold the same rows.

    python bench/p4_history_import.py [--history var/bench/history-1m.jsonl] [--batch-size 2000]
        [--database-url postgresql://postgres@127.0.0.1:5432/test] [--keep-database NAME]

Without --history it generates a 20,000-order history first. The bench databases are dropped at
the end, except the engine's with --keep-database NAME (P3 reuses it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

import asyncpg
import msgspec
import psutil

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_S = 10_000
TABLES = (
    "customers",
    "products",
    "locations",
    "orders",
    "order_lines",
    "checkouts",
    "payment_attempts",
    "shipments",
    "shipment_lines",
    "delivery_attempts",
    "picker_shifts",
    "inventory_counts",
    "returns",
    "return_lines",
)


# ---------------------------------------------------------------------------------------------
# Measuring a process: wall time and resident memory over time
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float = 0.0
    returncode: int = 0
    output: str = ""
    rss_samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, bytes)
    peak_rss: int = 0  # VmHWM, the kernel's high-water mark of resident memory

    def memory(self) -> dict[str, Any]:
        mb = 1024 * 1024
        samples = self.rss_samples or [(0.0, 0)]
        quarter = [samples[min(len(samples) - 1, int(len(samples) * q))][1] for q in (0.25, 0.5, 0.75)]
        return {
            "peak_rss_mb": round(self.peak_rss / mb, 1),
            "rss_at_25_50_75_percent_mb": [round(v / mb, 1) for v in quarter],
            "rss_last_sample_mb": round(samples[-1][1] / mb, 1),
        }


def measure(command: list[str], env: dict[str, str], log: Path) -> Run:
    """Run a command to completion, sampling its RSS and high-water mark every 0.25 s."""
    run = Run()
    with log.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=err)
        watched = psutil.Process(process.pid)
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                with contextlib.suppress(psutil.Error, OSError):
                    run.rss_samples.append((time.perf_counter() - started, watched.memory_info().rss))
                    status = Path(f"/proc/{process.pid}/status").read_text()
                    hwm = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
                    run.peak_rss = max(run.peak_rss, int(hwm.split()[1]) * 1024)
                done.wait(0.25)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, _ = process.communicate()
        run.seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    run.returncode = process.returncode
    run.output = out.decode()
    return run


# ---------------------------------------------------------------------------------------------
# The baseline: parse the same file, write the same rows with COPY
# ---------------------------------------------------------------------------------------------


def _ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


class BareLoader:
    """The same rows as the engine writes, with nothing checked: ids come from dicts in memory."""

    def __init__(self) -> None:
        self.ids: dict[str, dict[str, str]] = {k: {} for k in ("customer", "order")}
        self.order_lines: dict[str, dict[str, int]] = {}  # order id → SKU → unit price
        self.order_customer: dict[str, str] = {}
        self.cancelled: set[str] = set()
        self.counter = 0
        self.now = datetime.now(UTC)
        self.rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        self.returned: dict[tuple[str, str], int] = {}

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter:026d}"

    def add(self, r: dict[str, Any]) -> None:
        kind, rows = r["kind"], self.rows
        if kind == "customer":
            cid = self.ids["customer"][r["id"]] = self.new_id("cus")
            email = r.get("email")
            rows["customers"].append(
                (
                    cid,
                    r["id"],
                    email.lower() if email else None,
                    r.get("name", ""),
                    r.get("phone"),
                    "el",
                    _ts(r.get("created_at")) or self.now,
                )
            )
        elif kind == "product":
            rows["products"].append(
                (
                    r["sku"],
                    r["name"],
                    r.get("category"),
                    r["price"],
                    r["currency"],
                    r.get("weight_g", 0),
                    self.now,
                    self.now,
                )
            )
        elif kind == "location":
            rows["locations"].append(
                (
                    r["code"],
                    r["name"],
                    r["type"],
                    r.get("city"),
                    r.get("postcode"),
                    r.get("country"),
                    r.get("lat"),
                    r.get("lon"),
                    r.get("ships", True),
                    r.get("pickup", False),
                    r.get("priority", 100),
                    self.now,
                )
            )
        elif kind == "order":
            oid = self.ids["order"][r["id"]] = self.new_id("ord")
            self.order_customer[oid] = self.ids["customer"][r["customer_id"]]
            total = sum(ln["qty"] * ln["unit_price"] for ln in r["lines"])
            cancelled = r.get("cancelled_at")
            done = 0 if cancelled else 1
            if cancelled:
                self.cancelled.add(oid)
            rows["orders"].append(
                (
                    oid,
                    r["id"],
                    r["channel"],
                    self.ids["customer"][r["customer_id"]],
                    "cancelled" if cancelled else "delivered",
                    r["currency"],
                    total,
                    0,
                    total,
                    _ts(r["placed_at"]),
                    _ts(r.get("promised_ship_by")),
                    _ts(r.get("promised_delivery_by")),
                    _ts(cancelled),
                    self.now,
                )
            )
            self.order_lines[oid] = {}
            for ln in r["lines"]:
                self.order_lines[oid][ln["sku"]] = ln["unit_price"]
                rows["order_lines"].append(
                    (
                        f"{oid}|{ln['sku']}",
                        oid,
                        ln["sku"],
                        ln["qty"],
                        ln["unit_price"],
                        ln["qty"] * done,
                        ln["qty"] * done,
                    )
                )
        elif kind == "checkout":
            order = r.get("order_id")
            customer = r.get("customer_id")
            rows["checkouts"].append(
                (
                    self.new_id("chk"),
                    r["id"],
                    r["channel"],
                    self.ids["customer"][customer] if customer else None,
                    "[]",
                    _ts(r["started_at"]),
                    self.ids["order"][order] if order else None,
                )
            )
        elif kind == "payment_attempt":
            rows["payment_attempts"].append(
                (
                    self.new_id("att"),
                    f"import:{r['id']}",
                    self.ids["order"][r["order_id"]],
                    r["provider"],
                    r.get("method"),
                    r.get("card_brand"),
                    r.get("funding"),
                    r.get("issuer_bank"),
                    r["amount"],
                    r["currency"],
                    r["status"],
                    r.get("decline_code"),
                    _ts(r["attempted_at"]),
                )
            )
        elif kind == "shipment":
            sid, oid = self.new_id("shp"), self.ids["order"][r["order_id"]]
            attempts = sorted(r.get("attempts", []), key=lambda a: a["at"])
            delivered = r.get("delivered_at") or next(
                (a["at"] for a in reversed(attempts) if a["outcome"] == "delivered"), None
            )
            stamps = [
                _ts(t)
                for t in (r.get("pick_started_at"), r.get("pick_completed_at"), r.get("shipped_at"), delivered)
                if t
            ]
            status = "delivered" if delivered else "in_transit" if r.get("shipped_at") else "pending"
            rows["shipments"].append(
                (
                    sid,
                    r["id"],
                    oid,
                    r["location"],
                    status,
                    r.get("courier"),
                    r.get("tracking_number"),
                    r.get("picker"),
                    _ts(r.get("pick_started_at")),
                    _ts(r.get("pick_completed_at")),
                    r.get("pick_error", False),
                    _ts(r.get("shipped_at")),
                    _ts(delivered),
                    r.get("shipping_cost"),
                    r.get("damaged", False),
                    r.get("docs_ok", True),
                    False,
                    min(stamps, default=self.now),
                    max(stamps, default=self.now),
                )
            )
            for ln in r["lines"]:
                rows["shipment_lines"].append(
                    (f"{sid}|{ln['sku']}", sid, oid, ln["sku"], ln["qty"], ln.get("picked_qty"))
                )
            for number, a in enumerate(attempts, start=1):
                rows["delivery_attempts"].append(
                    (self.new_id("dla"), sid, _ts(a["at"]), a["outcome"], a.get("reason"), number, f"import:{number}")
                )
        elif kind == "picker_shift":
            rows["picker_shifts"].append((self.new_id("shf"), r["picker"], r["date"], r["hours"]))
        elif kind == "inventory_count":
            at = _ts(r["counted_at"])
            assert at is not None
            ref = f"{r['location']}|{r['sku']}|{at.astimezone(UTC).isoformat()}"
            rows["inventory_counts"].append(
                (
                    self.new_id("cnt"),
                    ref,
                    r["location"],
                    r["sku"],
                    r["system_qty"],
                    r["counted_qty"],
                    at,
                    r.get("counted_by"),
                )
            )
        elif kind == "return":
            rid, oid = self.new_id("ret"), self.ids["order"][r["order_id"]]
            received = _ts(r.get("received_at"))
            requested = _ts(r["requested_at"])
            rows["returns"].append(
                (
                    rid,
                    r["id"],
                    oid,
                    self.order_customer[oid],
                    "completed" if received else "requested",
                    "courier",
                    r["lines"][0]["resolution"],
                    "import",
                    requested,
                    requested if received else None,
                    received,
                    received,
                    requested,
                    received or requested,
                )
            )
            for ln in r["lines"]:
                rows["return_lines"].append(
                    (
                        f"{rid}|{ln['sku']}",
                        rid,
                        oid,
                        ln["sku"],
                        ln["qty"],
                        ln["reason"],
                        ln["resolution"],
                        self.order_lines[oid][ln["sku"]],
                        ln["qty"] if received else 0,
                        ln.get("disposition"),
                        ln.get("repair_cost", 0),
                        ln.get("replacement_cost", 0),
                    )
                )
                if received and oid not in self.cancelled:
                    key = (oid, ln["sku"])
                    self.returned[key] = self.returned.get(key, 0) + ln["qty"]


BASELINE_COLUMNS = {
    "customers": ("id", "external_ref", "email", "name", "phone", "locale", "created_at"),
    "products": ("sku", "name", "category", "price_amount", "currency", "weight_g", "created_at", "updated_at"),
    "locations": (
        "code",
        "name",
        "type",
        "city",
        "postcode",
        "country",
        "lat",
        "lon",
        "ships",
        "pickup",
        "priority",
        "created_at",
    ),
    "orders": (
        "id",
        "external_ref",
        "channel",
        "customer_id",
        "status",
        "currency",
        "merchandise_total",
        "shipping_total",
        "grand_total",
        "placed_at",
        "promised_ship_by",
        "promised_delivery_by",
        "cancelled_at",
        "updated_at",
    ),
    "order_lines": ("id", "order_id", "sku", "qty", "unit_price", "qty_shipped", "qty_delivered"),
    "checkouts": ("id", "external_ref", "channel", "customer_id", "lines", "started_at", "order_id"),
    "payment_attempts": (
        "id",
        "external_ref",
        "order_id",
        "provider",
        "method",
        "card_brand",
        "funding",
        "issuer_bank",
        "amount",
        "currency",
        "status",
        "decline_code",
        "attempted_at",
    ),
    "shipments": (
        "id",
        "external_ref",
        "order_id",
        "location",
        "status",
        "courier",
        "tracking_number",
        "picker",
        "pick_started_at",
        "pick_completed_at",
        "pick_error",
        "shipped_at",
        "delivered_at",
        "shipping_cost",
        "damaged",
        "docs_ok",
        "is_return",
        "created_at",
        "updated_at",
    ),
    "shipment_lines": ("id", "shipment_id", "order_id", "sku", "qty", "picked_qty"),
    "delivery_attempts": ("id", "shipment_id", "at", "outcome", "reason", "number", "source_key"),
    "picker_shifts": ("id", "picker", "date", "hours"),
    "inventory_counts": (
        "id",
        "external_ref",
        "location",
        "sku",
        "system_qty",
        "counted_qty",
        "counted_at",
        "counted_by",
    ),
    "returns": (
        "id",
        "external_ref",
        "order_id",
        "customer_id",
        "status",
        "method",
        "resolution",
        "origin",
        "requested_at",
        "decided_at",
        "received_at",
        "completed_at",
        "created_at",
        "updated_at",
    ),
    "return_lines": (
        "id",
        "return_id",
        "order_id",
        "sku",
        "qty",
        "reason",
        "resolution",
        "unit_price",
        "received_qty",
        "disposition",
        "repair_cost",
        "replacement_cost",
    ),
}


async def bare_load(path: Path, dsn: str, batch_size: int) -> int:
    """The baseline loader: a batch of lines per transaction, every table by COPY."""
    conn = await asyncpg.connect(dsn)
    loader = BareLoader()
    decoder = msgspec.json.Decoder()
    records = 0
    pending_picker_shifts: dict[tuple[str, str], tuple[Any, ...]] = {}

    async def flush() -> None:
        async with conn.transaction():
            for table in TABLES:  # the order a batch's references need (customers before orders …)
                rows = loader.rows[table]
                if table == "picker_shifts":  # one row per picker and day, the last line wins
                    for row in rows:
                        pending_picker_shifts[(row[1], row[2])] = row
                    rows = list(pending_picker_shifts.values())
                    pending_picker_shifts.clear()
                if rows:
                    await conn.copy_records_to_table(table, records=rows, columns=BASELINE_COLUMNS[table])
                loader.rows[table] = []
            if loader.returned:
                await conn.execute(
                    "UPDATE order_lines AS ol SET qty_returned = ol.qty_returned + v.n "
                    "FROM unnest($1::text[], $2::text[], $3::int[]) AS v(o, s, n) "
                    "WHERE ol.order_id = v.o AND ol.sku = v.s",
                    [k[0] for k in loader.returned],
                    [k[1] for k in loader.returned],
                    list(loader.returned.values()),
                )
                loader.returned.clear()

    lines = 0
    with path.open("rb") as fh:
        for line in fh:
            if line.strip():
                loader.add(decoder.decode(line))
                records += 1
            lines += 1
            if lines % batch_size == 0:
                await flush()
    await flush()
    await conn.close()
    return records


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + name))


async def table_counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        return {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in TABLES}
    finally:
        await conn.close()


def emporio_command() -> list[str]:
    script = Path(sys.executable).with_name("emporio")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from core.cli import main; main()"]


@contextlib.contextmanager
def databases(admin_url: str, names: list[str], keep: str | None) -> Iterator[None]:
    async def run(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    for name in names:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield
    finally:
        for name in names:
            if name != keep:
                asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--history", type=Path, default=None, help="a JSON Lines history (default: generate 20k orders)"
    )
    parser.add_argument("--batch-size", type=int, default=2000, help="lines per transaction, for both loaders")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--keep-database", default=None, metavar="NAME", help="import into NAME and keep it (for P3)")
    parser.add_argument("--bare-load", nargs=2, metavar=("FILE", "DSN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_load:  # the baseline, in its own process so its memory is measured alone
        print(asyncio.run(bare_load(Path(args.bare_load[0]), args.bare_load[1], args.batch_size)))
        return

    work = Path(tempfile.mkdtemp(prefix="emporio-p4-"))
    history = args.history
    generated = None
    if history is None:
        history = work / "history-20k.jsonl"
        out = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "generate_history.py"), "--orders", "20000", "--out", str(history)],
            check=True,
            capture_output=True,
        )
        generated = json.loads(out.stdout)
    engine_db = args.keep_database or f"emporio_bench_p4_{secrets.token_hex(4)}"
    baseline_db = f"emporio_bench_p4_bare_{secrets.token_hex(4)}"
    engine_dsn, baseline_dsn = (
        with_database(args.database_url, engine_db),
        with_database(args.database_url, baseline_db),
    )
    env = {**os.environ, "EMPORIO_DATA_DIR": str(work), "EMPORIO_LOG_LEVEL": "warning"}
    env.pop("EMPORIO_REDIS_URL", None)

    with databases(args.database_url, [engine_db, baseline_db], args.keep_database):
        engine = measure(
            [*emporio_command(), "import", str(history), "--batch-size", str(args.batch_size)],
            {**env, "EMPORIO_DATABASE_URL": engine_dsn},
            work / "engine.log",
        )
        if engine.returncode != 0:
            raise SystemExit(f"emporio import failed ({engine.returncode}): see {work / 'engine.log'}\n{engine.output}")
        imported = int(engine.output.split("imported ", 1)[1].split(" ", 1)[0])
        # The baseline writes into the engine's schema (same tables, same indexes).
        subprocess.run(
            [*emporio_command(), "migrate"],
            env={**env, "EMPORIO_DATABASE_URL": baseline_dsn},
            check=True,
            capture_output=True,
        )
        baseline = measure(
            [sys.executable, __file__, "--bare-load", str(history), baseline_dsn, "--batch-size", str(args.batch_size)],
            env,
            work / "baseline.log",
        )
        if baseline.returncode != 0:
            raise SystemExit(f"the baseline failed: see {work / 'baseline.log'}")
        bare_records = int(baseline.output.strip())
        engine_rows = asyncio.run(table_counts(engine_dsn))
        baseline_rows = asyncio.run(table_counts(baseline_dsn))

    engine_rate = imported / engine.seconds
    baseline_rate = bare_records / baseline.seconds
    summary = {
        "benchmark": "P4 history import (emporio import, PostgreSQL)",
        "history": str(history),
        "history_bytes": history.stat().st_size,
        **({"generated": generated} if generated else {}),
        "records": imported,
        "batch_size": args.batch_size,
        "cpus": os.cpu_count(),
        "engine": {
            "command": "emporio import FILE",
            "seconds": round(engine.seconds, 1),
            "records_per_s": round(engine_rate),
            **engine.memory(),
        },
        "baseline": {
            "command": "bare Python + asyncpg copy_records_to_table (no checks, ids in memory)",
            "seconds": round(baseline.seconds, 1),
            "records_per_s": round(baseline_rate),
            **baseline.memory(),
        },
        "ratio_engine_to_baseline": round(engine_rate / baseline_rate, 3),
        "same_rows": engine_rows == baseline_rows,
        "rows": engine_rows,
        "target_per_s": TARGET_PER_S,
        "target_met": engine_rate >= TARGET_PER_S,
        "database_kept": args.keep_database,
        "logs": str(work),
    }
    if engine_rows != baseline_rows:
        summary["baseline_rows"] = baseline_rows
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
