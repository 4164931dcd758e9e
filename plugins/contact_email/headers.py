"""Header values as real mail has them: encoded words (RFC 2047) in broken or unknown charsets, raw 8-bit
bytes, folded lines, addresses whose names hold commas, message ids without angle brackets."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from plugins.contact_email.charsets import decode_bytes, pretty
from plugins.contact_email.model import Address, CharsetNote

_ENCODED_WORD = re.compile(rb"=\?([^?\s]{1,64})\?([QqBb])\?([^?]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_FOLD = re.compile(rb"\r?\n(?=[ \t])")
_MSGID = re.compile(r"<([^<>]+)>")
_BARE_ADDRESS = re.compile(r"[\w.+'=-]+@[\w-]+(?:\.[\w-]+)+")
_ADDRESS_OK = re.compile(r"^[^\s@<>,;]+(?:@[^\s@<>,;]+)?$")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|antw|rif|r|tr|enc|res|απ|σχετ|πρθ|προώθηση|προωθ)"
    r"\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
    re.IGNORECASE,
)


def to_bytes(value: str) -> bytes:
    """The bytes a header value was parsed from (the email package keeps raw 8-bit bytes as surrogates)."""
    return value.encode("utf-8", "surrogateescape")


def _word_bytes(encoding: bytes, payload: bytes) -> bytes:
    if encoding in b"Bb":
        compact = re.sub(rb"\s+", b"", payload).rstrip(b"=")
        if len(compact) % 4 == 1:
            compact = compact[:-1]
        try:
            return base64.b64decode(compact + b"=" * (-len(compact) % 4))
        except (binascii.Error, ValueError):
            return payload
    return _QP_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), payload.replace(b"_", b" "))


def decode_header(raw: str | bytes, *, where: str = "header", hint: str | None = None) -> tuple[str, list[CharsetNote]]:
    """Decode one header value: unfold, decode encoded words (adjacent words of one charset are joined
    before decoding, so characters split across words survive) and raw 8-bit text. Never raises."""
    data = raw if isinstance(raw, bytes) else to_bytes(raw)
    data = _FOLD.sub(b"", data).replace(b"\r", b"").replace(b"\n", b"")
    notes: list[CharsetNote] = []
    out: list[str] = []
    pending: tuple[str, bytearray] | None = None  # charset, joined bytes of adjacent encoded words

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            out.append(_decode_piece(bytes(pending[1]), pending[0], where, hint, notes))
            pending = None

    pos = 0
    for match in _ENCODED_WORD.finditer(data):
        between = data[pos : match.start()]
        if between and not (pending is not None and between.isspace()):
            flush()
            out.append(_decode_piece(between, None, where, hint, notes))
        charset = match.group(1).decode("ascii", "replace").split("*", 1)[0].lower()
        chunk = _word_bytes(match.group(2), match.group(3))
        if pending is not None and pending[0] != charset:
            flush()
        if pending is None:
            pending = (charset, bytearray())
        pending[1].extend(chunk)
        pos = match.end()
    flush()
    if pos < len(data):
        out.append(_decode_piece(data[pos:], None, where, hint, notes))
    return "".join(out), notes


def _decode_piece(data: bytes, charset: str | None, where: str, hint: str | None, notes: list[CharsetNote]) -> str:
    if charset is None and data.isascii():
        return data.decode("ascii")
    decoded = decode_bytes(data, charset, hint=hint)
    if charset is None and decoded.used == "utf-8":
        pass  # raw UTF-8 headers are standard (RFC 6532): nothing needed a fallback
    elif decoded.reason is not None or charset is None:
        reason = decoded.reason or "raw 8-bit header"
        notes.append(CharsetNote(where=where, declared=charset, used=pretty(decoded.used), reason=reason))
    return decoded.text.replace("\x00", "")


def clean_text(value: str) -> str:
    """Collapse whitespace and drop control characters of a decoded header."""
    value = "".join(ch if ch.isprintable() or ch in " \t" else " " for ch in value)
    return " ".join(value.split())


def parse_addresses(values: Iterable[str], *, where: str, hint: str | None, notes: list[CharsetNote]) -> list[Address]:
    """Mailboxes of address headers; names decoded after splitting, so encoded commas do not split them."""
    found: list[Address] = []
    raw_values = [re.sub(r"\r?\n[ \t]", " ", v) for v in values]
    try:
        pairs = getaddresses(raw_values)
    except Exception:  # the address parser has raised on odd input in some Python releases
        pairs = []
    for name, addr in pairs:
        addr = addr.strip().strip("<>").strip()
        if addr and not _ADDRESS_OK.match(addr):
            name, addr = f"{name} {addr}".strip(), ""
        if not addr:
            continue
        address = decode_header(addr, where=where, hint=hint)[0].strip().lower() if not addr.isascii() else addr.lower()
        display: str | None = None
        if name:
            text, more = decode_header(name, where=where, hint=hint)
            notes.extend(more)
            display = clean_text(text).strip("\"' ") or None
        found.append(Address(address=address, name=display))
    if not found:
        for value in raw_values:
            for addr in _BARE_ADDRESS.findall(value):
                found.append(Address(address=addr.lower()))
    unique: dict[str, Address] = {}
    for a in found:
        unique.setdefault(a.address, a)
    return list(unique.values())


def message_ids(value: str | None) -> list[str]:
    """Message ids in a Message-ID / In-Reply-To / References value, as ``<id>``, in order, without repeats."""
    if not value:
        return []
    text = re.sub(r"\s+", " ", value.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    ids = ["<" + re.sub(r"\s+", "", m) + ">" for m in _MSGID.findall(text) if m.strip()]
    if not ids:
        ids = ["<" + t.strip("<>()[],;\"'") + ">" for t in text.split() if "@" in t and t.strip("<>()[],;\"'")]
    seen: dict[str, None] = {}
    for i in ids:
        seen.setdefault(i, None)
    return list(seen)


def parse_date(value: str | None) -> datetime | None:
    """A Date header as an aware UTC datetime; None when missing or unreadable."""
    if not value:
        return None
    text = " ".join(value.encode("utf-8", "surrogateescape").decode("ascii", "replace").split())
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def clean_subject(subject: str, token_span: tuple[int, int] | None) -> str:
    """The subject without reply/forward prefixes (English and Greek) and without the case token."""
    if token_span is not None:
        subject = subject[: token_span[0]] + " " + subject[token_span[1] :]
    previous = None
    while previous != subject:
        previous = subject
        subject = _REPLY_PREFIX.sub("", subject).strip()
    return " ".join(subject.split())
