"""The few Graph API calls the channel makes, with Meta's errors sorted by what to do about them.

- `POST /me/messages` (the Send API) with the Page access token: one text message.
- `GET /{user-id}?fields=…` (User Profile API): a new person's name.
- `GET /me/conversations?platform=&user_id=&fields=messages{…}` (Conversations API): what the Page
  recently sent a person, to learn whether a send whose answer was lost did go out.

The token travels in the `Authorization` header (never in a URL that could be logged), with
`appsecret_proof` when the app secret is known.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import msgspec

from plugins.social_meta.signature import appsecret_proof

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 20.0
PROFILE_TIMEOUT_S = 2.0  # a new person's name is looked up while Meta waits for our 200
# Graph codes that mean "try again later": unknown/temporary errors, rate limits, send failures.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613, 1200})
WINDOW_SUBCODE = 2018278


class GraphError(Exception):
    """Meta answered with an error object: the request was refused, nothing was sent."""

    def __init__(self, status: int, code: int, subcode: int | None, message: str) -> None:
        super().__init__(f"Meta answered {status} (#{code}{f'/{subcode}' if subcode else ''}): {message}")
        self.status, self.code, self.subcode, self.message = status, code, subcode, message

    @property
    def transient(self) -> bool:
        return self.code in TRANSIENT_CODES

    def advice(self) -> str:
        """What a person can do about it."""
        if self.code == 10 and self.subcode == WINDOW_SUBCODE:
            return "Meta's messaging window is closed: answer by email or phone, or wait for the customer to write"
        if self.code == 551:
            return "the person cannot be messaged right now (they may have blocked the Page)"
        if self.code == 100 and self.subcode == 2018001:
            return "Meta knows no such person for this Page"
        if self.code == 190:
            return "the Page access token is invalid or expired: set a new EMPORIO_META_PAGE_TOKEN and send again"
        if self.code in (10, 200):
            return "the app lacks a permission (pages_messaging / instagram_manage_messages) for this Page"
        return "see Meta's error codes for the Messenger Platform"


class GraphUnreachable(Exception):
    """No answer from Meta. `certain_not_sent` when the request never left (no connection);
    otherwise the message may or may not have gone."""

    def __init__(self, message: str, *, certain_not_sent: bool) -> None:
        super().__init__(message)
        self.certain_not_sent = certain_not_sent


class PageMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    created_time: datetime
    from_id: str
    text: str


def _error_of(response: httpx.Response) -> GraphError | None:
    try:
        document = response.json()
    except ValueError:
        return None
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), int):
        return None
    subcode = error.get("error_subcode")
    return GraphError(
        response.status_code,
        error["code"],
        subcode if isinstance(subcode, int) else None,
        str(error.get("message", ""))[:500],
    )


class Graph:
    def __init__(self, base: str, token: str, app_secret: str | None) -> None:
        self.base = base.rstrip("/")
        self.token = token
        self.app_secret = app_secret

    def _params(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        params = dict(extra or {})
        if self.app_secret:
            params["appsecret_proof"] = appsecret_proof(self.app_secret, self.token)
        return params

    async def _call(
        self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None, read_s: float
    ) -> dict[str, Any]:
        timeout = httpx.Timeout(read_s, connect=min(CONNECT_TIMEOUT_S, read_s))
        try:
            async with httpx.AsyncClient(timeout=timeout) as client:
                response = await client.request(
                    method,
                    f"{self.base}/{path}",
                    params=self._params(params),
                    json=body,
                    headers={"Authorization": f"Bearer {self.token}"},
                )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise GraphUnreachable(f"cannot reach {self.base}: {type(exc).__name__}", certain_not_sent=True) from exc
        except httpx.HTTPError as exc:  # sent, but the answer was lost (reset, timeout, cut body)
            raise GraphUnreachable(
                f"no answer from {self.base}: {type(exc).__name__}: {exc}", certain_not_sent=False
            ) from exc
        error = _error_of(response)
        if error is not None:
            raise error
        try:
            document = response.json()
        except ValueError:
            document = None
        if response.status_code >= 300 or not isinstance(document, dict):
            # A proxy's page or a cut body: whether Meta acted is unknown.
            raise GraphUnreachable(
                f"{self.base} answered {response.status_code} without a Graph answer", certain_not_sent=False
            )
        return document

    async def send_text(
        self, recipient: str, text: str, *, messaging_type: str, tag: str | None, metadata: str | None
    ) -> str:
        """Send one text message; Meta's message id. `metadata` (Messenger only) comes back on the
        message's echo, naming our message there."""
        message: dict[str, str] = {"text": text}
        if metadata:
            message["metadata"] = metadata
        body: dict[str, Any] = {"recipient": {"id": recipient}, "messaging_type": messaging_type, "message": message}
        if tag:
            body["tag"] = tag
        answer = await self._call("POST", "me/messages", body=body, read_s=READ_TIMEOUT_S)
        message_id = answer.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise GraphUnreachable("the Send API answered without a message_id", certain_not_sent=False)
        return message_id

    async def profile_name(self, platform: str, user_id: str) -> str | None:
        """The person's name as Meta shows it to the Page; None when it cannot be had quickly."""
        fields = "name,username" if platform == "instagram" else "first_name,last_name"
        try:
            answer = await self._call("GET", user_id, params={"fields": fields}, read_s=PROFILE_TIMEOUT_S)
        except (GraphError, GraphUnreachable):
            return None
        if platform == "instagram":
            name = answer.get("name") or answer.get("username")
        else:
            name = " ".join(str(answer[k]) for k in ("first_name", "last_name") if answer.get(k))
        shown = str(name or "").strip()[:200]
        return shown or None

    async def page_messages(self, platform: str, user_id: str) -> list[PageMessage]:
        """The latest messages of the Page's conversation with the person, newest first."""
        answer = await self._call(
            "GET",
            "me/conversations",
            params={
                "platform": platform,
                "user_id": user_id,
                "fields": "messages.limit(25){id,created_time,from,message}",
            },
            read_s=READ_TIMEOUT_S,
        )
        found: list[PageMessage] = []
        for conversation in answer.get("data") or []:
            for item in ((conversation or {}).get("messages") or {}).get("data") or []:
                try:
                    found.append(
                        PageMessage(
                            id=str(item["id"]),
                            created_time=datetime.fromisoformat(str(item["created_time"])),
                            from_id=str((item.get("from") or {}).get("id", "")),
                            text=str(item.get("message") or ""),
                        )
                    )
                except (KeyError, TypeError, ValueError, AttributeError):
                    continue  # a message we cannot read is not the one we look for
        return found
