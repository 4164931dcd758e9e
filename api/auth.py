"""API-key authentication and scope guards.

`Authorization: Bearer <key>`; a missing or unknown key → 401, a key without the scope → 403.
Handlers declare their scopes with `guards=[requires(Scope.OPS)]`; open endpoints (health,
webhooks) set `opt={"exclude_from_auth": True}`. The ops dashboard's session cookie stands in for
the key on GET/HEAD requests only (see `ApiKeyAuthentication`).
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import Guard

from core.access import ops_sessions
from core.access.apikeys import authenticate
from core.domain.auth import Principal, Scope

OPS_SESSION_COOKIE = "emporio_ops"
SAFE_METHODS = frozenset({"GET", "HEAD"})


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


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
                    raise NotAuthorizedException(
                        "the ops session has expired or was revoked; sign in again at /ops",
                        headers={"WWW-Authenticate": "Bearer"},
                    )
                return AuthenticationResult(user=session_principal, auth=None)
            raise NotAuthorizedException(
                "send an API key as 'Authorization: Bearer <key>' (create one with `emporio keys create`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = await authenticate(token) if len(token) <= 200 else None
        if principal is None:
            raise NotAuthorizedException("the API key is unknown or revoked", headers={"WWW-Authenticate": "Bearer"})
        return AuthenticationResult(user=principal, auth=token)


def requires(*scopes: Scope) -> Guard:
    """A guard letting through keys with any of `scopes` (admin always passes)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = connection.scope.get("user")
        if not isinstance(principal, Principal):
            raise NotAuthorizedException("authentication required")
        if not principal.allows(scopes):
            needed = " or ".join(s.value for s in scopes)
            raise PermissionDeniedException(f"this endpoint needs a key with the {needed} scope")

    guard.__name__ = "requires_" + "_or_".join(s.value for s in scopes)
    return guard


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    assert isinstance(user, Principal)
    return user


OPS = requires(Scope.OPS)
ADMIN = requires(Scope.ADMIN)
AGENT = requires(Scope.AGENT)
STOREFRONT = requires(Scope.STOREFRONT)
AGENT_OR_OPS = requires(Scope.AGENT, Scope.OPS)
STOREFRONT_OR_OPS = requires(Scope.STOREFRONT, Scope.OPS)
