"""Agents' replies by email through EMPORIO_SMTP_URL (aiosmtplib; STARTTLS when offered).

The reply carries what makes the customer's answer thread back into the same case: a
`Message-ID` derived from our message id (a retry sends the same id, so a mail delivered twice
is one mail to the customer's client, never two different ones), `In-Reply-To`/`References`
from the conversation, and the `[#number]` token in the subject. A 5xx answer is permanent
(the reply is marked failed, an agent sees it); a connection error or 4xx is retried by the worker.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, parseaddr

import aiosmtplib

from core.hookspecs.contact import ChannelSendFailed, DeliveryReceipt, OutboundReply
from core.settings import read
from plugins.contact_email import settings as mail_settings
from plugins.contact_email.settings import SMTP_URL

SEND_TIMEOUT_S = 30.0
MAX_REFERENCES = 20  # the first id and the newest ones, as RFC 5322 suggests trimming long threads
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|sv|απ|σχετ|προσ)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_TOKEN = re.compile(r"\s*\[#\d+\]\s*")


def reply_subject(subject: str, case_number: int) -> str:
    """`Re: <subject> [#<number>]`, however often the subject went back and forth."""
    base = _REPLY_PREFIX.sub("", _TOKEN.sub(" ", subject)).strip()
    return f"Re: {base} [#{case_number}]" if base else f"Re: [#{case_number}]"


def message_id_for(our_id: str, sender_address: str) -> str:
    """The mail's Message-ID for our message id: the same on every try."""
    domain = sender_address.rpartition("@")[2] or "emporio.invalid"
    return f"<{our_id}@{domain}>"


def _references(reply: OutboundReply, own: str) -> list[str]:
    ids = [i for i in dict.fromkeys(reply.references) if i != own]
    if reply.in_reply_to and reply.in_reply_to not in ids:
        ids.append(reply.in_reply_to)
    return ids if len(ids) <= MAX_REFERENCES else [ids[0], *ids[-(MAX_REFERENCES - 1) :]]


def compose(reply: OutboundReply, sender: str, *, now: datetime | None = None) -> EmailMessage:
    """The reply as a text/plain UTF-8 mail."""
    if not reply.customer_email:
        raise ChannelSendFailed(
            f"case #{reply.case_number}: the customer has no email address; answer on another channel",
            permanent=True,
        )
    sender_name, sender_address = parseaddr(sender)
    message = EmailMessage(policy=SMTP_POLICY)
    own_id = message_id_for(reply.message_id, sender_address)
    message["From"] = formataddr((sender_name, sender_address)) if sender_name else sender_address
    message["To"] = formataddr((reply.customer_name, reply.customer_email))
    message["Subject"] = reply_subject(reply.subject, reply.case_number)
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = own_id
    if reply.in_reply_to:
        message["In-Reply-To"] = reply.in_reply_to
    references = _references(reply, own_id)
    if references:
        message["References"] = " ".join(references)
    message["Content-Language"] = reply.locale
    message.set_content(reply.body, charset="utf-8")
    return message


def _permanent(code: int) -> bool:
    return 500 <= code < 600


async def transmit(message: EmailMessage, *, about: str) -> None:
    """Hand one mail to EMPORIO_SMTP_URL (STARTTLS when offered). Raises ChannelSendFailed,
    permanent for a 5xx answer; `about` names what the mail is for in the error ("case #10042").
    Also sends mail that is not a case reply (the feedback plugin's surveys)."""
    server = read(SMTP_URL)
    if server is None:
        raise ChannelSendFailed(
            f"{about}: EMPORIO_SMTP_URL is not set, so mail cannot leave; set it to smtp://user:pass@host:port",
            permanent=True,
        )
    try:
        await aiosmtplib.send(
            message,
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.implicit_tls,
            start_tls=False if server.implicit_tls else None,  # None: STARTTLS when the server offers it
            timeout=SEND_TIMEOUT_S,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refused.code for refused in exc.recipients]
        detail = "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
        raise ChannelSendFailed(
            f"{about}: {server.host} refused the customer's address: {detail}",
            permanent=bool(codes) and all(_permanent(c) for c in codes),
        ) from exc
    except aiosmtplib.SMTPResponseException as exc:
        raise ChannelSendFailed(
            f"{about}: {server.host} answered {exc.code} {exc.message}", permanent=_permanent(exc.code)
        ) from exc
    except (aiosmtplib.SMTPException, OSError) as exc:  # refused, reset, timed out: try again later
        raise ChannelSendFailed(
            f"{about}: cannot reach {server.host}:{server.port}: {type(exc).__name__}: {exc}"
        ) from exc


class EmailChannel:
    """The `email` contact channel (`register_contact_channels`)."""

    code = "email"
    name = "Email"

    async def send(self, reply: OutboundReply) -> DeliveryReceipt:
        server = read(SMTP_URL)
        if server is None:
            raise ChannelSendFailed(
                "EMPORIO_SMTP_URL is not set, so email replies cannot leave; set it to smtp://user:pass@host:port "
                "and send the reply again",
                permanent=True,
            )
        sender = mail_settings.sender()
        if sender is None:
            raise ChannelSendFailed(
                "no From address for email replies: set EMPORIO_MAIL_FROM or EMPORIO_SUPPORT_ADDRESSES", permanent=True
            )
        if (reply.customer_email or "").lower().endswith(".invalid"):
            raise ChannelSendFailed(
                f"case #{reply.case_number}: the mail had no usable sender address, so there is nobody to email; "
                "answer on another channel",
                permanent=True,
            )
        message = compose(reply, sender)
        await transmit(message, about=f"case #{reply.case_number}")
        return DeliveryReceipt(external_id=str(message["Message-ID"]))
