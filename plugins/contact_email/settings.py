"""The email channel's EMPORIO_* settings, declared once (`register_settings`) and read with
`core.settings.read` when they are needed, so the worker picks up the outbound server and the
inbound server its addresses without anything cached at import."""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import msgspec

from core.settings import SettingSpec, read

DEFAULT_MAX_BYTES: Final = 10 * 1024 * 1024
DEMO_SUPPORT_ADDRESS: Final = "support@emporio.test"


class Listen(msgspec.Struct, frozen=True):
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


class SmtpServer(msgspec.Struct, frozen=True, kw_only=True):
    """Where replies leave: `smtp://` (STARTTLS when the server offers it) or `smtps://` (TLS from
    the first byte, usually port 465)."""

    host: str
    port: int
    username: str | None = None
    password: str | None = None
    implicit_tls: bool = False

    def __repr__(self) -> str:  # never shows the password
        return f"SmtpServer({self.host}:{self.port}, user={self.username!r}, tls={self.implicit_tls})"


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise ValueError("must end in a port number between 0 and 65535")
    return int(text)


def parse_listen(raw: str) -> Listen:
    """`host:port` or `[ipv6]:port`; port 0 takes any free port (tests)."""
    host, sep, port = raw.rpartition(":")
    if not sep or not host:
        raise ValueError("must be host:port, e.g. 127.0.0.1:2525 or 0.0.0.0:25")
    return Listen(host.removeprefix("[").removesuffix("]"), _port(port))


def _address(raw: str) -> str:
    address = raw.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address):
        raise ValueError(f"must be mail addresses such as support@shop.gr separated by commas ({raw.strip()!r} is not)")
    return address


def parse_addresses(raw: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_address(part) for part in raw.split(",") if part.strip()))


def _max_bytes(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1024:
        raise ValueError("must be a whole number of bytes, at least 1024")
    return int(raw)


def parse_smtp_url(raw: str) -> SmtpServer:
    parts = urlsplit(raw)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("must look like smtp://user:password@host:587 (or smtps://… for TLS on connect)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has a port that is not a number between 0 and 65535") from None
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if parts.scheme == "smtps" else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        implicit_tls=parts.scheme == "smtps",
    )


def _mail_from(raw: str) -> str:
    _address(parseaddr(raw)[1])
    return raw


SMTP_LISTEN: SettingSpec[Listen | None] = SettingSpec(
    name="EMPORIO_SMTP_LISTEN",
    type=str,
    default=None,
    doc="host:port where the engine receives support mail over SMTP (unset: no inbound server)",
    parse=parse_listen,
    default_text="(off)",
)
SUPPORT_ADDRESSES: SettingSpec[tuple[str, ...]] = SettingSpec(
    name="EMPORIO_SUPPORT_ADDRESSES",
    type=tuple,
    default=(),
    doc="comma-separated addresses the inbound SMTP server accepts mail for (others: 550 at RCPT)",
    parse=parse_addresses,
    default_text="(none; the demo's is support@emporio.test)",
)
MAIL_MAX_BYTES: SettingSpec[int] = SettingSpec(
    name="EMPORIO_MAIL_MAX_BYTES",
    type=int,
    default=DEFAULT_MAX_BYTES,
    doc="largest inbound mail in bytes, declared in EHLO SIZE; larger ones are refused with 552",
    parse=_max_bytes,
    default_text="10485760 (10 MB)",
)
SMTP_URL: SettingSpec[SmtpServer | None] = SettingSpec(
    name="EMPORIO_SMTP_URL",
    type=str,
    default=None,
    doc="outbound mail server for replies, smtp://user:pass@host:port (STARTTLS when offered) or smtps://",
    secret=True,
    parse=parse_smtp_url,
    default_text="(unset: email replies fail; the demo's mail catcher)",
)
MAIL_FROM: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_MAIL_FROM",
    type=str,
    default=None,
    doc="From of email replies, `Shop <support@shop.gr>` (default: the first support address)",
    parse=_mail_from,
)

SETTINGS: tuple[SettingSpec[Any], ...] = (SMTP_LISTEN, SUPPORT_ADDRESSES, MAIL_MAX_BYTES, SMTP_URL, MAIL_FROM)


class InboundSettings(msgspec.Struct, frozen=True, kw_only=True):
    listen: Listen | None
    addresses: tuple[str, ...]
    max_bytes: int


def inbound(environ: Mapping[str, str] | None = None) -> InboundSettings:
    return InboundSettings(
        listen=read(SMTP_LISTEN, environ),
        addresses=read(SUPPORT_ADDRESSES, environ),
        max_bytes=read(MAIL_MAX_BYTES, environ),
    )


def sender(environ: Mapping[str, str] | None = None) -> str | None:
    """The From of replies: EMPORIO_MAIL_FROM, else the first support address."""
    configured = read(MAIL_FROM, environ)
    if configured:
        return configured
    addresses = read(SUPPORT_ADDRESSES, environ)
    return addresses[0] if addresses else None
