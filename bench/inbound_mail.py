"""P7: inbound mail per second, SMTP DATA to a committed case message, against a bare baseline.

The engine's inbound SMTP server (plugins/contact_email/server.py, aiosmtpd on the engine's
loop, `core.service.contacts.receive` in a unit of work, events handed to Redis after the commit)
is loaded by N concurrent senders over persistent SMTP connections — half new questions, half
replies threading to the sender's previous mail with the quote below — for `--seconds` after a
warm-up. Then the same load goes to the baseline in the same run: a bare aiosmtpd handler that
parses the headers with the standard library and writes the same rows with raw SQL (customer,
case with its number, message, the raw mail kept content-addressed with its attachment row, the
outbox events) in one transaction. The load runs in a separate process so the server has its
own core.

    python bench/inbound_mail.py [--seconds 10 --senders 20]
        [--database-url postgresql://postgres@127.0.0.1:5432/test | --no-postgres] [--no-sqlite]

Runs on the embedded default (SQLite + embedded Redis in a temporary data dir) and, when it is
reachable, on a fresh PostgreSQL database (created and dropped). Prints one JSON summary: for
each database, mails/s, p50 and p99 for the engine and the baseline, the server's CPU time per
mail, their throughput ratio (target ≥ 0.5) and whether every acknowledged mail was stored
exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUPPORT = "support@emporio.test"
WARMUP_S = 2.0
QUOTE = "\n".join(f"> Γραμμή {n} της προηγούμενης απάντησης μας για την παραγγελία σας." for n in range(12))
BODY = (
    "Καλησπέρα σας,\n\nπαρήγγειλα πριν από μία εβδομάδα δύο μπουκάλια ελαιόλαδο και ένα μέλι θυμαρίσιο, "
    "αλλά δεν έχω λάβει ακόμα κανένα μήνυμα για την αποστολή. Μπορείτε να μου πείτε πότε θα έρθει;\n\n"
    "Ευχαριστώ εκ των προτέρων.\n\n-- \nΜαρία Παπαδοπούλου\n+30 697 123 4567\n"
)


def mail(tag: str, sender: int, number: int) -> tuple[str, bytes]:
    """The k-th mail of one sender: a new question (even k) or a reply to the previous one."""
    message_id = f"<{tag}.{sender}.{number}@client.example.gr>"
    headers = [
        f"From: =?utf-8?b?zpzOsc+Bzq/OsQ==?= <c{sender}.{tag}@example.gr>",
        f"To: Support <{SUPPORT}>",
        "Date: Tue, 12 Mar 2024 12:20:00 +0200",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    if number % 2 == 0:
        headers.append(f"Subject: Ερώτηση για την παραγγελία {number}")
        body = BODY
    else:
        parent = f"<{tag}.{sender}.{number - 1}@client.example.gr>"
        headers += [f"Subject: Re: Ερώτηση για την παραγγελία {number - 1}", f"In-Reply-To: {parent}"]
        headers.append(f"References: {parent}")
        body = f"Ευχαριστώ πολύ, περιμένω.\n\nΣτις Τρί 12 Μαρ 2024 στις 10:15, ο/η Support έγραψε:\n{QUOTE}\n"
    return message_id, ("\r\n".join(headers) + "\r\n\r\n" + body.replace("\n", "\r\n")).encode()


# ---------------------------------------------------------------------------------------------
# The load (its own process): N senders on persistent SMTP connections
# ---------------------------------------------------------------------------------------------


async def load(port: int, seconds: float, senders: int, tag: str) -> dict[str, Any]:
    import aiosmtplib

    latencies: list[float] = []
    errors: list[str] = []
    acknowledged: list[str] = []
    started = time.perf_counter()
    measure_from, stop_at = started + WARMUP_S, started + WARMUP_S + seconds

    async def sender(index: int) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60, start_tls=False)
        await client.connect()
        number = 0
        while time.perf_counter() < stop_at:
            message_id, raw = mail(tag, index, number)
            begun = time.perf_counter()
            try:
                await client.sendmail(f"c{index}.{tag}@example.gr", [SUPPORT], raw)
            except aiosmtplib.SMTPException as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])
                await asyncio.sleep(0.05)
                continue
            acknowledged.append(message_id)
            if begun >= measure_from:
                latencies.append(time.perf_counter() - begun)
            number += 1
        await client.quit()

    await asyncio.gather(*(sender(i) for i in range(senders)))
    return {"acknowledged": acknowledged, "latencies": latencies, "errors": errors[:5], "error_count": len(errors)}


def figures(result: dict[str, Any], seconds: float, stored: int, cpu_s: float) -> dict[str, Any]:
    latencies = sorted(result["latencies"])
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "mails_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(quantiles[49] * 1000, 1),
        "p99_ms": round(quantiles[98] * 1000, 1),
        "acknowledged": len(result["acknowledged"]),
        # The server's own CPU per mail: steadier than mails/s on a shared, noisy machine.
        "server_cpu_ms_per_mail": round(cpu_s * 1000 / max(len(result["acknowledged"]), 1), 2),
        "errors": result["error_count"],
        "first_errors": result["errors"],
        "stored_once": stored == len(result["acknowledged"]),
    }


async def run_load(port: int, args: argparse.Namespace, tag: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--load", str(port), "--tag", tag]
    command += ["--seconds", str(args.seconds), "--senders", str(args.senders)]
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"the load process failed ({process.returncode})")
    return json.loads(out)  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# The baseline: a bare aiosmtpd handler writing the same rows with raw SQL
# ---------------------------------------------------------------------------------------------


class RawSql:
    """One transaction at a time on SQLite (one connection, IMMEDIATE), a pool on PostgreSQL."""

    def __init__(self, url: str | None, sqlite_path: Path) -> None:
        self.url, self.sqlite_path = url, sqlite_path
        self.pool: Any = None
        self.sqlite: Any = None
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        if self.url:
            import asyncpg

            self.pool = await asyncpg.create_pool(self.url, min_size=2, max_size=20)
        else:
            import aiosqlite

            self.sqlite = await aiosqlite.connect(self.sqlite_path, isolation_level=None)
            for pragma in ("journal_mode = WAL", "busy_timeout = 60000", "synchronous = NORMAL", "foreign_keys = ON"):
                await self.sqlite.execute(f"PRAGMA {pragma}")

    async def stop(self) -> None:
        if self.pool is not None:
            await self.pool.close()
        if self.sqlite is not None:
            await self.sqlite.close()

    async def transaction(self, work: Any) -> Any:
        if self.pool is not None:
            async with self.pool.acquire() as connection, connection.transaction():
                return await work(lambda sql, *a: connection.fetch(_numbered(sql), *a))
        async with self.lock:
            await self.sqlite.execute("BEGIN IMMEDIATE")
            try:
                result = await work(self._sqlite_fetch)
            except BaseException:
                await self.sqlite.execute("ROLLBACK")
                raise
            await self.sqlite.execute("COMMIT")
            return result

    async def _sqlite_fetch(self, sql: str, *args: Any) -> list[Any]:
        cursor = await self.sqlite.execute(sql.replace("{}", "?"), [_sqlite(a) for a in args])
        return list(await cursor.fetchall())

    async def count(self, like: str) -> int:
        async def work(fetch: Any) -> int:
            rows = await fetch("SELECT count(*) FROM case_messages WHERE message_id LIKE {}", like)
            return int(rows[0][0])

        return int(await self.transaction(work))


def _numbered(sql: str) -> str:
    parts = sql.split("{}")
    return "".join(part + (f"${n}" if n < len(parts) else "") for n, part in enumerate(parts, start=1))


def _sqlite(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(13)}"


class BaselineHandler:
    def __init__(self, db: RawSql, data_dir: Path) -> None:
        self.db, self.data_dir = db, data_dir

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address.lower() != SUPPORT:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw: bytes = envelope.original_content
        headers = BytesParser(policy=compat32).parsebytes(raw)
        message_id = (headers["Message-ID"] or "").strip() or f"<{hashlib.sha256(raw).hexdigest()}@synthetic>"
        name, address = parseaddr(str(headers["From"] or ""))
        in_reply_to = (headers["In-Reply-To"] or "").strip() or None
        payload = headers.get_payload(decode=True)
        body = payload.decode("utf-8", "replace").split("\n-- \n")[0] if isinstance(payload, bytes) else ""
        digest = hashlib.sha256(raw).hexdigest()
        relative = Path("attachments") / digest[:2] / digest[2:4] / digest
        target = self.data_dir / relative
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(raw)
        now = datetime.now(UTC)

        async def work(fetch: Any) -> None:
            if await fetch("SELECT id FROM case_messages WHERE message_id = {}", message_id):
                return
            rows = await fetch("SELECT id FROM customers WHERE email = {}", address.lower())
            customer = rows[0][0] if rows else _id("cus")
            if not rows:
                await fetch(
                    "INSERT INTO customers (id, email, name, locale, created_at) VALUES ({}, {}, {}, 'el', {})",
                    customer,
                    address.lower(),
                    name or address,
                    now,
                )
            parent = await fetch("SELECT case_id FROM case_messages WHERE message_id = {}", in_reply_to)
            case = parent[0][0] if parent else _id("cas")
            if parent:
                await fetch("UPDATE cases SET status = 'open', updated_at = {} WHERE id = {}", now, case)
            else:
                number = await fetch(
                    "UPDATE service_sequences SET value = value + 1 WHERE name = 'case_number' RETURNING value"
                )
                await fetch(
                    "INSERT INTO cases (id, number, customer_id, status, channel, subject, channels, created_at, "
                    "updated_at) VALUES ({}, {}, {}, 'new', 'email', {}, '[\"email\"]', {}, {})",
                    case,
                    number[0][0],
                    customer,
                    str(headers["Subject"] or ""),
                    now,
                    now,
                )
                await _event(fetch, "case.created", case, customer, now)
            message = _id("msg")
            await fetch(
                "INSERT INTO case_messages (id, case_id, direction, channel, author, body, message_id, in_reply_to, "
                "created_at) VALUES ({}, {}, 'in', 'email', 'customer', {}, {}, {}, {})",
                message,
                case,
                body,
                message_id,
                in_reply_to,
                now,
            )
            await fetch(
                "INSERT INTO case_attachments (id, message_id, filename, content_type, size, sha256, storage_path, "
                "created_at) VALUES ({}, {}, 'original.eml', 'message/rfc822', {}, {}, {}, {})",
                _id("att"),
                message,
                len(raw),
                digest,
                str(relative),
                now,
            )
            await _event(fetch, "case.message_received", case, customer, now)

        await self.db.transaction(work)
        return "250 2.0.0 Ok"


async def _event(fetch: Any, kind: str, case: str, customer: str, now: datetime) -> None:
    await fetch(
        "INSERT INTO events (id, type, occurred_at, customer_id, subject_type, subject_id, payload) "
        "VALUES ({}, {}, {}, {}, 'case', {}, {})",
        _id("evt"),
        kind,
        now,
        customer,
        case,
        "{}",
    )


# ---------------------------------------------------------------------------------------------
# One database: the engine, then the baseline, on the same tables
# ---------------------------------------------------------------------------------------------


async def measure(label: str, database_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    from aiosmtpd.smtp import SMTP

    from core.runtime import Runtime
    from core.settings import load_settings
    from plugins.contact_email.server import InboundServer
    from plugins.contact_email.settings import InboundSettings, Listen

    data_dir = Path(tempfile.mkdtemp(prefix=f"p7-{label}-"))
    environ = {"EMPORIO_DATA_DIR": str(data_dir), "EMPORIO_QUEUE_NAME": f"p7:{uuid.uuid4().hex[:8]}"}
    if database_url:
        environ["EMPORIO_DATABASE_URL"] = database_url
    runtime = Runtime(settings=load_settings(environ))
    await runtime.start()
    settings = InboundSettings(listen=Listen("127.0.0.1", 0), addresses=(SUPPORT,), max_bytes=10 * 1024 * 1024)
    engine = InboundServer(runtime, settings)
    address = await engine.start()
    print(f"[{label}] engine on {address}", file=sys.stderr)
    cpu = time.process_time()
    engine_load = await run_load(address.port, args, f"e{label}")
    engine_cpu = time.process_time() - cpu
    await engine.stop()
    raw_sql = RawSql(database_url, runtime.settings.sqlite_path)
    await raw_sql.start()
    engine_stored = await raw_sql.count(f"<e{label}.%")

    loop = asyncio.get_running_loop()
    handler = BaselineHandler(raw_sql, data_dir)
    server = await loop.create_server(lambda: SMTP(handler, loop=loop, hostname="baseline"), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"[{label}] baseline on 127.0.0.1:{port}", file=sys.stderr)
    cpu = time.process_time()
    baseline_load = await run_load(port, args, f"b{label}")
    baseline_cpu = time.process_time() - cpu
    server.close()
    await server.wait_closed()
    baseline_stored = await raw_sql.count(f"<b{label}.%")
    await raw_sql.stop()
    await runtime.stop()

    result = {
        "engine": figures(engine_load, args.seconds, engine_stored, engine_cpu),
        "baseline": figures(baseline_load, args.seconds, baseline_stored, baseline_cpu),
    }
    ratio = result["engine"]["mails_per_s"] / max(result["baseline"]["mails_per_s"], 0.1)
    result["throughput_ratio"] = round(ratio, 2)
    result["met"] = ratio >= 0.5 and result["engine"]["stored_once"] and result["baseline"]["stored_once"]
    return result


async def fresh_database(base: str, prefix: str = "bench_p7") -> str | None:
    """A new database beside `base`'s (None, said on stderr, when PostgreSQL does not answer)."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = await asyncpg.connect(base, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL not reachable ({exc}); skipping it", file=sys.stderr)
        return None
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return urlunparse(urlparse(base)._replace(path="/" + name))


async def drop_database(base: str, url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(base)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path[1:]}" WITH (FORCE)')
    finally:
        await admin.close()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    from core.logging import configure_logging

    configure_logging("warning")  # a log line per mail would be measured too; stdout is the summary's
    summary: dict[str, Any] = {"benchmark": "P7 inbound mail", "senders": args.senders, "seconds": args.seconds}
    summary["sqlite"] = {"skipped": "--no-sqlite"} if args.no_sqlite else await measure("sqlite", None, args)
    if args.no_postgres:
        summary["postgresql"] = {"skipped": "--no-postgres"}
    else:
        url = await fresh_database(args.database_url)
        if url is None:
            summary["postgresql"] = {"skipped": "not reachable"}
        else:
            try:
                summary["postgresql"] = await measure("postgres", url, args)
            finally:
                await drop_database(args.database_url, url)
    return summary


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only (e.g. to profile it)")
    parser.add_argument("--load", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="x", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.load:
        print(json.dumps(asyncio.run(load(arguments.load, arguments.seconds, arguments.senders, arguments.tag))))
    else:
        print(json.dumps(asyncio.run(main(arguments)), indent=2))
