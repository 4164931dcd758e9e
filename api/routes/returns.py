"""Returns (RMA) over HTTP: request, read, approve/decline, receive with inspection; the dry run
of the return policy. Every handler calls one use case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath, JSONBody

from api.auth import OPS, STOREFRONT_OPS_OR_CUSTOMER, hide_unless_own, principal_of, requires
from api.deps import runtime_of
from core.domain.auth import Scope
from core.domain.returns import DecisionIn, ReceiveIn, ReturnIn, ReturnOut
from core.hookspecs import hookimpl
from core.hookspecs.app import RouteContribution
from core.returns import returns
from core.returns.dry_run import ReturnDraft, ReturnDryRun, dry_run

STOREFRONT_OR_AGENT = requires(Scope.STOREFRONT, Scope.AGENT)


@post(
    "/v1/returns",
    guards=[STOREFRONT_OR_AGENT],
    tags=["returns"],
    summary="Request a return; the policy answers 201 (approved or pending_review) or 422 with its reason",
)
async def request_return(request: Request[Any, Any, Any], data: JSONBody[ReturnIn]) -> ReturnOut:
    return await returns.request_return(runtime_of(request), data)


@get("/v1/returns/{return_id:str}", guards=[STOREFRONT_OPS_OR_CUSTOMER], tags=["returns"], summary="Read a return")
async def get_return(request: Request[Any, Any, Any], return_id: FromPath[str]) -> ReturnOut:
    found = await returns.get_return(return_id)
    hide_unless_own(request, found.customer_id, f"no return with id {return_id}")  # a customer token: its own only
    return found


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


@post(
    "/v1/policies/returns/evaluate",
    guards=[OPS],
    tags=["policies"],
    status_code=200,
    summary="Dry run: what the return policy would decide for a return request (nothing is saved)",
)
async def evaluate(request: Request[Any, Any, Any], data: JSONBody[ReturnDraft]) -> ReturnDryRun:
    return await dry_run(runtime_of(request), data)


@hookimpl
def register_routes(register: Callable[[RouteContribution], None]) -> None:
    for handler in (request_return, get_return, approve, decline, receive, evaluate):
        register(handler)
