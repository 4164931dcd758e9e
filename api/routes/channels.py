"""Webhooks of sales-channel connectors: `POST /v1/webhooks/channels/{code}` (Skroutz Smart Cart
posts to `/v1/webhooks/channels/skroutz`).

Marketplaces like Skroutz sign nothing, so the request is trusted for one thing only — which of
the marketplace's orders it is about; the order is read again from the marketplace before
anything is reserved. Answers: 200 with what became of the order; 400 for a body that is no
webhook of that marketplace; 404 for an unknown channel or an order the marketplace does not
have; 502/503 when the marketplace refused or did not answer the read (it delivers again).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response, post
from litestar.params import FromPath

from api.deps import runtime_of
from api.problems import problem
from core.hookspecs import hookimpl
from core.hookspecs.app import RouteContribution
from core.hookspecs.channels import ChannelWebhookInvalid
from core.orders import channel_intake


@post(
    "/v1/webhooks/channels/{code:str}",
    opt={"exclude_from_auth": True},
    tags=["webhooks"],
    status_code=200,
    summary="Inbound sales-channel webhook: names a marketplace order, which is read again and taken in once",
)
async def channel_webhook(request: Request[Any, Any, Any], code: FromPath[str]) -> Response[Any]:
    runtime = runtime_of(request)
    connector = channel_intake.connector_for(runtime.host, code)
    body = await request.body()
    try:
        notice = connector.parse_webhook(dict(request.headers), body)
    except ChannelWebhookInvalid as exc:
        return problem(400, f"not a webhook of {connector.name}: {exc}", slug="channel-webhook")
    outcome = await channel_intake.receive(runtime, connector, notice.external_id)
    return Response(msgspec.to_builtins(outcome))


@hookimpl
def register_routes(register: Callable[[RouteContribution], None]) -> None:
    register(channel_webhook)
