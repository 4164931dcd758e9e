"""ASGI middleware: request ids + access logs + metrics, and Idempotency-Key replay."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, cast

import msgspec
import structlog
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import Counter, Histogram

from core.access import idempotency
from core.domain.errors import DomainError

log = structlog.get_logger("emporio.http")

REQUESTS = Counter("emporio_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "emporio_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http":
            await app(scope, receive, send)
            return
        method = cast(dict[str, Any], scope)["method"]
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = [500]
        response_started = [False]

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                response_started[0] = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        except Exception as exc:
            # Raised by an inner middleware (auth's 401) and answered by Litestar's outer exception
            # handler after we return: log and count the status the client will get, not a 500.
            if not response_started[0]:
                status[0] = _status_of(exc)
            raise
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            REQUESTS.labels(method, route, str(status[0])).inc()
            LATENCY.labels(method, route).observe(elapsed)
            log.info(
                "http.request",
                method=method,
                path=scope["path"],
                status=status[0],
                ms=round(elapsed * 1000, 2),
            )
            structlog.contextvars.unbind_contextvars("request_id")

    return middleware


def _status_of(exc: Exception) -> int:
    if isinstance(exc, HTTPException):
        return int(exc.status_code)
    if isinstance(exc, DomainError):
        return exc.status
    return 500


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)
        elif message["type"] == "http.disconnect":
            return b"".join(chunks)


def _problem_bytes(exc: DomainError) -> bytes:
    body = {
        "type": "https://emporio.dev/problems/" + exc.slug,
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
    }
    return msgspec.json.encode(body)


def idempotency_middleware(app: ASGIApp) -> ASGIApp:
    """For POSTs carrying Idempotency-Key: the first response is stored and replayed for retries
    with the same key and body (same status, same body); another body with that key → 422."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http" or cast(dict[str, Any], scope)["method"] != "POST":
            await app(scope, receive, send)
            return
        key = dict(scope["headers"]).get(b"idempotency-key")
        principal = scope.get("user")
        if key is None or principal is None:
            await app(scope, receive, send)
            return
        body = await _read_body(receive)
        runtime = scope["app"].state["runtime"]
        try:
            rid, stored = await idempotency.claim(
                runtime.db,
                principal=principal.key_id,
                key=key.decode("latin-1"),
                method="POST",
                path=scope["path"],
                body=body,
            )
        except DomainError as exc:
            await _send(send, exc.status, "application/problem+json", _problem_bytes(exc), replayed=False)
            return
        if stored is not None:
            await _send(send, stored.status_code, stored.content_type, stored.body, replayed=True)
            return

        sent = False

        async def replay_receive() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        start: dict[str, Any] = {}
        parts: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))

        try:
            await app(scope, replay_receive, capture)
        except BaseException:
            await idempotency.release(rid)
            raise
        status = int(start.get("status", 500))
        content = b"".join(parts)
        headers = dict(start.get("headers", []))
        content_type = headers.get(b"content-type", b"application/json").decode("latin-1")
        if status >= 500:
            await idempotency.release(rid)
        else:
            await idempotency.complete(rid, idempotency.StoredResponse(status, content, content_type))
        await send(cast(Message, start))
        await send({"type": "http.response.body", "body": content, "more_body": False})

    return middleware


async def _send(send: Send, status: int, content_type: str, body: bytes, *, replayed: bool) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
