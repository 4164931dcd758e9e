"""Mail plumbing for the email channel's tests: building mails, sending them with `smtplib`
(the standard library's client, on a thread so the server on the test's loop can answer), and
an SMTP sink (aiosmtpd) standing in for the shop's outbound mail server."""

from __future__ import annotations

import asyncio
import email
import smtplib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import default as default_policy
from typing import Any, NamedTuple

from aiosmtpd.smtp import SMTP, Envelope, Session

from plugins.contact_email.settings import Listen

SUPPORT = "support@emporio.test"
MARIA = ("Μαρία Παπαδοπούλου", "maria@example.gr")


def build_mail(
    subject: str,
    body: str,
    *,
    sender: tuple[str, str] | None = MARIA,
    to: str = SUPPORT,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    mail = EmailMessage(policy=SMTP_POLICY)
    if sender is not None:
        mail["From"] = email.utils.formataddr(sender)
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = "Tue, 12 Mar 2024 12:20:00 +0200"
    if message_id:
        mail["Message-ID"] = message_id
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
    if references:
        mail["References"] = " ".join(references)
    for name, value in (headers or {}).items():
        mail[name] = value
    mail.set_content(body, charset="utf-8")
    if html is not None:
        mail.add_alternative(html, subtype="html", charset="utf-8")
    return mail.as_bytes()


class Answer(NamedTuple):
    """Where the SMTP conversation ended and the server's last answer."""

    stage: str  # MAIL, RCPT or DATA
    code: int
    text: str


def smtp_send(
    server: Listen,
    raw: bytes,
    *,
    to: tuple[str, ...] = (SUPPORT,),
    mail_from: str = MARIA[1],
    declared_size: int | None = None,
) -> Answer:
    """One mail over SMTP with smtplib, stopping at the first refusal."""
    with smtplib.SMTP(server.host, server.port, timeout=120) as client:
        client.ehlo("client.example.gr")
        code, text = client.mail(mail_from, [f"SIZE={declared_size}"] if declared_size else [])
        if code != 250:
            return Answer("MAIL", code, text.decode())
        for rcpt in to:
            code, text = client.rcpt(rcpt)
            if code not in (250, 251):
                return Answer("RCPT", code, text.decode())
        try:
            code, text = client.data(raw)
        except smtplib.SMTPDataError as exc:
            error = exc.smtp_error
            return Answer("DATA", exc.smtp_code, error.decode() if isinstance(error, bytes) else error)
        return Answer("DATA", code, text.decode())


async def send(server: Listen, raw: bytes, **options: Any) -> Answer:
    return await asyncio.to_thread(smtp_send, server, raw, **options)


class Sink:
    """An SMTP server keeping what it is given; `refuse_rcpt` / `refuse_data` make it answer
    with that line instead (e.g. "550 5.1.1 no such user", "451 4.3.0 try later")."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse_rcpt: str | None = None
        self.refuse_data: str | None = None

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_data:
            return self.refuse_data
        self.received.append(
            (str(envelope.mail_from), list(envelope.rcpt_tos), bytes(envelope.original_content or b""))
        )
        return "250 OK"

    @property
    def mails(self) -> list[EmailMessage]:
        return [email.message_from_bytes(raw, policy=default_policy) for _, _, raw in self.received]

    def reset(self) -> None:
        self.received.clear()
        self.refuse_rcpt = self.refuse_data = None


@asynccontextmanager
async def running_sink() -> AsyncIterator[tuple[Sink, Listen]]:
    """The sink on the running loop, on a free port of 127.0.0.1."""
    sink, loop = Sink(), asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, hostname="sink.test", loop=loop), "127.0.0.1", 0)
    try:
        yield sink, Listen("127.0.0.1", server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()
