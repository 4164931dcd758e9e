"""Helpers handlers use to reach the runtime and the caller."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from core.runtime import Runtime


def runtime_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Runtime:
    """The engine, from a request or a WebSocket."""
    runtime = connection.app.state["runtime"]
    assert isinstance(runtime, Runtime)
    return runtime
