"""The ops web app: `/ops` serves a small offline app (the KPI dashboard, the segment view and the
agents' service workspace); `/ops/session` signs in with an ops or agent key and leaves only a
session cookie in the browser. The cookie authorises reads; a change also needs the session's
anti-forgery token, which the page holds in memory (`api.auth.ops_csrf_token`). A few read-only
helpers for the workspace live here too: the agents to assign to and a case's macros rendered."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath
from litestar.static_files import create_static_files_router

from api.auth import AGENT, AGENT_OR_OPS, OPS_SESSION_COOKIE, client_address, count, ops_csrf_token, principal_of
from api.deps import runtime_of
from api.problems import problem
from core.access import apikeys, ops_sessions
from core.access.ratelimits import OPS_SIGN_IN
from core.domain.auth import Principal, Scope
from core.hookspecs import hookimpl
from core.service import agents, cases
from core.service.macros import macro_context
from core.service.policy import render_macro, variables_of

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "ops"
OPEN = {"exclude_from_auth": True}  # these handlers check the key or the cookie themselves
MAX_KEY_LENGTH = 200

# Everything the app needs comes from this origin: no CDN, no inline script, no framing.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
NO_STORE = {"Cache-Control": "no-store"}


DASHBOARD_SCOPES = (Scope.OPS, Scope.AGENT)  # ops: the KPI views; agent: the service workspace


class SignIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: str


class DashboardSession(msgspec.Struct, frozen=True):
    key_id: str
    key_name: str
    scopes: list[str]
    # None when the caller authenticated with its key rather than with a dashboard session.
    created_at: datetime | None
    expires_at: datetime | None
    # Sent back as X-Emporio-CSRF on every change the page makes; kept in the page's memory only.
    csrf_token: str | None


class AgentBrief(msgspec.Struct, frozen=True):
    id: str
    name: str
    skills: list[str]
    languages: list[str]
    active: bool
    open_cases: int


class Colleagues(msgspec.Struct, frozen=True):
    me: str | None  # the agent the caller acts as (None for an ops key, which works no cases)
    agents: list[AgentBrief]


class MacroPreview(msgspec.Struct, frozen=True):
    id: str
    title: dict[str, str]
    text: str | None  # exactly what POST /v1/cases/{id}/messages {macro} would send; None when it cannot
    missing: list[str]  # the variables this case has no value for


class CaseMacros(msgspec.Struct, frozen=True):
    case_id: str
    locale: str
    macros: list[MacroPreview]


@cache
def _index_html() -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")


@get("/ops", opt=OPEN, tags=["ops"], summary="The ops dashboard (an HTML page)", media_type=MediaType.HTML)
async def ops_app() -> Response[str]:
    """The dashboard; it shows its sign-in form until GET /ops/session answers 200."""
    return Response(_index_html(), media_type=MediaType.HTML, headers=PAGE_HEADERS)


def _dashboard_session(session: ops_sessions.OpsSessionOut, token: str | None) -> DashboardSession:
    return DashboardSession(
        key_id=session.key_id,
        key_name=session.key_name,
        scopes=session.scopes,
        created_at=session.created_at,
        expires_at=session.expires_at,
        csrf_token=ops_csrf_token(token) if token else None,
    )


@get(
    "/ops/session",
    guards=[AGENT_OR_OPS],
    tags=["ops"],
    summary="Who the dashboard runs as: the key behind the session cookie (or the key sent)",
)
async def current_session(request: Request[Any, Any, Any]) -> Response[DashboardSession]:
    principal = principal_of(request)
    token = request.cookies.get(OPS_SESSION_COOKIE, "")
    session = await ops_sessions.session_of(token)
    if session is None or session.key_id != principal.key_id:  # the caller sent its key, not the cookie
        keyed = ops_sessions.OpsSessionOut(
            key_id=principal.key_id,
            key_name=principal.name,
            scopes=sorted(s.value for s in principal.scopes),
            created_at=None,
            expires_at=None,
        )
        return Response(_dashboard_session(keyed, None), headers=NO_STORE)
    return Response(_dashboard_session(session, token), headers=NO_STORE)


@post(
    "/ops/session",
    opt=OPEN,
    tags=["ops"],
    summary="Sign in to the ops web app with an ops or agent key",
    status_code=201,
)
async def sign_in(request: Request[Any, Any, Any]) -> Response[Any]:
    if not _same_origin(request):
        return problem(403, "sign-in requests must come from the dashboard's own origin")
    key, is_form = await _key_from(request)
    if key is None:
        return problem(400, 'send the API key as JSON {"key": "emp_…"} or as the form field \'key\'')
    principal = await apikeys.authenticate(key) if len(key) <= MAX_KEY_LENGTH else None
    if principal is None:
        await count(request, OPS_SIGN_IN, client_address(request))  # 429 once too many failed (api/auth.py)
        return problem(401, "the API key is unknown or revoked")
    if not principal.allows(DASHBOARD_SCOPES):
        return problem(403, "the ops web app needs a key with the ops or agent (or admin) scope")
    ttl = ops_sessions.session_ttl()
    async with runtime_of(request).unit_of_work():
        started = await ops_sessions.start_session(principal, ttl=ttl)
    cookie = _session_cookie(request, started.token, ttl)
    if is_form:  # a plain HTML form post (no JavaScript): back to the dashboard
        return Response("", status_code=303, headers={"Location": "/ops", **NO_STORE}, cookies=[cookie])
    body = _dashboard_session(started.session, started.token)
    return Response(body, status_code=201, headers=NO_STORE, cookies=[cookie])


@post("/ops/session/logout", opt=OPEN, tags=["ops"], summary="Sign out of the ops dashboard", status_code=204)
async def sign_out(request: Request[Any, Any, Any]) -> Response[None]:
    if not _same_origin(request):
        return problem(403, "sign-out requests must come from the dashboard's own origin")
    token = request.cookies.get(OPS_SESSION_COOKIE, "")
    if token:
        async with runtime_of(request).unit_of_work():
            await ops_sessions.revoke_session(token)
    cleared = _session_cookie(request, "", timedelta(0))
    if _is_form(request):
        return Response(None, status_code=303, headers={"Location": "/ops", **NO_STORE}, cookies=[cleared])
    return Response(None, status_code=204, headers=NO_STORE, cookies=[cleared])


@get("/ops/agents", guards=[AGENT_OR_OPS], tags=["ops"], summary="The agents a case can go to, and who the caller is")
async def colleagues(request: Request[Any, Any, Any]) -> Response[Colleagues]:
    principal = principal_of(request)
    async with runtime_of(request).unit_of_work():
        me = await agents.agent_for(principal) if _works_cases(principal) else None
        every = await agents.list_agents()
    briefs = [
        AgentBrief(
            id=a.id, name=a.name, skills=a.skills, languages=a.languages, active=a.active, open_cases=a.open_cases
        )
        for a in every
    ]
    return Response(Colleagues(me=me, agents=briefs), headers=NO_STORE)


@get(
    "/ops/cases/{case_id:str}/macros",
    guards=[AGENT],
    tags=["ops"],
    summary="The service policy's reply macros, each rendered for this case as it would be sent",
)
async def case_macros(request: Request[Any, Any, Any], case_id: FromPath[str]) -> Response[CaseMacros]:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        case = await cases.case_row(case_id, follow_merge=True)
        me = await agents.agent_for(principal_of(request))
        values = await macro_context(case, me)
        policy = await cases.service_policy(runtime)
    previews = []
    for macro in policy.macros:
        try:
            text: str | None = render_macro(macro, case["locale"], values)
            missing: list[str] = []
        except KeyError:
            body = macro.body.get(case["locale"]) or macro.body.get("el") or next(iter(macro.body.values()), "")
            text, missing = None, sorted({v for v in variables_of(body) if v not in values})
        previews.append(MacroPreview(id=macro.id, title=macro.title, text=text, missing=missing))
    return Response(CaseMacros(case_id=case["id"], locale=case["locale"], macros=previews), headers=NO_STORE)


def _works_cases(principal: Principal) -> bool:
    return principal.allows((Scope.AGENT,))


def _session_cookie(request: Request[Any, Any, Any], token: str, ttl: timedelta) -> Cookie:
    seconds = max(int(ttl.total_seconds()), 0)
    return Cookie(
        key=OPS_SESSION_COOKIE,
        value=token,
        path="/",
        max_age=seconds,
        expires=seconds,  # Litestar turns this into an absolute date; max_age wins where understood
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _same_origin(request: Request[Any, Any, Any]) -> bool:
    """Browsers send Origin on POSTs; one naming another site is a forged sign-in (login CSRF).
    Clients without Origin (curl, scripts) are let through: they cannot ride a victim's cookie."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.scheme == request.url.scheme and parts.netloc == request.url.netloc


def _is_form(request: Request[Any, Any, Any]) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}


async def _key_from(request: Request[Any, Any, Any]) -> tuple[str | None, bool]:
    if _is_form(request):
        form = await request.form()
        value = form.get("key")
        return (value.strip() if isinstance(value, str) and value.strip() else None), True
    try:
        body = msgspec.json.decode(await request.body(), type=SignIn)
    except msgspec.DecodeError:
        return None, False
    return (body.key.strip() or None), False


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    ops_sessions.session_ttl()  # a bad EMPORIO_OPS_SESSION_HOURS stops the app at start, not at sign-in
    for handler in (ops_app, current_session, sign_in, sign_out, colleagues, case_macros):
        register(handler)
    register(
        create_static_files_router(
            path="/ops/static",
            directories=[STATIC_DIR],
            name="ops-static",
            opt=OPEN,
            include_in_schema=False,
        )
    )
