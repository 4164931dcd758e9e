"""Health, readiness, metrics, plugins, API keys and sales channels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import JSONBody
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import ADMIN, OPS
from api.deps import runtime_of
from api.problems import problem
from core.access import apikeys
from core.catalogue import catalogue
from core.domain.catalogue import ChannelOut
from core.hookspecs import hookimpl
from core.plugins import PluginInfo

OPEN = {"exclude_from_auth": True}


@get("/health", opt=OPEN, tags=["system"], summary="Liveness")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", opt=OPEN, tags=["system"], summary="Readiness: database and queue reachable")
async def ready(request: Request[Any, Any, Any]) -> Response[Any]:
    runtime = runtime_of(request)
    db_ok = await runtime.db.ping()
    queue_ok = runtime.queue is not None and await runtime.queue.ping()
    checks = {"database": "ok" if db_ok else "unreachable", "queue": "ok" if queue_ok else "unreachable"}
    if db_ok and queue_ok:
        return Response({"status": "ready", "checks": checks})
    return problem(
        503, "not ready: " + ", ".join(k for k, v in checks.items() if v != "ok") + " unreachable", checks=checks
    )


@get("/metrics", opt=OPEN, tags=["system"], summary="Prometheus metrics", media_type=CONTENT_TYPE_LATEST)
async def metrics() -> Response[bytes]:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@get("/v1/plugins", guards=[ADMIN], tags=["system"], summary="Loaded plugins and the hooks they implement")
async def plugins(request: Request[Any, Any, Any]) -> list[PluginInfo]:
    return runtime_of(request).host.describe()


class ApiKeyIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[str], msgspec.Meta(min_length=1, max_length=4)]


@post("/v1/api-keys", guards=[ADMIN], tags=["system"], summary="Create an API key (the key is shown once)")
async def create_api_key(request: Request[Any, Any, Any], data: JSONBody[ApiKeyIn]) -> apikeys.CreatedKey:
    async with runtime_of(request).unit_of_work():
        return await apikeys.create_key(data.name, data.scopes)


@get("/v1/channels", guards=[OPS], tags=["catalogue"], summary="Sales channels")
async def channels() -> list[ChannelOut]:
    return await catalogue.list_channels()


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (health, ready, metrics, plugins, create_api_key, channels):
        register(handler)
