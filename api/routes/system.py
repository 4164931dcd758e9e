"""Health, readiness, metrics, plugins and sales channels (API keys: api/routes/access.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import ADMIN, OPS
from api.deps import runtime_of
from api.problems import problem
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


@get("/v1/channels", guards=[OPS], tags=["catalogue"], summary="Sales channels")
async def channels() -> list[ChannelOut]:
    return await catalogue.list_channels()


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (health, ready, metrics, plugins, channels):
        register(handler)
