"""Authentication, scope guards and rate-limit guards.

`Authorization: Bearer <key>`; a missing or unknown key → 401, a key without the scope → 403.
Handlers declare their scopes with `guards=[requires(Scope.OPS)]`; open endpoints (health,
webhooks) set `opt={"exclude_from_auth": True}`. The ops dashboard's session cookie stands in for
the key on GET/HEAD requests only (see `ApiKeyAuthentication`).

A customer token (`Bearer ect_…`, minted by the shop's server, see docs/keys.md) authenticates a
`customer` principal with no scope: only endpoints whose guard admits customers
(`requires(…, customers=True)`) let it in, and they show it only its own records
(`hide_unless_own`).

Rate limits (core/access/ratelimits.py): failed authentications are counted per client address
and storefront writes per key, here; other endpoints opt in with `rate_limit(policy)`.
"""

from __future__ import annotations

from typing import Any, Literal

from litestar.connection import ASGIConnection
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
SAFE_METHODS = frozenset({"GET", "HEAD"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BEARER_LENGTH = 200
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


class ApiKeyAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        token = bearer_token(connection)
        if token is None:
            # The ops dashboard (api/routes/ops.py) signs in once and then reads the API with its
            # session cookie instead of a key. Only for safe methods: browsers attach cookies to
            # cross-site form posts, so a cookie must never authorise a change (SameSite=Strict
            # is the second lock). An Authorization header, when sent, always wins.
            cookie = connection.cookies.get(OPS_SESSION_COOKIE)
            if cookie and connection.scope.get("method") in SAFE_METHODS:
                session_principal = await ops_sessions.authenticate(cookie)
                if session_principal is None:
                    raise await _refused(
                        connection, "the ops session has expired or was revoked; sign in again at /ops"
                    )
                return AuthenticationResult(user=session_principal, auth=None)
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

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
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
