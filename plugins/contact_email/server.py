"""The inbound SMTP server (aiosmtpd) on the engine's own event loop: mail for the support
addresses becomes case messages.

The answers are what a sending server needs to never lose a mail: `550` at RCPT for addresses
that are not ours (the sender bounces it at once), `552` for a mail over EMPORIO_MAIL_MAX_BYTES
(SIZE is declared in EHLO, and a declared or actual size above it is refused), `250` only once
the message is committed, and `451` when it could not be (database down): nothing is kept, and
the sender tries again later — the same Message-ID is then stored once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from core.runtime import Runtime
from plugins.contact_email import settings as mail_settings
from plugins.contact_email.intake import store_mail
from plugins.contact_email.settings import InboundSettings, Listen

log = structlog.get_logger("emporio.mail")

# Real-world mail has lines far past RFC 5321's 1,000 octets (HTML without a newline); a mail
# is never refused only for being odd, while the size limit still bounds memory.
LINE_LENGTH_LIMIT = 1 << 20
IDLE_TIMEOUT_S = 300.0


class _LenientSMTP(SMTP):
    line_length_limit = LINE_LENGTH_LIMIT


class SupportMailbox:
    """The aiosmtpd handler: who may receive (`handle_RCPT`) and storing what arrives
    (`handle_DATA`)."""

    def __init__(self, runtime: Runtime, addresses: tuple[str, ...], max_bytes: int) -> None:
        if not addresses:
            raise ValueError(
                "the inbound SMTP server needs EMPORIO_SUPPORT_ADDRESSES: set it to the addresses customers "
                "write to, e.g. EMPORIO_SUPPORT_ADDRESSES=support@shop.gr"
            )
        self.runtime = runtime
        self.addresses = frozenset(a.lower() for a in addresses)
        self.first_address = addresses[0]
        self.max_bytes = max_bytes

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() not in self.addresses:
            return f"550 5.1.1 <{address}>: no such mailbox here; write to {self.first_address}"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content if envelope.original_content is not None else envelope.content
        if isinstance(raw, str):  # only with decode_data, which this server never sets
            raw = raw.encode("utf-8", "surrogateescape")
        data = bytes(raw or b"")
        if len(data) > self.max_bytes:
            return f"552 5.3.4 Message too big: at most {self.max_bytes} bytes here; send large files as a link"
        mail_from = envelope.mail_from if isinstance(envelope.mail_from, str) else None
        try:
            stored = await store_mail(self.runtime, data, envelope_from=mail_from)
        except Exception as exc:  # the transaction rolled back: the sender keeps the mail and retries
            log.warning("mail.deferred", error=f"{type(exc).__name__}: {exc}"[:300], size=len(data))
            return "451 4.3.0 Temporary failure storing the message; nothing was kept, please try again later"
        received = stored.received
        log.info(
            "mail.received",
            message_id=stored.mail_message_id,
            case=received.case_number,
            new_case=received.new_case,
            duplicate=received.duplicate,
            size=len(data),
        )
        already = "already " if received.duplicate else ""
        return f"250 2.0.0 Ok: {already}stored as {received.message_id}"


class InboundServer:
    """aiosmtpd's protocol served by the running loop (aiosmtpd's Controller would start a
    thread and loop of its own, apart from the engine's database pool)."""

    def __init__(self, runtime: Runtime, settings: InboundSettings, *, hostname: str | None = None) -> None:
        if settings.listen is None:
            raise ValueError("the inbound SMTP server needs EMPORIO_SMTP_LISTEN=host:port, e.g. 127.0.0.1:2525")
        self.listen = settings.listen
        self.handler = SupportMailbox(runtime, settings.addresses, settings.max_bytes)
        self.max_bytes = settings.max_bytes
        # The greeting names a host; the support domain avoids a slow reverse DNS lookup.
        self.hostname = hostname or self.handler.first_address.rpartition("@")[2]
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()

    def _protocol(self) -> SMTP:
        protocol = _LenientSMTP(
            self.handler,
            data_size_limit=self.max_bytes,
            enable_SMTPUTF8=True,
            hostname=self.hostname,
            ident="Emporio",
            timeout=IDLE_TIMEOUT_S,
            loop=asyncio.get_running_loop(),
        )
        self._sessions.add(protocol)
        return protocol

    async def start(self) -> Listen:
        """Listen; returns the address bound (a port 0 becomes the free port taken)."""
        # aiosmtpd logs every command and address at INFO; mail.received / mail.deferred say what matters.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, host=self.listen.host, port=self.listen.port)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.listen = Listen(str(host), int(port))
        log.info("mail.listening", address=str(self.listen), accepts=sorted(self.handler.addresses))
        return self.listen

    async def stop(self) -> None:
        """Stop listening and drop open sessions: a mail not yet answered `250` is not stored
        (its transaction rolls back) and its sender retries."""
        if self._server is None:
            return
        self._server.close()
        for session in list(self._sessions):
            if session.transport is not None:
                session.transport.close()
        await self._server.wait_closed()
        self._server = None


@contextlib.asynccontextmanager
async def serving(runtime: Runtime, settings: InboundSettings | None = None) -> AsyncIterator[Listen | None]:
    """The inbound server while the block runs, if EMPORIO_SMTP_LISTEN is set (yields None if
    not). For the API lifespan, the worker or `emporio mail serve`."""
    settings = settings or mail_settings.inbound()
    if settings.listen is None:
        yield None
        return
    server = InboundServer(runtime, settings)
    address = await server.start()
    try:
        yield address
    finally:
        await server.stop()
