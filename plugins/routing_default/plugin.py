"""Hooks of the default routing plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.hookspecs import hookimpl
from core.hookspecs.routing import AllocationDecision, RoutingRequest
from core.settings import SettingSpec
from plugins.routing_default.ranking import ROUTING_CRITERIA, allocate, configured_criteria


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    register(ROUTING_CRITERIA)


@hookimpl
def resolve_allocation(request: RoutingRequest) -> AllocationDecision | None:
    return allocate(request, configured_criteria())
