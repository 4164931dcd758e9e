"""The Meta simulator's ASGI app: the Graph endpoints the channel calls, and a control API under
`/_simulator/` that plays the people (their messages reach the engine as signed webhooks), the
subscription handshake, the clock and the faults.

Graph (any `/vNN.N/` prefix, token as `Authorization: Bearer` or `access_token`):
    POST /me/messages, POST /{page-or-instagram-id}/messages    the Send API
    GET  /me/conversations?platform=&user_id=&fields=messages…  the Conversations API
    GET  /{user-id}?fields=first_name,last_name | name,username the User Profile API

Faults (`POST /_simulator/faults {"kind", "count"}`) apply to the next Send API calls:
`reset_after_send` sends the message and then cuts the answer (the client sees the connection
drop), `reset_before_send` cuts it without sending, `error_2` answers Graph's transient error #2
(HTTP 500), `rate_limit` error #613.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx

from core.testing.asgi import Receive, Scope, Send, SimulatorApp, json_body, read_body, send_response
from plugins.social_meta.simulator.state import FAULT_KINDS, GraphFailure, MetaState

if TYPE_CHECKING:
    from plugins.social_meta.simulator.simulator import MetaSimulator

_VERSION = re.compile(r"^/v\d+(?:\.\d+)?(?=/)")
_MAX_BODY = 1 << 20
DELIVERY_TIMEOUT_S = 30.0


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json(body: bytes) -> Any:
    try:
        return json.loads(body) if body else {}
    except ValueError:
        return None


def _sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class MetaApp(SimulatorApp):
    def __init__(self, simulator: MetaSimulator) -> None:
        self.sim = simulator

    @property
    def state(self) -> MetaState:
        return self.sim.state

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await read_body(receive, limit=_MAX_BODY)
        if body is None:
            await send_response(send, 413, json_body({"error": {"message": "request too large", "code": 1}}))
            return
        path: str = scope["path"]
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode("utf-8", "replace")).items()}
        if path.startswith("/_simulator/"):
            try:
                status, answer = await self._control(scope["method"], path, _json(body))
            except ControlError as exc:
                status, answer = exc.status, {"error": str(exc)}
            await send_response(send, status, json_body(answer))
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        bearer = headers.get("authorization", "")
        token = bearer[7:] if bearer.lower().startswith("bearer ") else query.get("access_token")
        graph_path = _VERSION.sub("", path).strip("/")
        try:
            self.state.check_token(token, query.get("appsecret_proof"))
            await self._graph(scope["method"], graph_path, query, body, send)
        except GraphFailure as failure:
            await send_response(send, failure.status, json_body(failure.body))

    # -- Graph -----------------------------------------------------------------------------------

    async def _graph(self, method: str, path: str, query: dict[str, str], body: bytes, send: Send) -> None:
        parts = path.split("/")
        state = self.state
        if method == "POST" and len(parts) == 2 and parts[1] == "messages":
            account = state.page_id if parts[0] in ("me", state.page_id) else parts[0]
            await self._send_api(account, body, send)
        elif method == "GET" and len(parts) == 2 and parts[1] == "conversations":
            platform = query.get("platform", "messenger")
            account = state.account_of(platform) if parts[0] in ("me", state.page_id) else parts[0]
            answer = state.conversations_of(
                account, platform, query.get("user_id"), "messages" in query.get("fields", "")
            )
            await send_response(send, 200, json_body(answer))
        elif method == "GET" and len(parts) == 1 and parts[0]:
            await send_response(send, 200, json_body(state.profile(parts[0], query.get("fields", ""))))
        else:
            raise GraphFailure(400, 100, f"(#100) Unsupported {method} request: /{path}")

    async def _send_api(self, account: str, body: bytes, send: Send) -> None:
        fault = self.state.take_fault()
        if fault == "error_2":
            raise GraphFailure(500, 2, "An unexpected error has occurred. Please retry your request later.")
        if fault == "rate_limit":
            raise GraphFailure(400, 613, "Calls to this api have exceeded the rate limit.")
        if fault == "reset_before_send":
            await self._cut(send)
            return
        answer = self.state.send(account, _json(body))
        if fault == "reset_after_send":
            await self._cut(send)  # sent; the client never hears of it
            return
        await send_response(send, 200, json_body(answer))

    @staticmethod
    async def _cut(send: Send) -> None:
        """Start an answer and drop the connection mid-body, as a reset connection would."""
        headers = [(b"content-type", b"application/json"), (b"content-length", b"200")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"recipient_id":', "more_body": True})
        raise ConnectionResetError("simulated network failure")

    # -- control ---------------------------------------------------------------------------------

    async def _control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if body is None or not isinstance(body, dict):
            raise ControlError(400, "the body must be a JSON object")
        state = self.state
        route = (method, path.removeprefix("/_simulator"))
        if route == ("GET", "/state"):
            return 200, self.sim.describe()
        if route == ("GET", "/sent"):
            with state.lock:
                return 200, {"data": list(state.sent)}
        if route == ("GET", "/requests"):
            with state.lock:
                return 200, {"data": list(state.requests)}
        if route == ("POST", "/reset"):
            state.reset()
            return 200, {"reset": True}
        if route == ("POST", "/config"):
            for key in ("webhook_url", "verify_token", "app_secret"):
                if key in body:
                    setattr(self.sim, key, body[key])
            state.app_secret = self.sim.app_secret
            return 200, self.sim.describe()
        if route == ("POST", "/clock"):
            return 200, {"now": self._set_clock(body.get("now"))}
        if route == ("POST", "/faults"):
            kind, count = body.get("kind"), body.get("count", 1)
            if kind not in FAULT_KINDS or not isinstance(count, int) or count < 1:
                raise ControlError(400, f"kind must be one of {', '.join(FAULT_KINDS)} and count a positive integer")
            with state.lock:
                state.faults.extend([kind] * count)
            return 200, {"faults": list(state.faults)}
        if route == ("POST", "/people"):
            platform, user_id = self._person(body)
            profile = {k: str(v) for k, v in body.items() if k in ("first_name", "last_name", "name", "username")}
            state.add_person(platform, user_id, profile)
            return 200, {"platform": platform, "id": user_id, **profile}
        if route == ("POST", "/messages"):
            return 200, await self._person_writes(body)
        if route == ("POST", "/events"):
            return 200, await self._event(body)
        if route == ("POST", "/subscribe"):
            return 200, await self._subscribe(body)
        raise ControlError(404, f"no control endpoint {method} {path}")

    def _set_clock(self, now: Any) -> str | None:
        if now is None:
            self.state.clock_ms = None
            return None
        try:
            at = datetime.fromisoformat(str(now).replace("Z", "+00:00"))
        except ValueError:
            raise ControlError(400, "now must be an RFC 3339 time with an offset, or null for the real clock") from None
        if at.tzinfo is None:
            raise ControlError(400, "now needs an offset (…Z or +00:00)")
        self.state.clock_ms = int(at.timestamp() * 1000)
        return at.isoformat()

    @staticmethod
    def _person(body: dict[str, Any]) -> tuple[str, str]:
        platform, user_id = body.get("platform", "messenger"), body.get("user_id")
        if platform not in ("messenger", "instagram") or not isinstance(user_id, str) or not user_id:
            raise ControlError(400, 'give "platform" (messenger or instagram) and "user_id" (the page-scoped id)')
        return platform, user_id

    async def _person_writes(self, body: dict[str, Any]) -> dict[str, Any]:
        """A person's message, delivered to the engine `times` times (a redelivery) as Meta would."""
        platform, user_id = self._person(body)
        text, attachments = body.get("text"), body.get("attachments") or []
        if (text is not None and not isinstance(text, str)) or not isinstance(attachments, list):
            raise ControlError(400, "text must be a string and attachments a list of {type, url}")
        if not text and not attachments:
            raise ControlError(400, "a message needs text or attachments")
        item = self.state.person_writes(
            platform,
            user_id,
            text=text,
            attachments=[a for a in attachments if isinstance(a, dict)],
            mid=body.get("mid"),
            timestamp_ms=body.get("timestamp_ms"),
            reply_to=body.get("reply_to"),
        )
        deliveries = await self._deliver(platform, [item], body, times=int(body.get("times", 1)))
        return {"mid": item["message"]["mid"], "deliveries": deliveries}

    async def _event(self, body: dict[str, Any]) -> dict[str, Any]:
        """Events that are not a person's message: `delivery`, `read`, `echo` (the Page's own)."""
        platform, user_id = self._person(body)
        account, now = self.state.account_of(platform), self.state.now_ms()
        kind = body.get("kind")
        item: dict[str, Any] = {"sender": {"id": user_id}, "recipient": {"id": account}, "timestamp": now}
        if kind == "delivery":
            item["delivery"] = {"mids": [body.get("mid", "m_unknown")], "watermark": now}
        elif kind == "read":
            item["read"] = {"watermark": now}
        elif kind == "echo":
            echo = {"is_echo": True, "mid": "m_" + secrets.token_hex(8), "text": body.get("text", "")}
            item = {"sender": {"id": account}, "recipient": {"id": user_id}, "timestamp": now, "message": echo}
        else:
            raise ControlError(400, "kind must be delivery, read or echo")
        return {"deliveries": await self._deliver(platform, [item], body)}

    async def _deliver(
        self, platform: str, items: list[dict[str, Any]], options: dict[str, Any], times: int = 1
    ) -> list[dict[str, Any]]:
        """POST the notification, signed (or with `signature` as given, or signed with `secret`)."""
        url = self.sim.webhook_url
        if not url:
            raise ControlError(409, 'no webhook_url: POST /_simulator/config {"webhook_url": …} first')
        notification = {
            "object": "instagram" if platform == "instagram" else "page",
            "entry": [{"id": self.state.account_of(platform), "time": self.state.now_ms(), "messaging": items}],
        }
        raw = json.dumps(notification).encode()  # Meta escapes non-ASCII text as \\uXXXX and signs those bytes
        headers = {"Content-Type": "application/json"}
        signature = options.get("signature")
        if signature is None:
            signature = _sign(str(options.get("secret") or self.sim.app_secret), raw)
        if signature:  # "" sends no signature at all
            headers["X-Hub-Signature-256"] = str(signature)
        results = []
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_S) as client:
            for _ in range(max(1, min(times, 10))):
                response = await client.post(url, content=raw, headers=headers)
                try:
                    answer: Any = response.json()
                except ValueError:
                    answer = response.text
                results.append({"status": response.status_code, "body": answer})
        return results

    async def _subscribe(self, body: dict[str, Any]) -> dict[str, Any]:
        """Meta's subscription handshake against the engine: GET with a fresh challenge."""
        url = self.sim.webhook_url
        if not url:
            raise ControlError(409, "no webhook_url configured")
        challenge = str(secrets.randbelow(10**9))
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": str(body.get("verify_token", self.sim.verify_token)),
            "hub.challenge": challenge,
        }
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_S) as client:
            response = await client.get(url, params=params)
        verified = response.status_code == 200 and response.text == challenge
        return {"status": response.status_code, "verified": verified, "body": response.text}
