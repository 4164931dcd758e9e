"""The Litestar application factory: routes come from plugins (register_routes), the runtime is
started in the lifespan, and every error leaves as problem+json."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from litestar import Controller, Litestar, Router
from litestar.handlers import BaseRouteHandler
from litestar.middleware.base import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, PathItem, Reference, SecurityScheme
from litestar.static_files import create_static_files_router

from api.auth import LIMITER_STATE, ApiKeyAuthentication
from api.middleware import body_limit_middleware, idempotency_middleware, request_id_middleware
from api.problems import exception_handlers
from api.text_guard import refuse_nul_text
from core import __version__
from core.access.ratelimits import RateLimiter
from core.access.settings import MAX_BODY
from core.catalogue.catalogue import ensure_channels
from core.hookspecs.app import RouteContribution
from core.jobs.worker import run_worker
from core.plugins import PluginError, Registered
from core.runtime import Runtime
from core.settings import QUEUE_NAME, read

STATIC = "/schema/static"
# A route handler's opt: a callable returning OpenAPI `webhooks` entries (schemas inline: Litestar
# writes components/schemas itself), for a plugin that sends webhooks to document them.
OPENAPI_WEBHOOKS_OPT = "openapi_webhooks"
API_DESCRIPTION = """Emporio: everything an e-shop does after "add to cart".

Authenticate with `Authorization: Bearer <api key>`. Errors are `application/problem+json`.
Every POST accepts `Idempotency-Key`. Money is integer minor units with a currency; times are
RFC 3339 UTC."""


def create_app(runtime: Runtime | None = None, *, start_queue: bool = True, with_worker: bool = False) -> Litestar:
    runtime = runtime or Runtime()
    handlers: list[RouteContribution] = []
    seen: dict[tuple[str, str], str] = {}
    for registered in runtime.host.routes():
        handler = _route(registered)
        handlers.append(handler)
        for path, methods in _paths_of(handler):
            for method in methods:
                if (path, method) in seen:
                    raise PluginError(
                        f"plugins {seen[path, method]!r} and {registered.plugin!r} both register {method} {path}"
                    )
                seen[path, method] = registered.plugin

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await runtime.start(with_queue=start_queue)
        async with runtime.unit_of_work():
            await ensure_channels({code: r.value.name for code, r in runtime.host.channels.items()})
        # One limiter per app, counting in the Redis every API process shares (its queue's name
        # keeps engines, or test sessions, sharing one Redis apart).
        limiter = app.state[LIMITER_STATE] = RateLimiter(runtime.redis_url(), namespace=read(QUEUE_NAME))
        stop = asyncio.Event()
        worker = asyncio.create_task(run_worker(runtime, stop)) if with_worker else None
        services = contextlib.AsyncExitStack()
        try:
            await start_services(runtime, services)
            yield
        finally:
            await services.aclose()
            if worker is not None:
                stop.set()
                await worker
            await limiter.close()
            await runtime.stop()

    webhooks = _openapi_webhooks(handlers)
    handlers.append(
        create_static_files_router(
            path=STATIC,
            directories=[Path(__file__).parent / "static" / "swagger-ui"],
            opt={"exclude_from_auth": True},
            include_in_schema=False,
        )
    )
    return Litestar(
        route_handlers=handlers,
        lifespan=[lifespan],
        state=_state(runtime),
        # Bodies are limited before anyone reads them; the idempotency middleware reads a body
        # only after authentication and the route's guards (see api/middleware.py).
        middleware=[
            request_id_middleware,
            body_limit_middleware,
            DefineMiddleware(ApiKeyAuthentication, exclude_from_auth_key="exclude_from_auth", exclude=["^/schema"]),
            idempotency_middleware,
        ],
        # The default body limit of every route (Litestar reads it from here, not from AppConfig);
        # a route with larger bodies names its own (the history import: EMPORIO_IMPORT_MAX_BODY).
        request_max_body_size=read(MAX_BODY),
        exception_handlers=exception_handlers(),
        before_request=refuse_nul_text,  # U+0000 in any text field → 422 on every database
        openapi_config=OpenAPIConfig(
            title="Emporio",
            version=__version__,
            description=API_DESCRIPTION,
            path="/schema",
            webhooks=webhooks or None,
            # Served from the engine itself (vendored swagger-ui-dist) so the docs work offline.
            render_plugins=[
                SwaggerRenderPlugin(
                    path=["/", "/swagger"],
                    js_url=f"{STATIC}/swagger-ui-bundle.js",
                    css_url=f"{STATIC}/swagger-ui.css",
                    standalone_preset_js_url=f"{STATIC}/swagger-ui-standalone-preset.js",
                ),
                JsonRenderPlugin(),
            ],
            components=Components(
                security_schemes={
                    "apiKey": SecurityScheme(type="http", scheme="bearer", description="An Emporio API key")
                }
            ),
            security=[{"apiKey": []}],
        ),
        debug=False,
    )


async def start_services(runtime: Runtime, stack: contextlib.AsyncExitStack) -> list[str]:
    """Enter every plugin service (`register_services`) on `stack`; returns the names started."""
    started = []
    for registered in runtime.host.services.values():
        serving = registered.value.run(runtime)
        if serving is not None:
            await stack.enter_async_context(serving)
            started.append(registered.value.name)
    return started


def _state(runtime: Runtime) -> Any:
    from litestar.datastructures import State

    return State({"runtime": runtime})


def _route(registered: Registered) -> RouteContribution:
    """What a plugin gave `register_routes`, refused at start unless Litestar can serve it."""
    value = registered.value
    if isinstance(value, Router | BaseRouteHandler) or (isinstance(value, type) and issubclass(value, Controller)):
        return value
    raise PluginError(
        f"plugin {registered.plugin!r} registered {value!r} in register_routes; expected a Litestar Router, "
        "a Controller subclass or a route handler (a function decorated with @get, @post…)"
    )


def _openapi_webhooks(handlers: list[RouteContribution]) -> dict[str, PathItem | Reference]:
    """The `webhooks` the routes' OPENAPI_WEBHOOKS_OPT describe."""
    webhooks: dict[str, PathItem | Reference] = {}
    for handler in handlers:
        build = handler.opt.get(OPENAPI_WEBHOOKS_OPT) if isinstance(handler, BaseRouteHandler) else None
        if build is not None:
            webhooks.update(build())
    return webhooks


def _paths_of(handler: RouteContribution) -> list[tuple[str, set[str]]]:
    """(path, methods) a route handler or controller serves, for duplicate detection."""
    out: list[tuple[str, set[str]]] = []
    fn = getattr(handler, "paths", None)
    methods = getattr(handler, "http_methods", None)
    if fn and methods:
        out.extend((p, set(methods)) for p in fn)
    return out
