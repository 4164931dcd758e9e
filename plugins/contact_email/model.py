"""The shapes the inbound-mail reader returns (msgspec frozen Structs, safe to encode as JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

AutoKind = Literal["bounce", "auto_reply"]


class Address(msgspec.Struct, frozen=True, kw_only=True):
    """One mailbox of an address header; ``address`` is lower-cased, ``name`` decoded (None when absent)."""

    address: str
    name: str | None = None


class Attachment(msgspec.Struct, frozen=True, kw_only=True):
    """A file carried by the mail: MIME parts, uuencoded blocks, attached messages (``.eml``), signatures."""

    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes
    content_id: str | None = None
    inline: bool = False
    origin: Literal["mime", "uuencode", "message", "signature"] = "mime"


class CharsetNote(msgspec.Struct, frozen=True, kw_only=True):
    """A part or header whose declared charset could not be used as is.

    ``where`` names it (``body 1.2 text/plain``, ``header Subject``), ``declared`` is the label the mail gave
    (None when it gave none), ``used`` the codec that decoded it, ``reason`` why.
    """

    where: str
    declared: str | None
    used: str
    reason: str


class InboundMail(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service desk needs from one inbound mail.

    Message ids (``message_id``, ``in_reply_to``, ``references``, ``original_message_id``) keep their angle
    brackets: ``<id@host>``. ``original_message_id`` is, for a bounce, the id of the returned message (from the
    attached original or its headers), so a bounce threads to the case of the mail that bounced.
    """

    message_id: str
    message_id_synthetic: bool
    in_reply_to: str | None
    references: list[str]
    subject: str
    clean_subject: str
    from_address: str | None
    from_name: str | None
    reply_to: list[Address]
    to: list[Address]
    cc: list[Address]
    date: datetime | None
    case_token: str | None
    order_numbers: list[str]
    text: str
    html_sanitised: str | None
    new_text: str
    attachments: list[Attachment]
    auto_kind: AutoKind | None
    auto_reason: str | None
    original_message_id: str | None
    charset_notes: list[CharsetNote]
    parse_notes: list[str]
    raw_size: int
