"""What the Meta simulator remembers: the Page and its Instagram account, the people writing to
them, every conversation's messages, the Send API calls made, faults to inject and its clock.

The Send API enforces what Meta does: a valid Page token (and `appsecret_proof` when given), a
known recipient, `messaging_type`, the text limits, and the messaging window — `RESPONSE`/`UPDATE`
within 24 hours of the person's last message, `MESSAGE_TAG` + `HUMAN_AGENT` up to 7 days, else
error #10 subcode 2018278. All in memory, behind one lock (requests arrive on the server's thread
while a test reads from its own).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DAY_MS = 24 * 3600 * 1000
WINDOW_MS = {"RESPONSE": DAY_MS, "UPDATE": DAY_MS}
HUMAN_AGENT_MS = 7 * DAY_MS
FAULT_KINDS = ("reset_after_send", "reset_before_send", "error_2", "rate_limit")


class GraphFailure(Exception):
    """A Graph error answer: HTTP status and Meta's error object."""

    def __init__(self, status: int, code: int, message: str, *, subcode: int | None = None, kind: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "error": {
                "message": message,
                "type": kind or ("OAuthException" if code in (10, 100, 190, 200) else "GraphMethodException"),
                "code": code,
                "fbtrace_id": secrets.token_urlsafe(8),
            }
        }
        if subcode is not None:
            self.body["error"]["error_subcode"] = subcode


@dataclass
class Person:
    platform: str
    id: str
    profile: dict[str, str] = field(default_factory=dict)


@dataclass
class Conversation:
    id: str
    platform: str
    account_id: str  # the Page, or the Instagram professional account
    user_id: str
    messages: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    last_user_ms: int | None = None


def iso(ms: int) -> str:
    """Graph's time format: `2025-03-10T10:00:00+0000`."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def new_mid() -> str:
    return "m_" + secrets.token_urlsafe(24)


class MetaState:
    def __init__(self, *, page_id: str, instagram_id: str, page_token: str, app_secret: str) -> None:
        self.lock = threading.Lock()
        self.page_id = page_id
        self.instagram_id = instagram_id
        self.page_token = page_token
        self.app_secret = app_secret
        self.clock_ms: int | None = None
        self.people: dict[str, Person] = {}
        self.conversations: dict[tuple[str, str], Conversation] = {}
        self.sent: list[dict[str, Any]] = []  # accepted Send API messages
        self.requests: list[dict[str, Any]] = []  # every Send API call and its outcome
        self.faults: list[str] = []

    # -- time, people, faults -----------------------------------------------------------------

    def now_ms(self) -> int:
        return self.clock_ms if self.clock_ms is not None else int(time.time() * 1000)

    def account_of(self, platform: str) -> str:
        return self.instagram_id if platform == "instagram" else self.page_id

    def add_person(self, platform: str, user_id: str, profile: dict[str, str]) -> Person:
        with self.lock:
            person = self.people.setdefault(user_id, Person(platform, user_id))
            person.profile.update(profile)
            return person

    def take_fault(self) -> str | None:
        with self.lock:
            return self.faults.pop(0) if self.faults else None

    def reset(self) -> None:
        with self.lock:
            self.people.clear()
            self.conversations.clear()
            self.sent.clear()
            self.requests.clear()
            self.faults.clear()
            self.clock_ms = None

    def _conversation(self, platform: str, user_id: str) -> Conversation:
        key = (platform, user_id)
        if key not in self.conversations:
            self.conversations[key] = Conversation(
                id="t_" + secrets.token_hex(8), platform=platform, account_id=self.account_of(platform), user_id=user_id
            )
        return self.conversations[key]

    # -- a person writes -------------------------------------------------------------------------

    def person_writes(
        self,
        platform: str,
        user_id: str,
        *,
        text: str | None,
        attachments: list[dict[str, Any]],
        mid: str | None = None,
        timestamp_ms: int | None = None,
        reply_to: str | None = None,
    ) -> dict[str, Any]:
        """Record the person's message and return its `messaging` item for the webhook."""
        with self.lock:
            self.people.setdefault(user_id, Person(platform, user_id))
            conversation = self._conversation(platform, user_id)
            at = timestamp_ms if timestamp_ms is not None else self.now_ms()
            message: dict[str, Any] = {"mid": mid or new_mid()}
            if text is not None:
                message["text"] = text
            if attachments:
                message["attachments"] = [
                    {"type": a.get("type", "image"), "payload": {"url": a["url"]} if a.get("url") else {}}
                    for a in attachments
                ]
            if reply_to:
                message["reply_to"] = {"mid": reply_to}
            conversation.messages.append({"id": message["mid"], "ms": at, "from": user_id, "text": text or ""})
            conversation.last_user_ms = max(conversation.last_user_ms or at, at)
            return {
                "sender": {"id": user_id},
                "recipient": {"id": conversation.account_id},
                "timestamp": at,
                "message": message,
            }

    # -- Graph API -------------------------------------------------------------------------------

    def check_token(self, token: str | None, proof: str | None) -> None:
        if token != self.page_token:
            raise GraphFailure(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if proof is not None:
            expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected, proof):
                raise GraphFailure(400, 100, "Invalid appsecret_proof provided in the API argument")

    def send(self, account: str, body: Any) -> dict[str, Any]:
        """The Send API; the answer, or GraphFailure."""
        record: dict[str, Any] = {"at": iso(self.now_ms()), "body": body}
        try:
            answer = self._send(account, body)
        except GraphFailure as failure:
            record.update(status=failure.status, error=failure.body["error"])
            with self.lock:
                self.requests.append(record)
            raise
        record.update(status=200, message_id=answer["message_id"])
        with self.lock:
            self.requests.append(record)
        return answer

    def _send(self, account: str, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("recipient"), dict):
            raise GraphFailure(400, 100, "(#100) The parameter recipient is required")
        recipient = body["recipient"].get("id")
        messaging_type = body.get("messaging_type")
        if messaging_type not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            raise GraphFailure(400, 100, "(#100) param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
        message = body.get("message")
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(text, str) or not text:
            raise GraphFailure(400, 100, "(#100) The parameter message[text] is required")
        with self.lock:
            person = self.people.get(str(recipient))
            # Instagram is answered through the linked Page (Facebook Login) or the account itself
            accounts = {self.page_id, self.account_of(person.platform)} if person is not None else set()
            if person is None or account not in accounts:
                raise GraphFailure(400, 100, "(#100) No matching user found", subcode=2018001)
            if person.platform == "instagram" and len(text.encode()) > 1000:
                raise GraphFailure(400, 100, "(#100) Length of param message[text] must be less than 1000 bytes")
            if len(text) > 2000:
                raise GraphFailure(400, 100, "(#100) Length of param message[text] must be less than or equal to 2000")
            conversation = self._conversation(person.platform, person.id)
            now = self.now_ms()
            age = now - conversation.last_user_ms if conversation.last_user_ms is not None else None
            if messaging_type == "MESSAGE_TAG":
                if body.get("tag") != "HUMAN_AGENT":
                    raise GraphFailure(400, 100, "(#100) Param tag must be HUMAN_AGENT for this simulator")
                allowed = age is not None and age <= HUMAN_AGENT_MS
            else:
                allowed = age is not None and age <= WINDOW_MS[messaging_type]
            if not allowed:
                raise GraphFailure(400, 10, "(#10) This message is sent outside of allowed window.", subcode=2018278)
            mid = new_mid()
            conversation.messages.append({"id": mid, "ms": now, "from": conversation.account_id, "text": text})
            self.sent.append(
                {
                    "message_id": mid,
                    "platform": person.platform,
                    "recipient": person.id,
                    "text": text,
                    "messaging_type": messaging_type,
                    "tag": body.get("tag"),
                    "metadata": message.get("metadata") if isinstance(message, dict) else None,
                    "created_time": iso(now),
                }
            )
        return {"recipient_id": person.id, "message_id": mid}

    def profile(self, user_id: str, fields: str) -> dict[str, Any]:
        with self.lock:
            person = self.people.get(user_id)
        if person is None:
            raise GraphFailure(400, 100, f"(#100) Unsupported get request. Object with ID '{user_id}' does not exist")
        wanted = [f.strip() for f in fields.split(",") if f.strip()] or ["id"]
        return {"id": user_id} | {k: v for k, v in person.profile.items() if k in wanted}

    def conversations_of(self, account: str, platform: str, user_id: str | None, with_messages: bool) -> dict[str, Any]:
        with self.lock:
            found = [
                c
                for c in self.conversations.values()
                if c.account_id == account and c.platform == platform and (user_id is None or c.user_id == user_id)
            ]
            data = []
            for conversation in found:
                item: dict[str, Any] = {
                    "id": conversation.id,
                    "updated_time": iso(max((m["ms"] for m in conversation.messages), default=self.now_ms())),
                }
                if with_messages:
                    newest_first = sorted(conversation.messages, key=lambda m: m["ms"], reverse=True)[:25]
                    item["messages"] = {
                        "data": [
                            {
                                "id": m["id"],
                                "created_time": iso(m["ms"]),
                                "from": {"id": m["from"]},
                                "message": m["text"],
                            }
                            for m in newest_first
                        ]
                    }
                data.append(item)
        return {"data": data}
