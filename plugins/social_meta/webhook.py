"""Reading Meta's webhook notifications: `{"object": "page"|"instagram", "entry": [{"id", "time",
"messaging": [{sender, recipient, timestamp, message}]}]}`.

Only a person's own messages become `InboundMessage`s. Echoes of the Page's messages
(`message.is_echo`), delivery and read receipts, reactions, postbacks, deleted and unsupported
messages are counted as ignored. Each `messaging` item is read on its own, so one item of a shape
we do not know is skipped (and logged) without losing the others of the same delivery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import structlog

log = structlog.get_logger("emporio.social_meta")

PLATFORMS = {"page": "messenger", "instagram": "instagram"}
MAX_TEXT = 20_000  # Messenger caps text at 2,000 characters; anything far beyond is not a person typing


class Party(msgspec.Struct, frozen=True):
    id: str


class Attachment(msgspec.Struct, frozen=True, kw_only=True):
    type: str = "file"
    payload: dict[str, Any] | None = None


class ReplyTo(msgspec.Struct, frozen=True, kw_only=True):
    mid: str | None = None


class Message(msgspec.Struct, frozen=True, kw_only=True):
    mid: str
    text: str | None = None
    is_echo: bool = False
    is_deleted: bool = False
    is_unsupported: bool = False
    attachments: list[Attachment] = msgspec.field(default_factory=list)
    reply_to: ReplyTo | None = None


class Messaging(msgspec.Struct, frozen=True, kw_only=True):
    sender: Party
    recipient: Party
    timestamp: int | None = None
    message: Message | None = None


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    id: str = ""
    messaging: list[msgspec.Raw] = msgspec.field(default_factory=list)


class Notification(msgspec.Struct, frozen=True, kw_only=True):
    object: str
    entry: list[Entry] = msgspec.field(default_factory=list)


class InboundMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A person's message to the shop, as the desk stores it."""

    platform: str  # "messenger" | "instagram"
    page_id: str
    user_id: str  # PSID or IGSID
    mid: str
    body: str
    sent_at: datetime
    reply_to_mid: str | None = None


class Reading(msgspec.Struct, kw_only=True):
    messages: list[InboundMessage] = msgspec.field(default_factory=list)
    ignored: int = 0


class Unreadable(ValueError):
    """The body is not a webhook notification at all (not JSON, no `object`)."""


def _body(message: Message) -> str:
    """The text, then one line per attachment: its kind and its link (kept as a link; the files
    stay at Meta, whose URLs the agent can open)."""
    lines = [message.text.replace("\x00", "").strip()] if message.text else []
    for attachment in message.attachments:
        payload = attachment.payload or {}
        url = payload.get("url")
        lines.append(f"[{attachment.type}] {url}" if isinstance(url, str) and url else f"[{attachment.type}]")
    return "\n".join(line for line in lines if line)[:MAX_TEXT]


def _inbound(platform: str, item: Messaging, received_at: datetime) -> InboundMessage | None:
    message = item.message
    if message is None or message.is_echo or message.is_deleted or message.is_unsupported:
        return None
    body = _body(message)
    if not body or not message.mid:
        return None
    sent_at = received_at
    if item.timestamp is not None:
        # Meta's time (ms) starts the messaging window; never later than we heard of it.
        try:
            sent_at = min(datetime.fromtimestamp(item.timestamp / 1000, tz=UTC), received_at)
        except (OverflowError, OSError, ValueError):
            sent_at = received_at
    return InboundMessage(
        platform=platform,
        page_id=item.recipient.id,
        user_id=item.sender.id,
        mid=message.mid,
        body=body,
        sent_at=sent_at,
        reply_to_mid=message.reply_to.mid if message.reply_to else None,
    )


def read_notification(raw: bytes, received_at: datetime) -> Reading:
    """The people's messages in a (signature-checked) webhook body; raise Unreadable when the body
    is not a notification."""
    try:
        notification = msgspec.json.decode(raw, type=Notification)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise Unreadable(f"the body is not a Meta webhook notification: {exc}") from None
    reading = Reading()
    platform = PLATFORMS.get(notification.object)
    if platform is None:  # a subscription to other objects (feed changes…) is not ours to read
        reading.ignored = sum(max(1, len(entry.messaging)) for entry in notification.entry)
        log.info("social_meta.other_object", object=notification.object)
        return reading
    for entry in notification.entry:
        for raw_item in entry.messaging:
            try:
                item = msgspec.json.decode(raw_item, type=Messaging)
            except (msgspec.DecodeError, RecursionError) as exc:
                log.warning("social_meta.unreadable_event", entry=entry.id, error=str(exc))
                reading.ignored += 1
                continue
            inbound = _inbound(platform, item, received_at)
            if inbound is None:
                reading.ignored += 1
            else:
                reading.messages.append(inbound)
    return reading
