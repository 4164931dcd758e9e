"""API keys (create, list without secrets, revoke) and customer tokens (mint, revoke).

Which credential goes where is told in docs/keys.md. Responses that carry a key or a token are
marked `secret_response`: an Idempotency-Key never keeps the secret, and its replay answers 409.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import ADMIN, STOREFRONT, principal_of, requires
from api.deps import runtime_of
from api.middleware import secret_response
from core.access import apikeys, customer_tokens
from core.db.pagination import Page
from core.domain.auth import Scope
from core.domain.errors import NotFound
from core.hookspecs import hookimpl


class ApiKeyIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    scopes: Annotated[list[str], msgspec.Meta(min_length=1, max_length=4)]
    expires_at: datetime | None = None
    agent_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None


class CustomerTokenIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    customer_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    ttl_s: int | None = None


@post(
    "/v1/api-keys",
    guards=[ADMIN],
    tags=["access"],
    opt=secret_response("key"),
    summary="Create an API key (the key is shown once)",
    description="Optional `expires_at` (RFC 3339) ends the key by itself; `agent_id` ties it to a service desk agent.",
)
async def create_api_key(request: Request[Any, Any, Any], data: JSONBody[ApiKeyIn]) -> apikeys.CreatedKey:
    async with runtime_of(request).unit_of_work():
        return await apikeys.create_key(
            data.name, data.scopes, expires_at=data.expires_at, agent_id=data.agent_id, actor=principal_of(request).name
        )


@get("/v1/api-keys", guards=[ADMIN], tags=["access"], summary="API keys, oldest first, without their secrets")
async def list_api_keys(
    limit: Annotated[int, QueryParameter(name="limit", ge=1, le=200)] = 50,
    cursor: Annotated[str | None, QueryParameter(name="cursor", max_length=200)] = None,
) -> Page[apikeys.KeyOut]:
    return await apikeys.list_keys(limit=limit, cursor=cursor)


@delete(
    "/v1/api-keys/{key_id:str}",
    guards=[ADMIN],
    tags=["access"],
    status_code=200,
    summary="Revoke an API key at once, on every API process (its dashboard sessions and customer tokens end too)",
)
async def revoke_api_key(request: Request[Any, Any, Any], key_id: FromPath[str]) -> apikeys.KeyOut:
    async with runtime_of(request).unit_of_work():
        return await apikeys.revoke_key(key_id, actor=principal_of(request).name)


@post(
    "/v1/customer-tokens",
    guards=[STOREFRONT],
    tags=["access"],
    opt=secret_response("token"),
    summary="Mint a short-lived token for one customer's browser or app (shown once)",
    description=f"`ttl_s` between {customer_tokens.MIN_TTL_S} and {customer_tokens.MAX_TTL_S} "
    f"(default {customer_tokens.DEFAULT_TTL_S}). The token reads only that customer's own records.",
)
async def mint_customer_token(
    request: Request[Any, Any, Any], data: JSONBody[CustomerTokenIn]
) -> customer_tokens.MintedToken:
    async with runtime_of(request).unit_of_work():
        return await customer_tokens.mint(principal_of(request), data.customer_id, data.ttl_s)


@delete(
    "/v1/customer-tokens/{token_id:str}",
    guards=[requires(Scope.STOREFRONT, customers=True)],
    tags=["access"],
    status_code=200,
    summary="Revoke a customer token at once (a customer token may revoke itself: signing out)",
)
async def revoke_customer_token(request: Request[Any, Any, Any], token_id: FromPath[str]) -> customer_tokens.TokenOut:
    principal = principal_of(request)
    if principal.is_customer and principal.key_id != token_id:
        raise NotFound(f"no customer token with id {token_id}")
    async with runtime_of(request).unit_of_work():
        return await customer_tokens.revoke(token_id)


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (create_api_key, list_api_keys, revoke_api_key, mint_customer_token, revoke_customer_token):
        register(handler)
