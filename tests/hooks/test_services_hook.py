"""register_services: plugin servers started in the API process's lifespan, stopped in reverse."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

import pytest

from api.app import start_services
from core.hookspecs import hookimpl
from core.hookspecs.app import EngineService
from core.plugins import PluginError
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin

EVENTS: list[str] = []


@contextlib.asynccontextmanager
async def listener(runtime: Runtime) -> AsyncIterator[None]:
    EVENTS.append(f"start:{runtime.db.dialect}")
    try:
        yield
    finally:
        EVENTS.append("stop")


class Services:
    @hookimpl
    def register_services(self, register: Callable[[EngineService], None]) -> None:
        register(EngineService(name="inline-listener", run=listener))
        register(EngineService(name="inline-unconfigured", run=lambda runtime: None))


async def test_hook_register_services(runtime: Runtime) -> None:
    EVENTS.clear()
    with inline_plugin(runtime.host, Services(), name="inline-services"):
        assert runtime.host.services["inline-listener"].plugin == "inline-services"
        async with contextlib.AsyncExitStack() as stack:
            started = await start_services(runtime, stack)
            assert "inline-listener" in started and "inline-unconfigured" not in started
            assert [f"start:{runtime.db.dialect}"] == EVENTS
        assert EVENTS[-1] == "stop"
        with inline_plugin(runtime.host, Services(), name="inline-services-2"), pytest.raises(PluginError):
            _ = runtime.host.services
    assert "inline-listener" not in runtime.host.services
