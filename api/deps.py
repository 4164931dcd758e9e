"""Helpers handlers use to reach the runtime and the caller."""

from __future__ import annotations

from typing import Any

from litestar import Request

from core.runtime import Runtime


def runtime_of(request: Request[Any, Any, Any]) -> Runtime:
    runtime = request.app.state["runtime"]
    assert isinstance(runtime, Runtime)
    return runtime
