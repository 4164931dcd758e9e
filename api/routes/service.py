"""The service desk over HTTP: cases and their messages, what agents do to them, agents, the
service policy's dry run, the customer 360 and caller lookup; and the agents' live updates over a
WebSocket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
import redis.asyncio as redis
import structlog
from litestar import Request, Response, WebSocket, get, post, put, websocket
from litestar.exceptions import NotAuthorizedException, WebSocketDisconnect
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import AGENT, OPS, principal_of, requires
from api.deps import runtime_of
from core.customers import context
from core.db.database import utcnow
from core.db.pagination import Page
from core.domain.auth import Scope
from core.domain.errors import InvalidInput, NotFound
from core.domain.orders import CustomerRef
from core.domain.service import (
    AgentIn,
    AgentOut,
    AssignIn,
    CaseIn,
    CaseOut,
    Channel,
    MergeIn,
    MessageIn,
    WorklogIn,
)
from core.hookspecs import hookimpl
from core.hookspecs.contact import TelephonyRejected
from core.service import agents, answers, cases, contacts, live, telephony, triage, views

STOREFRONT_OR_AGENT = requires(Scope.STOREFRONT, Scope.AGENT)
log = structlog.get_logger("emporio.service")


class EvaluateIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    subject: str = ""
    body: str = ""
    channel: Channel = Channel.EMAIL
    order_id: str | None = None
    locale: str = "el"
    topic: str | None = None
    at: datetime | None = None


def _for_customer(case: CaseOut) -> CaseOut:
    """What a storefront (the customer's side) may see: no internal notes, no 360."""
    return msgspec.structs.replace(case, messages=[m for m in case.messages if not m.internal], context=None)


@post("/v1/cases", guards=[STOREFRONT_OR_AGENT], tags=["service"], summary="Open a case (or add to the open one)")
async def create_case(request: Request[Any, Any, Any], data: JSONBody[CaseIn]) -> CaseOut:
    runtime = runtime_of(request)
    principal = principal_of(request)
    staff = principal.allows((Scope.AGENT,)) and not principal.allows((Scope.STOREFRONT,))
    async with runtime.unit_of_work():
        if data.order_id and not await contacts.resolve_orders("", [data.order_id]):
            raise InvalidInput(f"no order {data.order_id}", errors=[{"field": "order_id", "message": "unknown order"}])
        logged_by = await agents.agent_for(principal) if staff else None
        received = await contacts.open_case(runtime, data, logged_by_agent=logged_by)
    case = await views.get_case(received.case_id, runtime.host)
    return case if staff else _for_customer(case)


@get("/v1/cases", guards=[AGENT], tags=["service"], summary="Cases, newest first, with filters")
async def list_cases(
    request: Request[Any, Any, Any],
    status: Annotated[str | None, QueryParameter(name="status", max_length=20)] = None,
    assignee: Annotated[str | None, QueryParameter(name="assignee", max_length=100)] = None,
    topic: Annotated[str | None, QueryParameter(name="topic", max_length=60)] = None,
    customer: Annotated[str | None, QueryParameter(name="customer", max_length=100)] = None,
    order: Annotated[str | None, QueryParameter(name="order", max_length=100)] = None,
    breaching: Annotated[bool | None, QueryParameter(name="breaching")] = None,
    my_skills: Annotated[bool | None, QueryParameter(name="my_skills")] = None,
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 50,
    cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
) -> Page[CaseOut]:
    """`assignee=me` is the caller's own inbox, `assignee=none` the unassigned queue; with
    `my_skills=true` only cases needing one of the caller's skills."""
    skills = None
    if assignee == "me" or my_skills:
        async with runtime_of(request).unit_of_work():
            me = await agents.agent_for(principal_of(request))
        if assignee == "me":
            assignee = me
        if my_skills:
            skills = (await agents.get_agent(me)).skills
    return await views.list_cases(
        status=status,
        assignee=assignee,
        topic=topic,
        customer=customer,
        order=order,
        breaching=breaching,
        skills=skills,
        limit=limit,
        cursor=cursor,
    )


@get("/v1/cases/{case_id:str}", guards=[AGENT], tags=["service"], summary="A case with its conversation and 360")
async def get_case(request: Request[Any, Any, Any], case_id: FromPath[str]) -> CaseOut:
    return await views.get_case(case_id, runtime_of(request).host)


@post(
    "/v1/cases/{case_id:str}/messages",
    guards=[STOREFRONT_OR_AGENT],
    tags=["service"],
    summary="An agent's reply or internal note, or the customer's reply (storefront)",
)
async def add_message(request: Request[Any, Any, Any], case_id: FromPath[str], data: JSONBody[MessageIn]) -> CaseOut:
    runtime = runtime_of(request)
    principal = principal_of(request)
    staff = principal.allows((Scope.AGENT,)) and not principal.allows((Scope.STOREFRONT,))
    async with runtime.unit_of_work():
        if staff or principal.allows((Scope.ADMIN,)):
            await cases.reply(runtime, case_id, await agents.agent_for(principal), data)
        else:
            if data.internal or data.macro:
                raise InvalidInput(
                    "a customer's reply cannot be internal or use a macro", errors=[{"field": "internal"}]
                )
            case = await cases.case_row(case_id, follow_merge=True)
            await contacts.receive(
                runtime,
                contacts.Contact(
                    customer=CustomerRef(id=case["customer_id"]),
                    channel=data.channel or Channel.WEB,
                    body=data.body,
                    case_id=case["id"],
                ),
            )
    case_out = await views.get_case(case_id, runtime.host)
    return case_out if staff or principal.allows((Scope.ADMIN,)) else _for_customer(case_out)


async def _act(request: Request[Any, Any, Any], case_id: str, action: str, argument: str | None = None) -> CaseOut:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        me = await agents.agent_for(principal_of(request))
        if action == "claim":
            await cases.claim(case_id, me)
        elif action == "assign":
            await cases.assign(case_id, argument or "", by=me)
        elif action == "resolve":
            await cases.resolve(case_id, by=me)
        elif action == "reopen":
            await cases.reopen(case_id, by=me)
        elif action == "close":
            await cases.close(case_id, by=me)
        elif action == "merge":
            await cases.merge(case_id, argument or "", by=me)
    return await views.get_case(case_id, runtime.host)


@post("/v1/cases/{case_id:str}/claim", guards=[AGENT], tags=["service"], status_code=200, summary="Take the case")
async def claim(request: Request[Any, Any, Any], case_id: FromPath[str]) -> CaseOut:
    return await _act(request, case_id, "claim")


@post("/v1/cases/{case_id:str}/assign", guards=[AGENT], tags=["service"], status_code=200, summary="Assign the case")
async def assign(request: Request[Any, Any, Any], case_id: FromPath[str], data: JSONBody[AssignIn]) -> CaseOut:
    return await _act(request, case_id, "assign", data.agent)


@post("/v1/cases/{case_id:str}/resolve", guards=[AGENT], tags=["service"], status_code=200, summary="Resolve")
async def resolve(request: Request[Any, Any, Any], case_id: FromPath[str]) -> CaseOut:
    return await _act(request, case_id, "resolve")


@post("/v1/cases/{case_id:str}/reopen", guards=[AGENT], tags=["service"], status_code=200, summary="Reopen")
async def reopen(request: Request[Any, Any, Any], case_id: FromPath[str]) -> CaseOut:
    return await _act(request, case_id, "reopen")


@post("/v1/cases/{case_id:str}/close", guards=[AGENT], tags=["service"], status_code=200, summary="Close")
async def close(request: Request[Any, Any, Any], case_id: FromPath[str]) -> CaseOut:
    return await _act(request, case_id, "close")


@post("/v1/cases/{case_id:str}/merge", guards=[AGENT], tags=["service"], status_code=200, summary="Merge into another")
async def merge(request: Request[Any, Any, Any], case_id: FromPath[str], data: JSONBody[MergeIn]) -> CaseOut:
    return await _act(request, case_id, "merge", data.into)


@post("/v1/cases/{case_id:str}/worklogs", guards=[AGENT], tags=["service"], summary="Log agent work time")
async def worklog(request: Request[Any, Any, Any], case_id: FromPath[str], data: JSONBody[WorklogIn]) -> dict[str, Any]:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        me = await agents.agent_for(principal_of(request))
        worklog_id = await cases.log_work(case_id, me, data.minutes)
    return {"id": worklog_id, "case_id": case_id, "agent_id": me, "minutes": data.minutes}


@get(
    "/v1/cases/{case_id:str}/attachments/{attachment_id:str}",
    guards=[AGENT],
    tags=["service"],
    summary="The bytes of an attachment",
)
async def get_attachment(
    request: Request[Any, Any, Any], case_id: FromPath[str], attachment_id: FromPath[str]
) -> Response[bytes]:
    row, data = await views.attachment(case_id, attachment_id, runtime_of(request).settings.data_dir)
    safe = row["filename"].replace('"', "").replace("\r", "").replace("\n", "")
    return Response(
        content=data,
        media_type=row["content_type"],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(safe, safe='')}"},
    )


@get("/v1/agents", guards=[OPS], tags=["service"], summary="Agents with their open cases")
async def list_agents() -> list[AgentOut]:
    return await agents.list_agents()


@post("/v1/agents", guards=[OPS], tags=["service"], summary="Add an agent")
async def create_agent(request: Request[Any, Any, Any], data: JSONBody[AgentIn]) -> AgentOut:
    async with runtime_of(request).unit_of_work():
        return await agents.save_agent(data)


@get("/v1/agents/{agent_id:str}", guards=[OPS], tags=["service"], summary="An agent")
async def get_agent(agent_id: FromPath[str]) -> AgentOut:
    return await agents.get_agent(agent_id)


@put("/v1/agents/{agent_id:str}", guards=[OPS], tags=["service"], summary="Replace an agent's profile")
async def update_agent(request: Request[Any, Any, Any], agent_id: FromPath[str], data: JSONBody[AgentIn]) -> AgentOut:
    async with runtime_of(request).unit_of_work():
        return await agents.save_agent(data, agent_id)


@post(
    "/v1/policies/service/evaluate",
    guards=[OPS],
    tags=["service"],
    status_code=200,
    summary="Dry run: topic, skill, priority, SLA due times and agent for a draft case",
)
async def evaluate(request: Request[Any, Any, Any], data: JSONBody[EvaluateIn]) -> dict[str, Any]:
    runtime = runtime_of(request)
    policy = await cases.service_policy(runtime)
    at = data.at or utcnow()
    decided = await triage.triage(
        policy,
        text=f"{data.subject}\n{data.body}",
        channel=data.channel,
        locale=data.locale,
        order_id=data.order_id,
        at=at,
        topic=data.topic,
    )
    return msgspec.to_builtins(decided)  # type: ignore[no-any-return]


@get("/v1/customers/{customer_id:str}/context", guards=[AGENT], tags=["service"], summary="The customer 360")
async def customer_context(request: Request[Any, Any, Any], customer_id: FromPath[str]) -> dict[str, Any]:
    return await context.customer_context(customer_id, runtime_of(request).host)


@get("/v1/customers/lookup", guards=[AGENT], tags=["service"], summary="Caller identification by phone or email")
async def lookup(
    request: Request[Any, Any, Any],
    phone: Annotated[str | None, QueryParameter(name="phone", max_length=40)] = None,
    email: Annotated[str | None, QueryParameter(name="email", max_length=320)] = None,
) -> dict[str, Any]:
    return await context.lookup(phone, email, runtime_of(request).host)


@get("/v1/cases/{case_id:str}/suggestions", guards=[AGENT], tags=["service"], summary="Answers for the case")
async def case_suggestions(request: Request[Any, Any, Any], case_id: FromPath[str]) -> dict[str, Any]:
    await cases.case_row(case_id)
    found = await answers.for_case(runtime_of(request).host, case_id)
    return {"results": [msgspec.to_builtins(s) for s in found]}


@post(
    "/v1/webhooks/telephony/{provider:str}",
    opt={"exclude_from_auth": True},
    tags=["service"],
    status_code=200,
    summary="Finished calls from a telephony provider (signed by the provider)",
)
async def telephony_webhook(request: Request[Any, Any, Any], provider: FromPath[str]) -> dict[str, Any]:
    runtime = runtime_of(request)
    registered = runtime.host.telephony_providers.get(provider)
    if registered is None:
        raise NotFound(f"no telephony provider {provider!r} is installed")
    body = await request.body()
    try:
        calls = registered.value.parse_webhook(dict(request.headers), body)
    except TelephonyRejected as exc:
        if exc.unauthenticated:
            raise NotAuthorizedException(str(exc)) from None
        raise InvalidInput(str(exc)) from None
    logged = []
    async with runtime.unit_of_work():
        for call in calls:
            received = await telephony.log_call(runtime, provider, call)
            logged.append({"call_id": call.call_id, "case_id": received.case_id, "duplicate": received.duplicate})
    return {"calls": logged}


@websocket("/v1/service/live", guards=[AGENT])
async def live_updates(socket: WebSocket[Any, Any, Any]) -> None:
    """Every case event as it happens (`{"type": "case.message_received", "case_id", "number",
    "event_id", "at", "message_id", "channel"}`…), after a first `{"type": "ready"}` once
    subscribed. An agent key (`Authorization: Bearer`), or the dashboard's session from a page of
    this site. Frames are nudges: read the case for what changed; after a reconnect, read the
    inbox again (what happened meanwhile was not queued for this socket)."""
    runtime = runtime_of(socket)
    await socket.accept()
    try:
        async with live.subscription(runtime.redis_url()) as frames:
            await socket.send_data(msgspec.json.encode(live.Ready()).decode())
            forward = asyncio.create_task(_forward_frames(socket, frames))
            try:
                while (await socket.receive())["type"] != "websocket.disconnect":
                    pass  # the agent sends nothing; anything sent is ignored
            finally:
                forward.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await forward
    except WebSocketDisconnect:
        pass
    except (redis.RedisError, OSError) as exc:  # Redis away: the client reconnects and reads again
        log.warning("service.live_unavailable", error=repr(exc))
        with contextlib.suppress(Exception):
            await socket.close(code=1011, reason="live updates are unavailable; reconnect shortly")


async def _forward_frames(socket: WebSocket[Any, Any, Any], frames: AsyncIterator[bytes]) -> None:
    try:
        async for frame in frames:
            await socket.send_data(frame.decode())
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the agent left, or Redis did: the receive loop ends the socket
        log.debug("service.live_forward_stopped", error=repr(exc))
        with contextlib.suppress(Exception):
            await socket.close(code=1011, reason="live updates stopped; reconnect")


HANDLERS = (
    live_updates,
    telephony_webhook,
    case_suggestions,
    create_case,
    list_cases,
    get_case,
    add_message,
    claim,
    assign,
    resolve,
    reopen,
    close,
    merge,
    worklog,
    get_attachment,
    list_agents,
    create_agent,
    get_agent,
    update_agent,
    evaluate,
    customer_context,
    lookup,
)


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in HANDLERS:
        register(handler)
