"""Returns (RMA): request, read, approve/decline, receive with inspection; the dry run of the
return policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, JSONBody

from api.auth import OPS, STOREFRONT_OR_OPS, principal_of, requires
from api.deps import runtime_of
from core.domain.auth import Scope
from core.domain.errors import NotFound
from core.domain.returns import DecisionIn, ReceiveIn, ReturnIn, ReturnOut
from core.hookspecs import hookimpl
from core.orders.tables import Order
from core.policies import policies
from core.returns import returns

STOREFRONT_OR_AGENT = requires(Scope.STOREFRONT, Scope.AGENT)


@post(
    "/v1/returns",
    guards=[STOREFRONT_OR_AGENT],
    tags=["returns"],
    summary="Request a return; the policy answers 201 (approved or pending_review) or 422 with its reason",
)
async def request_return(request: Request[Any, Any, Any], data: JSONBody[ReturnIn]) -> ReturnOut:
    return await returns.request_return(runtime_of(request), data)


@get("/v1/returns/{return_id:str}", guards=[STOREFRONT_OR_OPS], tags=["returns"], summary="Read a return")
async def get_return(return_id: FromPath[str]) -> ReturnOut:
    return await returns.get_return(return_id)


@post(
    "/v1/returns/{return_id:str}/approve", guards=[OPS], tags=["returns"], status_code=200, summary="Approve a return"
)
async def approve(
    request: Request[Any, Any, Any], return_id: FromPath[str], data: JSONBody[DecisionIn | None] = None
) -> ReturnOut:
    return await returns.decide(
        runtime_of(request), return_id, True, data.reason if data else None, principal_of(request).name
    )


@post(
    "/v1/returns/{return_id:str}/decline", guards=[OPS], tags=["returns"], status_code=200, summary="Decline a return"
)
async def decline(
    request: Request[Any, Any, Any], return_id: FromPath[str], data: JSONBody[DecisionIn | None] = None
) -> ReturnOut:
    return await returns.decide(
        runtime_of(request), return_id, False, data.reason if data else None, principal_of(request).name
    )


@post(
    "/v1/returns/{return_id:str}/receive",
    guards=[OPS],
    tags=["returns"],
    status_code=200,
    summary="Receive and inspect per line; then the resolution is carried out (refund, replacement, repair, credit)",
)
async def receive(request: Request[Any, Any, Any], return_id: FromPath[str], data: JSONBody[ReceiveIn]) -> ReturnOut:
    return await returns.receive(runtime_of(request), return_id, data, principal_of(request).name)


class ReturnDraft(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    request: ReturnIn
    policy: dict[str, Any] | None = None  # evaluate an unsaved policy document instead of the current one


@post(
    "/v1/policies/returns/evaluate",
    guards=[OPS],
    tags=["policies"],
    status_code=200,
    summary="Dry run: what the return policy would decide for a return request",
)
async def evaluate(request: Request[Any, Any, Any], data: JSONBody[ReturnDraft]) -> dict[str, Any]:
    runtime = runtime_of(request)
    order = await Order.select().where(Order.id == data.request.order_id).first()
    if order is None:
        raise NotFound(f"no order with id {data.request.order_id}")
    context = await returns.context_for(order, data.request, data.request.locale or "el")
    if data.policy is not None:
        kind = policies.kind_of(runtime.host, "returns")
        document = msgspec.to_builtins(policies.validate(kind, data.policy))
        decision = runtime.host.pm.hook.evaluate_return_request(request=context, policy=document, policy_version=-1)
        version = -1
    else:
        decision, version = await returns.evaluate(runtime, context)
    return {
        "policy_version": version,
        "request": msgspec.to_builtins(context),
        "decision": msgspec.to_builtins(decision) if decision is not None else None,
    }


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (request_return, get_return, approve, decline, receive, evaluate):
        register(handler)
