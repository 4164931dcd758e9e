"""The demo's mail catcher: an SMTP server (aiosmtpd) that keeps every mail it is given in the
data dir instead of delivering it, so the demo's replies can be read under /ops
(`GET /v1/mail/outbox`) without a mail account. Never used when EMPORIO_SMTP_URL is set."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from aiosmtpd.smtp import SMTP, Envelope, Session

from plugins.contact_email.inbound import read_message
from plugins.contact_email.settings import Listen

CATCHER_DIR = "mail-catcher"
MAX_BYTES = 50 * 1024 * 1024
START_TIMEOUT_S = 10.0


class CaughtMail(msgspec.Struct, frozen=True, kw_only=True):
    """One mail as the catcher got it: the envelope, the headers threading depends on, and the
    text (what /ops shows)."""

    id: str
    caught_at: datetime
    envelope_from: str
    envelope_to: list[str]
    sender: str | None
    to: list[str]
    subject: str
    message_id: str
    in_reply_to: str | None
    references: list[str]
    text: str
    size: int


class MailCatcher:
    """The aiosmtpd handler: every mail is written to `directory` as `<id>.eml` beside its
    envelope (`<id>.json`), ids sorting in the order the mails came."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        mail_id = f"{time.time_ns():020d}-{hashlib.sha256(raw).hexdigest()[:12]}"
        meta = {"envelope_from": envelope.mail_from or "", "envelope_to": list(envelope.rcpt_tos)}
        await asyncio.to_thread(self._write, mail_id, bytes(raw), meta)
        return f"250 2.0.0 Ok: caught as {mail_id}"

    def _write(self, mail_id: str, raw: bytes, meta: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / f"{mail_id}.json").write_text(json.dumps(meta), encoding="utf-8")
        partial = self.directory / f"{mail_id}.eml.part"
        partial.write_bytes(raw)
        partial.replace(self.directory / f"{mail_id}.eml")  # readers see a whole mail or none


def caught(directory: Path, *, limit: int = 50) -> list[CaughtMail]:
    """The newest `limit` mails the catcher kept, newest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in sorted(directory.glob("*.eml"), reverse=True)[:limit]:
        meta_path = path.with_suffix(".json")
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        raw = path.read_bytes()
        mail = read_message(raw, order_pattern=None)
        stamp = path.stem.partition("-")[0]
        found.append(
            CaughtMail(
                id=path.stem,
                caught_at=datetime.fromtimestamp(int(stamp) / 1e9, UTC) if stamp.isdigit() else datetime.now(UTC),
                envelope_from=str(meta.get("envelope_from", "")),
                envelope_to=[str(a) for a in meta.get("envelope_to", [])],
                sender=mail.from_address,
                to=[a.address for a in mail.to],
                subject=mail.subject,
                message_id=mail.message_id,
                in_reply_to=mail.in_reply_to,
                references=mail.references,
                text=mail.text,
                size=len(raw),
            )
        )
    return found


@contextlib.contextmanager
def smtp_in_thread(handler: object, listen: Listen, *, max_bytes: int = MAX_BYTES) -> Iterator[Listen]:
    """Serve `handler` over SMTP on a thread with its own event loop (for a process whose own
    loop is not running yet, such as `emporio serve --demo` before uvicorn starts); port 0
    takes a free port. Yields the address bound."""
    loop = asyncio.new_event_loop()
    bound: list[Listen] = []
    failed: list[BaseException] = []
    ready = threading.Event()

    def factory() -> SMTP:
        return SMTP(handler, data_size_limit=max_bytes, enable_SMTPUTF8=True, hostname="mail-catcher", loop=loop)

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            server = loop.run_until_complete(loop.create_server(factory, host=listen.host, port=listen.port))
            host, port = server.sockets[0].getsockname()[:2]
            bound.append(Listen(str(host), int(port)))
        except BaseException as exc:  # reported to the starting thread
            failed.append(exc)
            ready.set()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            loop.run_until_complete(server.wait_closed())
            loop.close()

    thread = threading.Thread(target=run, name=f"smtp-{listen}", daemon=True)
    thread.start()
    if not ready.wait(START_TIMEOUT_S):
        raise RuntimeError(f"the SMTP server on {listen} did not start within {START_TIMEOUT_S:g} s")
    if failed:
        raise failed[0]
    try:
        yield bound[0]
    finally:
        stop: Callable[[], None] = loop.stop
        loop.call_soon_threadsafe(stop)
        thread.join(START_TIMEOUT_S)
