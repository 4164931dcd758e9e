"""Outbound webhooks over HTTP (admin only): endpoints (the secret shown once, in the answer that
made it), their changes (URL, events, enabling a disabled one), each endpoint's deliveries with
every attempt, and a manual retry."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.app import OPENAPI_WEBHOOKS_OPT
from api.auth import ADMIN, principal_of
from api.deps import runtime_of
from api.middleware import secret_response
from core.db.pagination import Page
from plugins.webhooks_out import deliveries, endpoints, health, openapi

Limit = Annotated[int, QueryParameter(name="limit", ge=1, le=200)]
Cursor = Annotated[str | None, QueryParameter(name="cursor", max_length=200)]


@post(
    "/v1/webhook-endpoints",
    guards=[ADMIN],
    tags=["webhooks"],
    opt={**secret_response("secret"), OPENAPI_WEBHOOKS_OPT: openapi.webhooks},
    summary="Register a webhook receiver (its `whsec_` secret is shown once)",
    description="`events` are event types of the catalogue (`order.placed`, `shipment.delivered`…; the "
    "`webhooks` section of this document and docs/webhooks.md list them). Each subscribed event is POSTed to "
    "`url`, signed per Standard Webhooks with the returned `secret`.",
)
async def create_endpoint(
    request: Request[Any, Any, Any], data: JSONBody[endpoints.EndpointIn]
) -> endpoints.CreatedEndpoint:
    async with runtime_of(request).unit_of_work():
        return await endpoints.create(data, actor=principal_of(request).name)


@get("/v1/webhook-endpoints", guards=[ADMIN], tags=["webhooks"], summary="Webhook endpoints, oldest first")
async def list_endpoints(limit: Limit = 50, cursor: Cursor = None) -> Page[endpoints.EndpointOut]:
    return await endpoints.list_endpoints(limit, cursor)


@get(
    "/v1/webhook-endpoints/{endpoint_id:str}",
    guards=[ADMIN],
    tags=["webhooks"],
    summary="One webhook endpoint (without its secret): enabled, or disabled after five days of failures",
)
async def get_endpoint(endpoint_id: FromPath[str]) -> endpoints.EndpointOut:
    return await endpoints.get(endpoint_id)


@patch(
    "/v1/webhook-endpoints/{endpoint_id:str}",
    guards=[ADMIN],
    tags=["webhooks"],
    summary="Change an endpoint: its URL, events or description; `status` disables it or enables it again",
    description="Enabling a disabled endpoint clears its failure record and closes the ops task its "
    "disablement opened; the deliveries that failed meanwhile are retried one by one with "
    "`POST /v1/webhook-deliveries/{id}/retry`. Disabling one ends its waiting deliveries as `failed`.",
)
async def update_endpoint(
    request: Request[Any, Any, Any], endpoint_id: FromPath[str], data: JSONBody[endpoints.EndpointPatch]
) -> endpoints.EndpointOut:
    runtime, actor = runtime_of(request), principal_of(request).name
    async with runtime.unit_of_work():
        change = await endpoints.update(endpoint_id, data, actor, runtime.db.for_update())
        if change.disabled:
            await deliveries.fail_pending(endpoint_id)
        if change.enabled:
            await health.close_disabled_tasks(runtime, endpoint_id, actor)
    return change.endpoint


@post(
    "/v1/webhook-endpoints/{endpoint_id:str}/secret",
    guards=[ADMIN],
    tags=["webhooks"],
    status_code=200,
    opt=secret_response("secret"),
    summary="Replace an endpoint's signing secret (the new `whsec_` secret is shown once; the old one stops at once)",
)
async def rotate_secret(request: Request[Any, Any, Any], endpoint_id: FromPath[str]) -> endpoints.CreatedEndpoint:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        return await endpoints.rotate_secret(endpoint_id, runtime.db.for_update())


@get(
    "/v1/webhook-endpoints/{endpoint_id:str}/deliveries",
    guards=[ADMIN],
    tags=["webhooks"],
    summary="The endpoint's deliveries, newest first, with every attempt (status, latency, response excerpt)",
)
async def list_deliveries(
    endpoint_id: FromPath[str], limit: Limit = 50, cursor: Cursor = None
) -> Page[deliveries.DeliveryOut]:
    return await deliveries.list_for(endpoint_id, limit, cursor)


@post(
    "/v1/webhook-deliveries/{delivery_id:str}/retry",
    guards=[ADMIN],
    tags=["webhooks"],
    status_code=202,
    summary="Send a delivery again now (also one that failed or gave up), with the same webhook-id",
)
async def retry_delivery(request: Request[Any, Any, Any], delivery_id: FromPath[str]) -> deliveries.DeliveryOut:
    return await deliveries.retry(runtime_of(request), delivery_id)


HANDLERS = (
    create_endpoint,
    list_endpoints,
    get_endpoint,
    update_endpoint,
    rotate_secret,
    list_deliveries,
    retry_delivery,
)
