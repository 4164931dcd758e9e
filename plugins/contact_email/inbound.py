"""Reading one inbound mail into what the service desk stores: ids for threading, decoded headers, the
plain text, sanitised HTML, the customer's new words, attachments, and whether a person wrote it.

``read_message`` never raises on mail input: odd mail is decoded as well as it can be, and what needed a
fallback is said in ``charset_notes`` and ``parse_notes``.
"""

from __future__ import annotations

import hashlib
import re
from email import policy
from email.message import Message
from email.parser import BytesParser

from plugins.contact_email.autoreply import classify
from plugins.contact_email.charsets import canonical, decode_bytes
from plugins.contact_email.headers import (
    clean_subject,
    clean_text,
    decode_header,
    message_ids,
    parse_addresses,
    parse_date,
)
from plugins.contact_email.html import read_html
from plugins.contact_email.mime import Walker, params
from plugins.contact_email.model import Address, Attachment, CharsetNote, InboundMail
from plugins.contact_email.quotes import split_reply

DEFAULT_CASE_TOKEN = r"\[#(\d+)\]"
DEFAULT_ORDER_PATTERN = r"(?<![\w#-])(?:ORD-?|#)?\d{5,}(?!\w)"
SYNTHETIC_DOMAIN = "synthetic.emporio.invalid"

_HEADER_LINE = re.compile(rb"^([!-9;-~]+)[ \t]*:")
_SPACED_NAME = re.compile(rb"^([!-9;-~]+)[ \t]+:", re.MULTILINE)
_KNOWN = frozenset(
    b"received return-path from to cc bcc subject date message-id mime-version delivered-to content-type "
    b"content-transfer-encoding dkim-signature authentication-results reply-to sender in-reply-to references "
    b"user-agent thread-topic thread-index envelope-to auto-submitted precedence importance list-id "
    b"list-unsubscribe arc-seal arc-message-signature arc-authentication-results received-spf "
    b"content-language accept-language organization".split()
)
_SCAN_LIMIT = 64 * 1024
_BOUNDARY_LINE = re.compile(rb"^--", re.MULTILINE)
_MAX_MODERN_PARTS = 1000
_WORD_CHARSET = re.compile(r"=\?([^?\s*]{1,40})[^?\s]{0,20}\?[QqBb]\?")

Pattern = str | re.Pattern[str]


def synthetic_message_id(raw: bytes) -> str:
    """The stable id of a mail that has none: the SHA-256 of its raw bytes."""
    return f"<{hashlib.sha256(raw).hexdigest()}@{SYNTHETIC_DOMAIN}>"


def header_start(raw: bytes) -> int:
    """Offset of the first header line: skips an mbox ``From `` line, blank lines and garbage before the
    headers. -1 when no header is found near the start (the whole input is then read as a body)."""
    offset = 0
    lines = raw[:_SCAN_LIMIT].splitlines(keepends=True)
    for index, line in enumerate(lines):
        match = _HEADER_LINE.match(line)
        if match:
            name = match.group(1).lower()
            following = lines[index + 1] if index + 1 < len(lines) else b""
            if name in _KNOWN or name.startswith(b"x-") or _HEADER_LINE.match(following) or following[:1] in b" \t":
                return offset
        offset += len(line)
    return -1


def _compile(pattern: Pattern | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    return pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)


def _value(match: re.Match[str]) -> str:
    return (match.group(1) if match.re.groups and match.group(1) else match.group(0)).strip()


def read_message(
    raw: bytes | bytearray | memoryview,
    *,
    case_token_pattern: Pattern = DEFAULT_CASE_TOKEN,
    order_pattern: Pattern | None = DEFAULT_ORDER_PATTERN,
) -> InboundMail:
    """Read one mail as received (the bytes of the SMTP DATA). Never raises on mail input.

    ``case_token_pattern`` finds the desk's case token in the subject (group 1, or the whole match, is
    the case number); ``order_pattern`` finds order numbers in the subject and the text (None: none).
    """
    data = bytes(raw)
    case_re = case_token_pattern if isinstance(case_token_pattern, re.Pattern) else re.compile(case_token_pattern)
    order_re = _compile(order_pattern)
    notes: list[str] = []
    start = header_start(data)
    if start < 0:
        body = b"\n" + data
        notes.append("no header lines found: the whole input was read as the body")
    else:
        body = data[start:]
        if start:
            notes.append(f"skipped {start} bytes before the first header line")
    end = min((i for i in (body.find(b"\n\n"), body.find(b"\r\n\r\n")) if i >= 0), default=len(body))
    head = body[:end]
    if _SPACED_NAME.search(head):
        body = _SPACED_NAME.sub(rb"\1:", head) + body[end:]
        notes.append("header names with spaces before the colon were repaired")
    failures: list[str] = []
    policies = [("default", policy.default), ("compat32", policy.compat32)]
    if len(_BOUNDARY_LINE.findall(body)) > _MAX_MODERN_PARTS:
        policies = policies[1:]  # the modern policy parses each part's headers at length: too slow for thousands
        notes.append("many MIME parts: read with the compat32 policy")
    for name, chosen in policies:
        try:
            message = BytesParser(policy=chosen).parsebytes(body)
            mail = _extract(data, message, case_re, order_re, [*notes, *failures])
        except Exception as exc:  # the modern policy raises on some real-world headers; compat32 is lenient
            failures.append(f"policy {name} failed: {type(exc).__name__}: {exc}"[:300])
            continue
        return mail
    return _last_resort(data, [*notes, *failures])


def _headers(message: Message) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in message.raw_items():
        headers.setdefault(str(name).strip().lower(), []).append(str(value))
    return headers


def _header_charset(headers: dict[str, list[str]]) -> str | None:
    """A legacy charset named by the encoded words of the main headers: a hint for undeclared bodies."""
    for name in ("subject", "from", "to"):
        for value in headers.get(name, []):
            for label in _WORD_CHARSET.findall(value):
                if canonical(label) not in {None, "ascii", "utf-8"}:
                    return str(label)
    return None


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None


def _extract(
    raw: bytes,
    message: Message,
    case_re: re.Pattern[str],
    order_re: re.Pattern[str] | None,
    parse_notes: list[str],
) -> InboundMail:
    headers = _headers(message)
    walker = Walker(hint=_header_charset(headers))
    walker.walk(message)
    body = walker.body
    hint = next((c for c in body.charsets if canonical(c) not in {None, "ascii", "utf-8"}), None)
    charset_notes: list[CharsetNote] = list(body.notes)

    def header(name: str, label: str) -> str:
        value = _first(headers, name)
        if value is None:
            return ""
        text, more = decode_header(value, where=f"header {label}", hint=hint)
        charset_notes.extend(more)
        return clean_text(text)

    subject = header("subject", "Subject")
    senders = parse_addresses(headers.get("from", [])[:1], where="header From", hint=hint, notes=charset_notes)
    sender: Address | None = senders[0] if senders else None
    to = parse_addresses(headers.get("to", []), where="header To", hint=hint, notes=charset_notes)
    cc = parse_addresses(headers.get("cc", []), where="header Cc", hint=hint, notes=charset_notes)
    reply_to = parse_addresses(headers.get("reply-to", []), where="header Reply-To", hint=hint, notes=charset_notes)
    if sender is None and "from" in headers:
        parse_notes.append("From header without a readable address")

    ids = message_ids(_first(headers, "message-id"))
    synthetic = not ids
    message_id = ids[0] if ids else synthetic_message_id(raw)
    in_reply_to_ids = message_ids(_first(headers, "in-reply-to"))
    references = [i for v in headers.get("references", []) for i in message_ids(v)]

    plain = "\n\n".join(p.strip("\n") for p in body.plain if p.strip())
    html_source = "\n".join(body.html)
    html_text, html_sanitised = "", None
    if html_source.strip():
        html_text, html_sanitised, too_deep = read_html(html_source)
        if too_deep:
            parse_notes.append("HTML nested too deeply to sanitise: shown as text")
    text = (plain if plain.strip() else html_text).strip("\n")
    reply = split_reply(text)
    new_text = reply.new

    token = case_re.search(subject)
    case_token = _value(token) if token else None
    report_type = params(_first(headers, "content-type")).get("report-type")
    auto_kind, auto_reason = classify(
        headers,
        content_types=body.content_types,
        report_type=report_type,
        from_address=sender.address if sender else None,
        from_name=sender.name if sender else None,
        subject=subject,
    )
    orders: dict[str, None] = {}
    if order_re is not None:
        subject_rest = case_re.sub(" ", subject)
        for source in (subject_rest, case_re.sub(" ", new_text), case_re.sub(" ", reply.history)):
            for match in order_re.finditer(source):
                orders.setdefault(_value(match), None)
    attachments = _dedupe(body.attachments)
    return InboundMail(
        message_id=message_id,
        message_id_synthetic=synthetic,
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else None,
        references=list(dict.fromkeys(references)),
        subject=subject,
        clean_subject=clean_subject(subject, token.span() if token else None),
        from_address=sender.address if sender else None,
        from_name=sender.name if sender else None,
        reply_to=reply_to,
        to=to,
        cc=cc,
        date=parse_date(_first(headers, "date")),
        case_token=case_token,
        order_numbers=list(orders),
        text=text,
        html_sanitised=html_sanitised,
        new_text=new_text,
        attachments=attachments,
        auto_kind=auto_kind,
        auto_reason=auto_reason,
        original_message_id=body.inner_message_ids[0] if auto_kind == "bounce" and body.inner_message_ids else None,
        charset_notes=charset_notes,
        parse_notes=parse_notes,
        raw_size=len(raw),
    )


def _dedupe(attachments: list[Attachment]) -> list[Attachment]:
    seen: set[tuple[str, str]] = set()
    unique: list[Attachment] = []
    for att in attachments:
        key = (att.filename, att.sha256)
        if key not in seen:
            seen.add(key)
            unique.append(att)
    return unique


def _last_resort(raw: bytes, parse_notes: list[str]) -> InboundMail:
    """When no parser could read the mail: keep its text so a person can."""
    decoded = decode_bytes(raw, None)
    text = decoded.text.replace("\r\n", "\n").replace("\x00", "")
    return InboundMail(
        message_id=synthetic_message_id(raw),
        message_id_synthetic=True,
        in_reply_to=None,
        references=[],
        subject="",
        clean_subject="",
        from_address=None,
        from_name=None,
        reply_to=[],
        to=[],
        cc=[],
        date=None,
        case_token=None,
        order_numbers=[],
        text=text,
        html_sanitised=None,
        new_text=text,
        attachments=[],
        auto_kind=None,
        auto_reason=None,
        original_message_id=None,
        charset_notes=[],
        parse_notes=[*parse_notes, "read as plain text"],
        raw_size=len(raw),
    )
