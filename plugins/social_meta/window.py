"""Meta's messaging window and message sizes, as pure rules.

A Page may answer a person freely (`messaging_type: RESPONSE`) within 24 hours of that person's
last message; after that and up to 7 days a human agent may still answer with `messaging_type:
MESSAGE_TAG` and `tag: HUMAN_AGENT`; beyond 7 days nothing may be sent until the person writes
again. Messenger takes up to 2,000 characters of text a message, Instagram up to 1,000 bytes
(UTF-8), so a longer reply goes out as several messages, cut between words.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import msgspec

RESPONSE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
MAX_CHARS = 2_000
MAX_INSTAGRAM_BYTES = 1_000
_PIECES = re.compile(r"\S+\s*|\s+")


class Permission(msgspec.Struct, frozen=True, kw_only=True):
    messaging_type: str  # "RESPONSE" | "MESSAGE_TAG"
    tag: str | None = None  # "HUMAN_AGENT" with MESSAGE_TAG


RESPONSE = Permission(messaging_type="RESPONSE")
HUMAN_AGENT = Permission(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")


def permission(last_inbound_at: datetime | None, now: datetime) -> Permission | None:
    """How a reply may be sent `now` to a person who last wrote at `last_inbound_at`; None when
    it may not be sent at all."""
    if last_inbound_at is None:
        return None
    age = now - last_inbound_at
    if age <= RESPONSE_WINDOW:
        return RESPONSE
    if age <= HUMAN_AGENT_WINDOW:
        return HUMAN_AGENT
    return None


def _fits(text: str, platform: str) -> bool:
    return _size(text, platform) <= (MAX_INSTAGRAM_BYTES if platform == "instagram" else MAX_CHARS)


def _size(text: str, platform: str) -> int:
    return len(text.encode()) if platform == "instagram" else len(text)


def _hard_cut(piece: str, platform: str) -> list[str]:
    """A word longer than a message (a long link): cut it by characters."""
    limit = MAX_INSTAGRAM_BYTES if platform == "instagram" else MAX_CHARS
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for char in piece:
        width = _size(char, platform)
        if size + width > limit:
            parts.append("".join(current))
            current.clear()
            size = 0
        current.append(char)
        size += width
    return [*parts, "".join(current)] if current else parts


def parts_of(text: str, platform: str) -> list[str]:
    """The reply as the messages that carry it, in order; each within the platform's limit."""
    text = text.strip()
    if _fits(text, platform):
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for piece in _PIECES.findall(text):
        if _fits(current + piece, platform):
            current += piece
            continue
        if current.strip():
            parts.append(current.strip())
        current = ""
        if _fits(piece, platform):
            current = piece
        else:
            *whole, current = _hard_cut(piece, platform)
            parts.extend(p.strip() for p in whole if p.strip())
    if current.strip():
        parts.append(current.strip())
    return parts
