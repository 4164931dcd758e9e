"""ASGI middleware: request ids + access logs + metrics, body limits while streaming, and
Idempotency-Key replay (after the route's guards, through the body limit, never keeping secrets).

Order (api/app.py): request id → body limit → authentication → idempotency → the route."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, cast

import msgspec
import structlog
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send
from prometheus_client import Counter, Histogram

from core.access import idempotency
from core.domain.errors import DomainError
from core.settings import SettingSpec, read

log = structlog.get_logger("emporio.http")

REQUESTS = Counter("emporio_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "emporio_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Route handler opts the middleware reads:
MAX_BODY_OPT = "max_body"  # a SettingSpec[int] (or bytes) for a route whose bodies may be larger
STREAM_BODY_OPT = "stream_body"  # the handler streams its body: never buffered for Idempotency-Key
SECRET_RESPONSE_OPT = "secret_response"  # True, or the tuple of response fields that are secrets
TOO_LARGE_HINT_OPT = "too_large_hint"  # what to do instead, told with the route's 413
SECRET_RESPONSE: dict[str, Any] = {SECRET_RESPONSE_OPT: True}


def secret_response(*fields: str) -> dict[str, Any]:
    """Handler opt for a response carrying secrets (`opt=secret_response("key")`): an
    Idempotency-Key keeps the response with those fields blanked and answers a replay with 409,
    because a secret is shown once (API keys, webhook secrets, customer and survey tokens)."""
    return {SECRET_RESPONSE_OPT: fields or True}


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
    """The whole body, for hashing and replay: bounded by `body_limit_middleware`, whose receive
    this is (it raises 413 past the route's limit, so a huge body is never held)."""
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
        **{k: v for k, v in exc.extra.items() if k not in {"type", "title", "status", "detail"}},
    }
    return msgspec.json.encode(body)


def body_limit_middleware(app: ASGIApp) -> ASGIApp:
    """Request bodies limited per route while they stream in, before anyone buffers them: an
    announced Content-Length over the limit is refused before a byte is read, a chunked body as
    soon as the bytes received pass it (413 problem+json either way)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http" or cast(dict[str, Any], scope)["method"] not in BODY_METHODS:
            await app(scope, receive, send)
            return
        limit = body_limit(scope["route_handler"])
        if limit is None:
            await app(scope, receive, send)
            return
        announced = dict(scope["headers"]).get(b"content-length", b"")
        if announced.isdigit() and int(announced) > limit:
            raise _too_large(scope, limit)
        received = 0

        async def limited_receive() -> ReceiveMessage:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(scope, limit)
            return message

        await app(scope, cast(Receive, limited_receive), send)

    return middleware


def body_limit(handler: BaseRouteHandler) -> int | None:
    """The route's body limit in bytes: a setting the handler names in `opt["max_body"]` (e.g. the
    import's), else Litestar's layered `request_max_body_size` (the app's default is
    EMPORIO_MAX_BODY); None for none."""
    declared = handler.opt.get(MAX_BODY_OPT)
    if isinstance(declared, SettingSpec):
        return int(read(declared))
    if isinstance(declared, int):
        return declared
    resolve = getattr(handler, "resolve_request_max_body_size", None)
    return resolve() if resolve is not None else None


def _too_large(scope: Scope, limit: int) -> HTTPException:
    method, path = cast(dict[str, Any], scope)["method"], scope["path"]
    hint = scope["route_handler"].opt.get(TOO_LARGE_HINT_OPT)
    return HTTPException(
        status_code=413,
        detail=f"the request body is larger than {_size(limit)}, the limit of {method} {path}; nothing was done"
        + (f" ({hint})" if hint else "; send a smaller body"),
    )


def _size(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


def idempotency_middleware(app: ASGIApp) -> ASGIApp:
    """For POSTs carrying Idempotency-Key: the first response is stored and replayed for retries
    with the same key and body (same status, same body); another body with that key → 422.

    The route's guards run before the body is read (a key without the scope gets its 403 without
    sending a byte), and the body is read through the route's limit. A response carrying a secret
    (handler `opt=SECRET_RESPONSE`) is stored without it and its replay refused with 409. Routes
    that stream their body (`opt["stream_body"]`, the history import) are safe to repeat by
    design and are passed through unbuffered."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["type"]) != "http" or cast(dict[str, Any], scope)["method"] != "POST":
            await app(scope, receive, send)
            return
        key = dict(scope["headers"]).get(b"idempotency-key")
        principal = scope.get("user")
        handler = scope["route_handler"]
        if key is None or principal is None or handler.opt.get(STREAM_BODY_OPT):
            await app(scope, receive, send)
            return
        await handler.authorize_connection(ASGIConnection(scope))
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
            if stored.withheld:
                refusal = idempotency.secret_shown_once(stored)
                await _send(send, refusal.status, "application/problem+json", _problem_bytes(refusal), replayed=True)
                return
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
            secret = handler.opt.get(SECRET_RESPONSE_OPT)
            if secret and 200 <= status < 300:
                kept = idempotency.withhold(content, secret if isinstance(secret, tuple) else ())
                await idempotency.complete(rid, idempotency.StoredResponse(status, kept, content_type, withheld=True))
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
