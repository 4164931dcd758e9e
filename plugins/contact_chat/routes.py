"""Chat over HTTP and WebSocket.

`POST /v1/chat/sessions` (storefront) opens a session for a customer → `{session_id, token}`.
`GET /v1/chat/ws?token=&after=` carries frames both ways: the client sends
`{"type": "message", "body": …, "client_id"?: …}`; the server answers `{"type": "ack", "id", "client_id"}`
only after the message is committed, and pushes `{"type": "message", id, direction, author, body,
created_at}` for every message of the case the customer may see — what was missed since `after`
first, then live ones (the customer's own from other tabs, the agents' replies). Bad frames get
`{"type": "error", "detail"}` and change nothing; an unknown token closes with 4401."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Annotated, Any

import msgspec
import redis.asyncio as redis
import structlog
from litestar import Request, Response, WebSocket, get, post, websocket
from litestar.exceptions import NotAuthorizedException, WebSocketDisconnect
from litestar.params import JSONBody, QueryParameter

from api.auth import STOREFRONT_OR_OPS
from api.deps import runtime_of
from core.runtime import Runtime
from core.service import answers
from plugins.contact_chat import fanout, sessions

WIDGET = Path(__file__).parent / "static" / "widget.js"
log = structlog.get_logger("emporio.chat")


class ClientFrame(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type: str
    body: str = ""
    client_id: str | None = None


class Ack(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="ack"):
    id: str
    client_id: str | None = None


class Error(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="error"):
    detail: str


@post("/v1/chat/sessions", guards=[STOREFRONT_OR_OPS], tags=["chat"], summary="Open a chat session for a customer")
async def open_session(request: Request[Any, Any, Any], data: JSONBody[sessions.SessionIn]) -> sessions.SessionOut:
    async with runtime_of(request).unit_of_work():
        return await sessions.open_session(data)


@get("/v1/chat/status", opt={"exclude_from_auth": True}, tags=["chat"], summary="Whether an agent is online")
async def status() -> dict[str, Any]:
    online = await fanout.agents_online()
    return {"agents_online": online, "offer_email": online == 0}


@get("/chat/widget.js", opt={"exclude_from_auth": True}, include_in_schema=False)
async def widget() -> Response[bytes]:
    return Response(
        content=WIDGET.read_bytes(),
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


@get("/v1/chat/suggestions", opt={"exclude_from_auth": True}, tags=["chat"], summary="Answers while the customer types")
async def suggestions(
    request: Request[Any, Any, Any],
    token: Annotated[str, QueryParameter(name="token", max_length=200)],
    q: Annotated[str, QueryParameter(name="q", max_length=500)],
) -> dict[str, Any]:
    """Authorised by the chat token (the widget holds no API key); public answers only."""
    session = await sessions.by_token(token)
    if session is None:
        raise NotAuthorizedException("unknown or expired chat token; open a new session")
    found = await answers.suggest(
        runtime_of(request).host,
        q,
        locale=session["locale"],
        limit=3,
        internal=False,
        customer_id=session["customer_id"],
    )
    return {"results": [msgspec.to_builtins(s) for s in found]}


def _decode(raw: str | bytes) -> ClientFrame | str:
    """The frame, or what is wrong with it."""
    try:
        frame = msgspec.json.decode(raw, type=ClientFrame)
    except msgspec.DecodeError as exc:
        return f"frames are JSON objects {{type, body}}: {exc}"
    if frame.type != "message":
        return f'unknown frame type {frame.type!r}; send {{"type": "message", "body": …}}'
    body = frame.body.strip()
    if not body or "\x00" in body:
        return "body must be non-empty text"
    if len(body) > sessions.MAX_BODY:
        return f"body is longer than {sessions.MAX_BODY} characters"
    if frame.client_id is not None and not (0 < len(frame.client_id) <= 100):
        return "client_id must be 1–100 characters"
    return frame


async def _push(socket: WebSocket[Any, Any, Any], pubsub: Any, sent: set[str]) -> None:
    """Forward frames published for the session, skipping any already sent (replay overlap)."""
    try:
        await _forward(socket, pubsub, sent)
    except asyncio.CancelledError:
        raise
    except (WebSocketDisconnect, RuntimeError) as exc:  # the visitor left: ordinary, not a warning
        log.debug("chat.push_closed", error=repr(exc))
    except Exception as exc:  # Redis went away: the client reconnects with ?after=
        log.warning("chat.push_stopped", error=repr(exc))


async def _forward(socket: WebSocket[Any, Any, Any], pubsub: Any, sent: set[str]) -> None:
    async for message in pubsub.listen():
        if message.get("type") != "message":
            continue
        frame = msgspec.json.decode(message["data"])
        if frame.get("id") in sent:
            continue
        sent.add(frame["id"])
        await socket.send_data(msgspec.json.encode(frame).decode())


async def _receive(socket: WebSocket[Any, Any, Any], runtime: Runtime, session: dict[str, Any]) -> None:
    while True:
        event = await socket.receive()
        if event["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(detail="closed by the client", code=event.get("code", 1000))
        text, data = event.get("text"), event.get("bytes")
        raw: str | bytes = text if isinstance(text, str) else data if isinstance(data, bytes) else b""
        decoded = _decode(raw)
        if isinstance(decoded, str):
            await socket.send_data(msgspec.json.encode(Error(detail=decoded)).decode())
            continue
        try:
            frame, _ = await sessions.post(runtime, session, decoded.body.strip(), decoded.client_id)
        except (OSError, ConnectionError):
            await socket.send_data(msgspec.json.encode(Error(detail="not stored; send it again")).decode())
            continue
        await socket.send_data(msgspec.json.encode(Ack(id=frame.id, client_id=decoded.client_id)).decode())
        await fanout.publish(session["id"], msgspec.json.encode(frame))


@websocket("/v1/chat/ws", opt={"exclude_from_auth": True})
async def chat_socket(socket: WebSocket[Any, Any, Any]) -> None:
    runtime = socket.app.state["runtime"]
    session = await sessions.by_token(socket.query_params.get("token", ""))
    if session is None:
        await socket.close(code=4401, reason="unknown or expired chat token; open a new session")
        return
    await socket.accept()
    client = redis.Redis.from_url(fanout.redis_url())
    pubsub = client.pubsub()
    await pubsub.subscribe(fanout.channel_of(session["id"]))  # before the replay: nothing falls between
    sent: set[str] = set()
    try:
        current = await sessions.by_token(socket.query_params.get("token", ""))
        for frame in await sessions.missed(current["case_id"] if current else None, socket.query_params.get("after")):
            sent.add(frame.id)
            await socket.send_data(msgspec.json.encode(frame).decode())
        pusher = asyncio.create_task(_push(socket, pubsub, sent))
        try:
            await _receive(socket, runtime, session)
        finally:
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pusher
    except WebSocketDisconnect:
        pass
    finally:
        await pubsub.aclose()
        await client.aclose()


HANDLERS = (open_session, status, suggestions, widget, chat_socket)
