"""register_routes is typed (`RouteContribution`): a Router and a Controller subclass are served
like route handlers, and whatever Litestar cannot serve is refused at start, naming the plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from litestar import Controller, Router, get

from api.app import create_app
from api.auth import OPS
from core.hookspecs import hookimpl
from core.hookspecs.app import RouteContribution
from core.plugins import PluginError
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin


class Lighthouse(Controller):
    path = "/v1/inline-lighthouse"
    guards = [OPS]  # noqa: RUF012 - Litestar reads it as a class attribute

    @get("/beam", summary="A route of an inline plugin's controller")
    async def beam(self) -> dict[str, str]:
        return {"beam": "on"}


@get("/tide", guards=[OPS], summary="A route of an inline plugin's router")
async def tide() -> dict[str, int]:
    return {"metres": 2}


class TypedRoutesPlugin:
    @hookimpl
    def register_routes(self, register: Callable[[RouteContribution], None]) -> None:
        register(Lighthouse)
        register(Router(path="/v1/inline-harbour", route_handlers=[tide]))


async def test_hook_register_routes_serves_controllers_and_routers(api: Any, runtime: Runtime) -> None:
    with inline_plugin(runtime.host, TypedRoutesPlugin(), name="inline-typed-routes"):
        app = create_app(runtime)
    # httpx types an ASGI app with plain MutableMapping scopes, Litestar with TypedDicts: the same protocol.
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://inline") as client:
        beam = await client.get("/v1/inline-lighthouse/beam", headers=api.headers("ops"))
        assert (beam.status_code, beam.json()) == (200, {"beam": "on"})
        tide_now = await client.get("/v1/inline-harbour/tide", headers=api.headers("ops"))
        assert (tide_now.status_code, tide_now.json()) == (200, {"metres": 2})
        assert (await client.get("/v1/inline-harbour/tide")).status_code == 401  # behind the core's auth


async def plain_function() -> dict[str, str]:
    return {}


class UntypedRoutesPlugin:
    def __init__(self, contribution: object) -> None:
        self.contribution = contribution

    @hookimpl
    def register_routes(self, register: Callable[[Any], None]) -> None:
        register(self.contribution)


@pytest.mark.parametrize(
    ("contribution", "shown"),
    [(plain_function, "plain_function"), (Lighthouse(owner=None), "Lighthouse"), ("/v1/x", "'/v1/x'")],  # type: ignore[arg-type]
    ids=["undecorated function", "controller instance", "a path"],
)
def test_hook_register_routes_refuses_what_litestar_cannot_serve(
    runtime: Runtime, contribution: object, shown: str
) -> None:
    with (
        inline_plugin(runtime.host, UntypedRoutesPlugin(contribution), name="inline-untyped"),
        pytest.raises(PluginError) as refused,
    ):
        create_app(runtime)
    message = str(refused.value)
    assert message.startswith("plugin 'inline-untyped' registered ")
    assert shown in message
    assert "expected a Litestar Router, a Controller subclass or a route handler" in message
