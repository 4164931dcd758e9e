"""Meta's webhook endpoint.

`GET /v1/webhooks/meta?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…` answers Meta's
subscription handshake with the challenge (text) when the token is EMPORIO_META_VERIFY_TOKEN; any
other token is refused with 403.

`POST /v1/webhooks/meta` takes notifications for `object: page` (Messenger) and `object:
instagram`. The `X-Hub-Signature-256` header is checked on the raw bytes before anything is
parsed: missing or forged → 401 and nothing is stored. Each person's message is stored in its own
transaction (a redelivery stores nothing twice); the answer is 200 with counts, so Meta does not
deliver again what was taken.
"""

from __future__ import annotations

import hmac
import sqlite3
from typing import Annotated, Any

import asyncpg
import structlog
from litestar import MediaType, Request, get, post
from litestar.exceptions import (
    NotAuthorizedException,
    PermissionDeniedException,
    ServiceUnavailableException,
    ValidationException,
)
from litestar.params import QueryParameter

from api.deps import runtime_of
from core.db.database import utcnow
from core.settings import read
from plugins.social_meta import inbound
from plugins.social_meta.graph import Graph
from plugins.social_meta.settings import APP_SECRET, GRAPH_BASE, PAGE_TOKEN, VERIFY_TOKEN
from plugins.social_meta.signature import is_signed
from plugins.social_meta.webhook import Unreadable, read_notification

log = structlog.get_logger("emporio.social_meta")
# Meta redelivering while the first delivery is still being stored: the message id's unique index
# stops the second copy, which is then read back as a duplicate.
_STORED_CONCURRENTLY = (asyncpg.UniqueViolationError, sqlite3.IntegrityError)
PATH = "/v1/webhooks/meta"


@get(
    PATH,
    opt={"exclude_from_auth": True},
    tags=["service"],
    media_type=MediaType.TEXT,
    summary="Meta's webhook subscription handshake (echoes hub.challenge)",
)
async def verify_subscription(
    mode: Annotated[str | None, QueryParameter(name="hub.mode", max_length=50)] = None,
    token: Annotated[str | None, QueryParameter(name="hub.verify_token", max_length=1000)] = None,
    challenge: Annotated[str | None, QueryParameter(name="hub.challenge", max_length=1000)] = None,
) -> str:
    expected = read(VERIFY_TOKEN)
    if not expected:
        raise PermissionDeniedException(
            "EMPORIO_META_VERIFY_TOKEN is not set: set it to the Verify Token entered in Meta's webhook setup"
        )
    if mode != "subscribe":
        raise ValidationException("hub.mode must be subscribe (this endpoint answers Meta's subscription handshake)")
    if token is None or not hmac.compare_digest(token.encode(), expected.encode()):
        raise PermissionDeniedException("hub.verify_token is not the Verify Token this shop expects")
    if not challenge:
        raise ValidationException("hub.challenge is missing; Meta sends one to be echoed")
    return challenge


@post(
    PATH,
    opt={"exclude_from_auth": True},
    tags=["service"],
    status_code=200,
    summary="Messenger and Instagram messages (signed by Meta with X-Hub-Signature-256)",
)
async def receive_notification(request: Request[Any, Any, Any]) -> dict[str, Any]:
    secret = read(APP_SECRET)
    if not secret:
        raise ServiceUnavailableException(
            "EMPORIO_META_APP_SECRET is not set, so Meta's signatures cannot be checked and nothing was stored; "
            "set it to the app secret (Meta delivers again)"
        )
    raw = await request.body()
    if not is_signed(secret, raw, request.headers.get("x-hub-signature-256")):
        raise NotAuthorizedException(
            "X-Hub-Signature-256 is missing or is not sha256=HMAC-SHA256(app secret, body); nothing was stored"
        )
    try:
        reading = read_notification(raw, utcnow())
    except Unreadable as exc:
        raise ValidationException(str(exc)) from None
    runtime = runtime_of(request)
    token = read(PAGE_TOKEN)
    graph = Graph(read(GRAPH_BASE), token, secret) if token else None
    names = await inbound.names_of_new_people(reading.messages, graph)
    stored = duplicates = 0
    for message in reading.messages:
        name = names.get(inbound.person_of(message))
        try:
            try:
                received = await inbound.store(runtime, message, name)
            except _STORED_CONCURRENTLY:
                received = await inbound.store(runtime, message, name)
        except (TimeoutError, OSError, ConnectionError) as exc:
            log.warning("social_meta.not_stored", mid=message.mid, error=repr(exc))
            raise ServiceUnavailableException(
                f"message {message.mid} could not be stored ({type(exc).__name__}); Meta delivers again"
            ) from exc
        duplicates += received.duplicate
        stored += not received.duplicate
    return {"stored": stored, "duplicates": duplicates, "ignored": reading.ignored}


HANDLERS = (verify_subscription, receive_notification)
