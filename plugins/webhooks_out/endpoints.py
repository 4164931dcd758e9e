"""Webhook endpoints: created by an admin with the events they subscribe to; the secret is made
here, returned once and kept only sealed."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

import msgspec

from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.errors import InvalidInput, NotFound
from core.domain.events import EventType
from core.domain.ids import new_id
from plugins.webhooks_out import clock, sealing
from plugins.webhooks_out.tables import WebhookEndpoint

MAX_URL = 2000


class EndpointStatus(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"  # failing for five days (an ops task says so), or disabled by an admin


class EndpointIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(max_length=MAX_URL)]  # checked by check_url (422 saying what is wrong)
    events: Annotated[list[str], msgspec.Meta(max_length=len(EventType))]
    description: Annotated[str, msgspec.Meta(max_length=500)] = ""


class EndpointPatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What an admin may change; a field left out stays as it is. `status: enabled` brings a
    disabled endpoint back (its failing clock starts again from nothing)."""

    url: Annotated[str, msgspec.Meta(max_length=MAX_URL)] | msgspec.UnsetType = msgspec.UNSET
    events: Annotated[list[str], msgspec.Meta(max_length=len(EventType))] | msgspec.UnsetType = msgspec.UNSET
    description: Annotated[str, msgspec.Meta(max_length=500)] | msgspec.UnsetType = msgspec.UNSET
    status: EndpointStatus | msgspec.UnsetType = msgspec.UNSET


class EndpointOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    url: str
    description: str
    events: list[EventType]
    status: EndpointStatus
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    created_by: str
    created_at: datetime


class CreatedEndpoint(EndpointOut, frozen=True, kw_only=True):
    secret: str  # whsec_…: shown here once; receivers verify signatures with it


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host, no credentials and no fragment."""
    parts = urlsplit(url.strip())
    problem = None
    try:
        port = parts.port
    except ValueError:
        port, problem = None, "its port is not a number between 0 and 65535"
    if parts.scheme not in ("http", "https"):
        problem = "it must start with https:// (or http://)"
    elif not parts.hostname:
        problem = "it has no host"
    elif parts.username or parts.password:
        problem = "it must not carry a user name or password (the signature authenticates the sender)"
    elif parts.fragment:
        problem = "it must not have a #fragment"
    elif any(c.isspace() for c in url.strip()):
        problem = "it must not contain spaces"
    elif port == 0:
        problem = "port 0 cannot be reached"
    if problem:
        raise InvalidInput(f"url {url!r} is not a webhook receiver's URL: {problem}", errors=[{"field": "url"}])
    return url.strip()


def check_events(events: list[str]) -> list[EventType]:
    if not events:
        raise InvalidInput(
            "events is empty: name the event types to receive (order.placed, shipment.delivered…)",
            errors=[{"field": "events"}],
        )
    known = {t.value for t in EventType}
    unknown = [e for e in events if e not in known]
    if unknown:
        raise InvalidInput(
            f"unknown event types: {', '.join(sorted(set(unknown)))}; the names are the catalogue's "
            "(order.placed, shipment.delivered…, listed in docs/events.md)",
            errors=[{"field": "events", "unknown": sorted(set(unknown))}],
        )
    return sorted({EventType(e) for e in events}, key=list(EventType).index)


def _out(row: dict[str, Any]) -> EndpointOut:
    return EndpointOut(
        id=row["id"],
        url=row["url"],
        description=row["description"],
        events=[EventType(e) for e in json.loads(row["events"])],
        status=EndpointStatus(row["status"]),
        failing_since=row["failing_since"],
        disabled_at=row["disabled_at"],
        disabled_reason=row["disabled_reason"],
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


async def create(data: EndpointIn, actor: str) -> CreatedEndpoint:
    """Call inside a unit of work. The returned secret is the only copy in plain text."""
    url = check_url(data.url)
    events = check_events(data.events)
    secret = sealing.new_secret()
    now = clock.now()
    endpoint_id = new_id("whe")
    await WebhookEndpoint.insert(
        WebhookEndpoint(
            id=endpoint_id,
            url=url,
            description=data.description,
            events=json.dumps([e.value for e in events]),
            secret_sealed=sealing.seal(secret),
            status=EndpointStatus.ENABLED.value,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
    )
    out = await get(endpoint_id)
    return CreatedEndpoint(**msgspec.structs.asdict(out), secret=secret)


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """What `update` did: the endpoint as it is now, and whether its status moved."""

    endpoint: EndpointOut
    enabled: bool
    disabled: bool


async def update(endpoint_id: str, data: EndpointPatch, actor: str, lock: str) -> Change:
    """Change an endpoint (call inside a unit of work; `lock` is the database's row-lock clause).
    Disabling it by hand records who did it; enabling clears the failure record. The caller ends
    the waiting deliveries of a disabled endpoint and closes the ops task of an enabled one."""
    rows = await WebhookEndpoint.raw("SELECT * FROM webhook_endpoints WHERE id = {}" + lock, endpoint_id)
    if not rows:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    row, now = rows[0], clock.now()
    values: dict[Any, Any] = {}
    if not isinstance(data.url, msgspec.UnsetType):
        values[WebhookEndpoint.url] = check_url(data.url)
    if not isinstance(data.events, msgspec.UnsetType):
        values[WebhookEndpoint.events] = json.dumps([e.value for e in check_events(data.events)])
    if not isinstance(data.description, msgspec.UnsetType):
        values[WebhookEndpoint.description] = data.description
    enabled = disabled = False
    if not isinstance(data.status, msgspec.UnsetType) and data.status.value != row["status"]:
        enabled, disabled = data.status is EndpointStatus.ENABLED, data.status is EndpointStatus.DISABLED
        values[WebhookEndpoint.status] = data.status.value
        values[WebhookEndpoint.failing_since] = None if enabled else row["failing_since"]
        values[WebhookEndpoint.disabled_at] = now if disabled else None
        values[WebhookEndpoint.disabled_reason] = f"disabled by {actor}" if disabled else None
    if values:
        values[WebhookEndpoint.updated_at] = now
        await WebhookEndpoint.update(values).where(WebhookEndpoint.id == endpoint_id)
    return Change(endpoint=await get(endpoint_id), enabled=enabled, disabled=disabled)


async def rotate_secret(endpoint_id: str, lock: str) -> CreatedEndpoint:
    """A new signing secret (the old one stops working at once); shown this once. Call inside a
    unit of work; `lock` as for `update`."""
    rows = await WebhookEndpoint.raw("SELECT id FROM webhook_endpoints WHERE id = {}" + lock, endpoint_id)
    if not rows:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    secret = sealing.new_secret()
    await WebhookEndpoint.update(
        {WebhookEndpoint.secret_sealed: sealing.seal(secret), WebhookEndpoint.updated_at: clock.now()}
    ).where(WebhookEndpoint.id == endpoint_id)
    return CreatedEndpoint(**msgspec.structs.asdict(await get(endpoint_id)), secret=secret)


async def get(endpoint_id: str) -> EndpointOut:
    row = await WebhookEndpoint.select().where(WebhookEndpoint.id == endpoint_id).first()
    if row is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return _out(row)


async def list_endpoints(limit: int, cursor: str | None) -> Page[EndpointOut]:
    check_limit(limit)
    after = decode_cursor(cursor)
    query = WebhookEndpoint.select().order_by(WebhookEndpoint.id).limit(limit + 1)
    if after:
        query = query.where(WebhookEndpoint.id > after)
    rows = await query
    return page_of(rows, limit, "id", [_out(r) for r in rows])


async def subscribed(event_type: EventType) -> list[dict[str, Any]]:
    """The enabled endpoints that subscribe to `event_type` (id and url)."""
    rows = await WebhookEndpoint.select(WebhookEndpoint.id, WebhookEndpoint.events).where(
        WebhookEndpoint.status == EndpointStatus.ENABLED.value
    )
    return [r for r in rows if event_type.value in json.loads(r["events"])]


__all__ = [
    "Change",
    "CreatedEndpoint",
    "EndpointIn",
    "EndpointOut",
    "EndpointPatch",
    "EndpointStatus",
    "check_events",
    "check_url",
    "create",
    "get",
    "list_endpoints",
    "rotate_secret",
    "subscribed",
    "update",
]
