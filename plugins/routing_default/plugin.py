"""Hooks of the default routing plugin."""

from __future__ import annotations

from core.hookspecs import hookimpl
from core.hookspecs.routing import AllocationDecision, RoutingRequest
from plugins.routing_default.ranking import allocate, configured_criteria


@hookimpl
def resolve_allocation(request: RoutingRequest) -> AllocationDecision | None:
    return allocate(request, configured_criteria())
