"""Authentication, scope guards and rate-limit guards.

`Authorization: Bearer <key>`; a missing or unknown key → 401, a key without the scope → 403.
Handlers declare their scopes with `guards=[requires(Scope.OPS)]`; open endpoints (health,
webhooks) set `opt={"exclude_from_auth": True}`. The ops dashboard's session cookie stands in for
the key on GET/HEAD requests, and on writes only together with the session's anti-forgery token in
the `X-Emporio-CSRF` header (see `ApiKeyAuthentication` and `ops_csrf_token`).

A customer token (`Bearer ect_…`, minted by the shop's server, see docs/keys.md) authenticates a
`customer` principal with no scope: only endpoints whose guard admits customers
(`requires(…, customers=True)`) let it in, and they show it only its own records
(`hide_unless_own`).

Rate limits (core/access/ratelimits.py): failed authentications are counted per client address
and storefront writes per key, here; other endpoints opt in with `rate_limit(policy)`.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Literal
from urllib.parse import urlsplit

from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Guard

from core.access import customer_tokens, ops_sessions
from core.access.apikeys import authenticate
from core.access.ratelimits import FAILED_AUTH, STOREFRONT_WRITES, RateLimiter
from core.domain.auth import Principal, Scope
from core.domain.errors import NotFound

OPS_SESSION_COOKIE = "emporio_ops"
OPS_CSRF_HEADER = "x-emporio-csrf"
SAFE_METHODS = frozenset({"GET", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BEARER_LENGTH = 200
ADMITS_CUSTOMERS = "admits_customers"  # attribute of a `requires` guard: customer tokens pass it
LIMITER_STATE = "rate_limiter"  # app.state key of the process's RateLimiter (made in the lifespan)
_COUNTED = "emporio.rate_limited"  # request state: policies already counted for this request


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def limiter_of(connection: ASGIConnection[Any, Any, Any, Any]) -> RateLimiter | None:
    limiter = connection.app.state.get(LIMITER_STATE)
    return limiter if isinstance(limiter, RateLimiter) else None


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The peer's address as the server saw it (behind a proxy, run uvicorn with
    --proxy-headers and --forwarded-allow-ips so this is the client, not the proxy)."""
    return connection.client.host if connection.client else "unknown"


async def count(connection: ASGIConnection[Any, Any, Any, Any], policy: str, identity: str) -> None:
    """Count this request once under `policy` (a guard may run twice: before the body is read,
    and again by Litestar); RateLimited (429) when the budget is spent."""
    limiter = limiter_of(connection)
    if limiter is None:
        return
    counted: set[str] = connection.scope.setdefault("state", {}).setdefault(_COUNTED, set())
    if policy in counted:
        return
    counted.add(policy)
    await limiter.hit(policy, identity)


async def _refused(connection: ASGIConnection[Any, Any, Any, Any], detail: str) -> NotAuthorizedException:
    """A credential was sent and did not hold: count it against the address (429 once too many
    failed), else the 401 to raise."""
    await count(connection, FAILED_AUTH, client_address(connection))
    return NotAuthorizedException(detail, headers={"WWW-Authenticate": "Bearer"})


def ops_csrf_token(session_token: str) -> str:
    """The anti-forgery token of a dashboard session: derived from the cookie's secret, which no
    script can read, and told only to the dashboard's own page by GET /ops/session (other origins
    cannot read that answer: no CORS), so a cross-site form or fetch riding the cookie cannot send it."""
    return hashlib.sha256(b"emporio-ops-csrf\x00" + session_token.encode()).hexdigest()


def _csrf_holds(connection: ASGIConnection[Any, Any, Any, Any], session_token: str) -> bool:
    sent = connection.headers.get(OPS_CSRF_HEADER, "")
    return bool(sent) and hmac.compare_digest(sent.encode(), ops_csrf_token(session_token).encode())


def _same_origin_socket(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """A WebSocket opened by a page of this very site (the dashboard's live updates): a browser
    always sends `Origin` with the handshake, and no page elsewhere can claim ours. WebSockets
    escape CORS, so this check is what stops another site's page riding the session cookie."""
    if connection.scope.get("type") != ScopeType.WEBSOCKET:
        return False
    origin = urlsplit(connection.headers.get("origin", ""))
    return bool(origin.netloc) and origin.netloc == connection.headers.get("host", "")


class ApiKeyAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = bearer_token(connection)
        if token is None:
            # The ops dashboard (api/routes/ops.py) signs in once and then uses the API with its
            # session cookie instead of a key. Browsers attach cookies to cross-site form posts, so
            # the cookie alone authorises only safe methods; a change needs the session's
            # anti-forgery header too (SameSite=Strict is the second lock). An Authorization
            # header, when sent, always wins.
            cookie = connection.cookies.get(OPS_SESSION_COOKIE)
            if cookie and (
                connection.scope.get("method") in SAFE_METHODS
                or _csrf_holds(connection, cookie)
                or _same_origin_socket(connection)
            ):
                session_principal = await ops_sessions.authenticate(cookie)
                if session_principal is None:
                    raise await _refused(
                        connection, "the ops session has expired or was revoked; sign in again at /ops"
                    )
                return AuthenticationResult(user=session_principal, auth=None)
            if cookie:  # a write riding the cookie without the token: what a forged cross-site post looks like
                raise NotAuthorizedException(
                    "the dashboard's session cookie alone cannot authorise a change: send the session's "
                    "X-Emporio-CSRF token (the dashboard does) or an API key as 'Authorization: Bearer <key>'",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            # Nothing was presented, so nothing was guessed: not counted as a failed attempt.
            raise NotAuthorizedException(
                "send an API key as 'Authorization: Bearer <key>' (create one with `emporio keys create`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal: Principal | None = None
        if len(token) <= MAX_BEARER_LENGTH:
            if customer_tokens.is_customer_token(token):
                principal = await customer_tokens.authenticate(token)
            else:
                principal = await authenticate(token)
        if principal is None:
            raise await _refused(connection, "the API key or customer token is unknown, revoked or expired")
        if connection.scope.get("method") in WRITE_METHODS and _is_storefront(principal):
            await count(connection, STOREFRONT_WRITES, principal.key_id)
        return AuthenticationResult(user=principal, auth=token)


def _is_storefront(principal: Principal) -> bool:
    """Shop-facing callers (a storefront key, a customer's token), whose writes are limited per key;
    staff keys (ops, agent, admin) are not."""
    if principal.is_customer:
        return True
    return Scope.STOREFRONT in principal.scopes and not principal.scopes & {Scope.ADMIN, Scope.OPS, Scope.AGENT}


def requires(*scopes: Scope, customers: bool = False) -> Guard:
    """A guard letting through keys with any of `scopes` (admin always passes), and customer
    tokens when `customers` is set (the handler then shows them only their own records)."""

    # async: Litestar runs a sync guard in a thread pool, a thread hop on every request
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.scope.get("user")
        if not isinstance(principal, Principal):
            raise NotAuthorizedException("authentication required")
        if customers and principal.is_customer:
            return
        if not principal.allows(scopes):
            needed = " or ".join(s.value for s in scopes)
            if principal.is_customer:
                raise PermissionDeniedException(
                    f"a customer token cannot use this endpoint; it needs a key with the {needed} scope"
                )
            raise PermissionDeniedException(f"this endpoint needs a key with the {needed} scope")

    guard.__name__ = "requires_" + "_or_".join(s.value for s in scopes) + ("_or_customer" if customers else "")
    setattr(guard, ADMITS_CUSTOMERS, customers)  # read by R8: which routes take customer tokens
    return guard


def rate_limit(policy: str, *, per: Literal["client", "principal"] = "client") -> Guard:
    """A guard counting each request under a named policy (core/access/ratelimits.py), per client
    address or per authenticated caller: `guards=[rate_limit("survey")]`."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.scope.get("user")
        identity = user.key_id if per == "principal" and isinstance(user, Principal) else client_address(connection)
        await count(connection, policy, identity)

    guard.__name__ = f"rate_limit_{policy.replace('-', '_')}"
    return guard


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    assert isinstance(user, Principal)
    return user


def hide_unless_own(connection: ASGIConnection[Any, Any, Any, Any], owner: str | None, missing: str) -> None:
    """For a customer token, a record of another customer does not exist (404 `missing`, the
    same answer as for an unknown id, so a token cannot probe for others' records)."""
    principal = principal_of(connection)
    if principal.is_customer and (owner is None or owner != principal.customer_id):
        raise NotFound(missing)


OPS = requires(Scope.OPS)
ADMIN = requires(Scope.ADMIN)
AGENT = requires(Scope.AGENT)
STOREFRONT = requires(Scope.STOREFRONT)
AGENT_OR_OPS = requires(Scope.AGENT, Scope.OPS)
STOREFRONT_OR_OPS = requires(Scope.STOREFRONT, Scope.OPS)
STOREFRONT_OPS_OR_CUSTOMER = requires(Scope.STOREFRONT, Scope.OPS, customers=True)
