"""Walking the MIME tree: which parts are the body (plain and HTML), which are attachments, how each is
decoded. Works on messages parsed with either ``email.policy.default`` or ``compat32``."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import mimetypes
import re
import urllib.parse
from dataclasses import dataclass, field
from email import message_from_bytes
from email.generator import BytesGenerator
from email.message import Message
from email.policy import compat32
from typing import Literal

from plugins.contact_email.charsets import decode_bytes, pretty
from plugins.contact_email.headers import clean_text, decode_header, to_bytes
from plugins.contact_email.model import Attachment, CharsetNote
from plugins.contact_email.quotes import unflow

_PARAM = re.compile(r';\s*([^\s=;*]+)(\*\d+)?(\*)?\s*=\s*("(?:[^"\\]|\\.)*"?|[^;]*)', re.DOTALL)
_UU_BEGIN = re.compile(r"^begin[ \t]+([0-7]{3,4})[ \t]+(\S[^\n]*?)[ \t]*$")
_MAX_DEPTH = 40
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_INNER_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(<[^<>\r\n]{1,500}>)", re.IGNORECASE | re.MULTILINE)
_CID_PLACEHOLDER = re.compile(r"\[cid:[^\]\s]{1,200}\]")

Origin = Literal["mime", "uuencode", "message", "signature"]


@dataclass
class Body:
    """What the walk collected."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[CharsetNote] = field(default_factory=list)
    charsets: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    inner_message_ids: list[str] = field(default_factory=list)


def _raw_header(part: Message, name: str) -> str | None:
    for key, value in part.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def params(raw: str | None) -> dict[str, str]:
    """Parameters of a Content-Type / Content-Disposition value, RFC 2231 sections joined, the extended
    (``name*=charset''...``) forms percent-decoded with the charset fallbacks of :mod:`charsets`."""
    if not raw:
        return {}
    value = re.sub(r"\r?\n[ \t]", " ", raw)
    semicolon = value.find(";")
    if semicolon < 0:
        return {}
    plain: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[bool, str]]] = {}
    for match in _PARAM.finditer(value[semicolon:]):
        name = match.group(1).lower()
        number = match.group(2)
        extended = match.group(3) is not None
        text = match.group(4).strip()
        if text.startswith('"'):
            text = re.sub(r"\\(.)", r"\1", text[1:-1] if text.endswith('"') and len(text) > 1 else text[1:])
        if number is None and not extended:
            plain.setdefault(name, text)
        else:
            sections.setdefault(name, {})[int(number[1:]) if number else 0] = (extended, text)
    for name, parts in sections.items():
        charset: str | None = None
        data = bytearray()
        for index in sorted(parts):
            extended, text = parts[index]
            if extended:
                if index == sorted(parts)[0] and text.count("'") >= 2:
                    charset, _lang, text = text.split("'", 2)
                data.extend(urllib.parse.unquote_to_bytes(text))
            else:
                data.extend(to_bytes(text))
        plain[name] = _decode_param(bytes(data), charset or None)
    return plain


def _decode_param(data: bytes, charset: str | None) -> str:
    return decode_bytes(data, charset or ("utf-8" if not data.isascii() else None)).text


def safe_filename(name: str | None) -> str | None:
    """A display-safe file name: last path component, no control characters, at most 180 characters."""
    if not name:
        return None
    name = clean_text(name.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    if not name:
        return None
    if len(name) > 180:
        stem, dot, ext = name.rpartition(".")
        name = stem[: 170 - len(ext)] + dot + ext if dot and len(ext) <= 10 else name[:180]
    return name


def filename_of(part: Message, hint: str | None, notes: list[CharsetNote]) -> str | None:
    raw = params(_raw_header(part, "content-disposition")).get("filename")
    if raw is None:
        raw = params(_raw_header(part, "content-type")).get("name")
    if raw is None:
        return None
    if "=?" in raw or any("\udc80" <= ch <= "\udcff" for ch in raw):  # encoded words, raw 8-bit bytes
        raw, more = decode_header(raw, where="attachment name", hint=hint)
        notes.extend(more)
    return safe_filename(raw)


def _ensure_ext(name: str, ext: str) -> str:
    return name if name.lower().endswith(ext) else name + ext


def make_attachment(
    data: bytes,
    content_type: str,
    filename: str | None,
    *,
    index: int,
    content_id: str | None = None,
    inline: bool = False,
    origin: Origin = "mime",
) -> Attachment:
    if not filename:
        ext = mimetypes.guess_extension(content_type, strict=False) or ".bin"
        filename = f"attachment-{index}{ext}"
    return Attachment(
        filename=filename,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        content_id=content_id,
        inline=inline,
        origin=origin,
    )


def payload_bytes(part: Message) -> bytes:
    """The decoded (base64 / quoted-printable / uuencode) bytes of a leaf part; raw bytes when decoding fails."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # broken transfer encodings; fall back to the raw payload
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return to_bytes(raw) if isinstance(raw, str) else b""


def _lenient_b64(data: bytes) -> bytes:
    compact = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    compact = compact[: len(compact) - len(compact) % 4 if len(compact) % 4 == 1 else len(compact)]
    try:
        return base64.b64decode(compact + b"=" * (-len(compact) % 4))
    except (binascii.Error, ValueError):
        return data


def message_bytes(message: Message, *, body_only: bool = False) -> bytes:
    """A (sub)message serialised as it came, headers unfolded as they were."""
    buffer = io.BytesIO()
    try:
        BytesGenerator(buffer, mangle_from_=False, maxheaderlen=0, policy=compat32).flatten(message)
        data = buffer.getvalue()
    except Exception:  # a generator failure must not lose the part: keep its text
        data = to_bytes(str(message.get_payload()))
        body_only = False
    if body_only:
        for sep in (b"\r\n\r\n", b"\n\n"):
            at = data.find(sep)
            if at >= 0:
                return data[at + len(sep) :]
    return data


def extract_uuencoded(text: str, start_index: int) -> tuple[str, list[Attachment]]:
    """Uuencoded files (``begin 644 name`` … ``end``) found in a text body, and the text without them."""
    if "begin" not in text:
        return text, []
    lines = text.split("\n")
    out: list[str] = []
    found: list[Attachment] = []
    i = 0
    while i < len(lines):
        match = _UU_BEGIN.match(lines[i].rstrip("\r"))
        end = None
        if match:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "end"), None)
        if match is None or end is None:
            out.append(lines[i])
            i += 1
            continue
        data = bytearray()
        ok = True
        for line in lines[i + 1 : end]:
            line = line.rstrip("\r")
            if not line or line in {"`", " "}:
                continue
            try:
                data.extend(binascii.a2b_uu(line))
            except binascii.Error:
                try:  # broken encoders pad lines wrongly; decode the length the line announces
                    nbytes = (((ord(line[0]) - 32) & 63) * 4 + 5) // 3
                    data.extend(binascii.a2b_uu(line[:nbytes]))
                except (binascii.Error, IndexError):
                    ok = False
                    break
        if not ok:
            out.append(lines[i])
            i += 1
            continue
        name = safe_filename(match.group(2)) or f"attachment-{start_index + len(found)}.bin"
        content_type = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
        index = start_index + len(found)
        found.append(make_attachment(bytes(data), content_type, name, index=index, origin="uuencode"))
        i = end + 1
    return "\n".join(out), found


class Walker:
    """Collects the body and the attachments of a parsed message."""

    def __init__(self, hint: str | None = None) -> None:
        self.hint = hint
        self.body = Body()

    def _note(self, where: str, declared: str | None, used: str, reason: str) -> None:
        self.body.notes.append(CharsetNote(where=where, declared=declared, used=used, reason=reason))

    def _attach(self, attachment: Attachment) -> None:
        self.body.attachments.append(attachment)

    def _next_index(self) -> int:
        return len(self.body.attachments) + 1

    def walk(self, part: Message, path: str = "1", depth: int = 0) -> None:
        ctype = part.get_content_type()
        self.body.content_types.append(ctype)
        maintype = ctype.split("/", 1)[0]
        if depth > _MAX_DEPTH:
            return
        if maintype == "message":
            self._message(part, ctype)
        elif part.is_multipart():
            children = [c for c in part.get_payload() if isinstance(c, Message)]
            if ctype == "multipart/alternative":
                self._alternative(children, path, depth)
            elif ctype == "multipart/signed" and children:
                self.walk(children[0], f"{path}.1", depth + 1)
                for n, child in enumerate(children[1:], start=2):
                    self._leaf_attachment(child, origin="signature", path=f"{path}.{n}")
            else:
                for n, child in enumerate(children, start=1):
                    self.walk(child, f"{path}.{n}", depth + 1)
        elif maintype == "multipart":  # boundary missing or never found: read it as text
            self._text(part, "text/plain", path)
        else:
            self._leaf(part, ctype, path, top=depth == 0)

    def _alternative(self, children: list[Message], path: str, depth: int) -> None:
        plain: list[str] = []
        html: list[str] = []
        for n, child in enumerate(children, start=1):
            ctype = child.get_content_type()
            if not child.is_multipart() and ctype not in {"text/plain", "text/html"}:
                continue  # text/enriched, text/watch-html, calendar twins: other renderings, not files
            sub = Walker(self.hint)
            sub.walk(child, f"{path}.{n}", depth + 1)
            if sub.body.plain and any(s.strip() for s in sub.body.plain) and not plain:
                plain = sub.body.plain
            if sub.body.html:
                html = sub.body.html
            for att in sub.body.attachments:
                self._attach(att)
            self.body.inner_message_ids.extend(sub.body.inner_message_ids)
            self.body.notes.extend(sub.body.notes)
            self.body.charsets.extend(sub.body.charsets)
            self.body.content_types.extend(sub.body.content_types)
        self.body.plain.extend(plain)
        self.body.html.extend(html)

    def _message(self, part: Message, ctype: str) -> None:
        if ctype in {"message/rfc822", "message/global"}:
            inner = part.get_payload()
            inner_message = inner[0] if isinstance(inner, list) and inner and isinstance(inner[0], Message) else None
            if inner_message is None:
                data = payload_bytes(part)
                subject = None
            else:
                data = message_bytes(inner_message)
                cte = (_raw_header(part, "content-transfer-encoding") or "").strip().lower()
                if cte == "base64":  # not allowed for message/rfc822, sent anyway by some clients
                    data = _lenient_b64(data)
                    inner_message = message_from_bytes(data, policy=compat32)
                raw_subject = _raw_header(inner_message, "subject")
                subject = clean_text(decode_header(raw_subject, hint=self.hint)[0]) if raw_subject else None
            name = filename_of(part, self.hint, self.body.notes) or safe_filename(subject) or "message"
            found = _INNER_MESSAGE_ID.search(data.split(b"\n\n", 1)[0] if b"\n\n" in data else data[:65536])
            if found:
                self.body.inner_message_ids.append(found.group(1).decode("ascii", "replace"))
            name = _ensure_ext(name, ".eml")
            self._attach(make_attachment(data, ctype, name, index=self._next_index(), origin="message"))
            return
        data = message_bytes(part, body_only=True) if part.is_multipart() else payload_bytes(part)
        name = filename_of(part, self.hint, self.body.notes) or ctype.split("/", 1)[1] + ".txt"
        self._attach(make_attachment(data, ctype, name, index=self._next_index()))

    def _leaf(self, part: Message, ctype: str, path: str, *, top: bool = False) -> None:
        disposition = (part.get_content_disposition() or "").lower()
        filename = filename_of(part, self.hint, self.body.notes)
        if ctype in {"text/plain", "text/html"} and disposition != "attachment" and (top or not filename):
            self._text(part, ctype, path)
        else:
            self._leaf_attachment(part, origin="mime", path=path, filename=filename)

    def _leaf_attachment(self, part: Message, *, origin: Origin, path: str, filename: str | None = None) -> None:
        ctype = part.get_content_type()
        data = message_bytes(part) if part.is_multipart() else payload_bytes(part)
        if ctype == "text/rfc822-headers":  # the returned message's headers in a bounce
            found = _INNER_MESSAGE_ID.search(data)
            if found:
                self.body.inner_message_ids.append(found.group(1).decode("ascii", "replace"))
            filename = filename or "headers.txt"
        name = filename or filename_of(part, self.hint, self.body.notes)
        if name is None and origin == "signature":
            name = "signature.asc" if "pgp" in ctype else "smime.p7s"
        cid = _raw_header(part, "content-id")
        disposition = (part.get_content_disposition() or "").lower()
        self._attach(
            make_attachment(
                data,
                ctype,
                name,
                index=self._next_index(),
                content_id=cid.strip().strip("<>").strip() if cid else None,
                inline=disposition == "inline" or (disposition == "" and cid is not None),
                origin=origin,
            )
        )

    def _text(self, part: Message, ctype: str, path: str) -> None:
        options = params(_raw_header(part, "content-type"))
        declared = options.get("charset")
        data = payload_bytes(part)
        if not declared and ctype == "text/html":
            meta = _META_CHARSET.search(data[:4096])
            declared = meta.group(1).decode("ascii") if meta else None
        decoded = decode_bytes(data, declared, hint=self.hint)
        if decoded.used not in {"ascii", "utf-8"}:
            self.body.charsets.append(decoded.used)
        if decoded.reason is not None:
            self._note(f"body {path} {ctype}", declared, pretty(decoded.used), decoded.reason)
        text = decoded.text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        if ctype == "text/html":
            self.body.html.append(text)
            return
        if options.get("format", "").lower() == "flowed":
            text = unflow(text, delsp=options.get("delsp", "").lower() == "yes")
        text = _CID_PLACEHOLDER.sub("", text)  # Outlook's stand-ins for inline pictures
        text, files = extract_uuencoded(text, self._next_index())
        for att in files:
            self._attach(att)
        self.body.plain.append(text)
