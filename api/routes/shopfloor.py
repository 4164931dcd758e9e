"""The shop floor over HTTP: the work queues the ops dashboard opens on (`GET /v1/ops/queues`),
each item linking to its order. One use case, core/fulfilment/queues.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import QueryParameter

from api.auth import OPS
from api.deps import runtime_of
from core.fulfilment.queues import MAX_ITEMS, QueueId, QueuesOut, work_queues
from core.hookspecs import hookimpl
from core.hookspecs.app import RouteContribution


@get(
    "/v1/ops/queues",
    guards=[OPS],
    tags=["ops"],
    summary="The work waiting on the shop floor: every queue with its count and its oldest items",
    description="Queues, always all of them in this order: to_pack, labels_failed, failed_deliveries, "
    "returns_to_inspect, refunds_failed, open_tasks, payments_require_action. Each item names its order "
    "(`order_url`). See docs/api.md for the item fields.",
)
async def queues(
    request: Request[Any, Any, Any],
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=MAX_ITEMS)] = 20,
    queue: Annotated[QueueId | None, QueryParameter(name="queue")] = None,
) -> QueuesOut:
    return await work_queues(runtime_of(request), limit=limit, only=queue)


@hookimpl
def register_routes(register: Callable[[RouteContribution], None]) -> None:
    register(queues)
