"""Customer tokens: what a browser or a mobile app holds instead of a storefront key.

A storefront key is a shop-wide secret and must stay on the shop's server; that server mints a
token for one signed-in customer (`POST /v1/customer-tokens`) and hands it to the customer's
browser. The token sees only that customer's own records, expires within hours, can be revoked,
and dies with the key that minted it. Only its SHA-256 is stored, like API keys."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import msgspec

from core.access.tables import CustomerToken
from core.customers.tables import Customer
from core.db.database import utcnow
from core.domain.auth import Principal, PrincipalKind
from core.domain.errors import InvalidInput, NotFound
from core.domain.ids import new_id
from core.domain.time import as_utc

TOKEN_PREFIX = "ect_"  # tells the authentication which store to look in, before any lookup
DEFAULT_TTL_S = 3600
MIN_TTL_S = 60
MAX_TTL_S = 24 * 3600
MAX_TOKEN_LENGTH = 200


class MintedToken(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    customer_id: str
    token: str  # shown once, never stored
    expires_at: datetime


class TokenOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    customer_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_customer_token(bearer: str) -> bool:
    return bearer.startswith(TOKEN_PREFIX)


async def mint(minted_by: Principal, customer_id: str, ttl_s: int | None = None) -> MintedToken:
    """A token for `customer_id`, minted by a storefront key (`minted_by`)."""
    ttl = DEFAULT_TTL_S if ttl_s is None else ttl_s
    if not MIN_TTL_S <= ttl <= MAX_TTL_S:
        raise InvalidInput(
            f"ttl_s must be between {MIN_TTL_S} and {MAX_TTL_S} seconds (got {ttl}); mint a new token when it runs out"
        )
    if minted_by.is_customer:
        raise InvalidInput("a customer token cannot mint tokens; the shop's server mints them with its storefront key")
    if not await Customer.exists().where(Customer.id == customer_id):
        raise NotFound(f"no customer with id {customer_id}; create the customer first (POST /v1/customers)")
    now = utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = new_id("ctk")
    expires_at = now + timedelta(seconds=ttl)
    await CustomerToken.insert(
        CustomerToken(
            id=token_id,
            token_hash=hash_token(token),
            customer_id=customer_id,
            key_id=minted_by.key_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return MintedToken(id=token_id, customer_id=customer_id, token=token, expires_at=expires_at)


def _token_out(row: dict[str, Any]) -> TokenOut:
    created_at, expires_at = as_utc(row["created_at"]), as_utc(row["expires_at"])
    assert created_at is not None and expires_at is not None
    return TokenOut(
        id=row["id"],
        customer_id=row["customer_id"],
        created_at=created_at,
        expires_at=expires_at,
        revoked_at=as_utc(row["revoked_at"]),
    )


async def revoke(token_id: str) -> TokenOut:
    """End a token at once (every process reads the row on every request). Idempotent."""
    await CustomerToken.update({CustomerToken.revoked_at: utcnow()}).where(
        (CustomerToken.id == token_id) & CustomerToken.revoked_at.is_null()
    )
    rows = await CustomerToken.select(
        CustomerToken.id,
        CustomerToken.customer_id,
        CustomerToken.created_at,
        CustomerToken.expires_at,
        CustomerToken.revoked_at,
    ).where(CustomerToken.id == token_id)
    if not rows:
        raise NotFound(f"no customer token with id {token_id}")
    return _token_out(rows[0])


async def authenticate(token: str) -> Principal | None:
    """The customer principal behind a live token: not expired, not revoked, and minted by a key
    that is itself neither revoked nor expired."""
    if not is_customer_token(token) or len(token) > MAX_TOKEN_LENGTH:
        return None
    rows = await CustomerToken.raw(
        "SELECT t.id, t.customer_id, t.expires_at, k.revoked_at AS key_revoked_at, k.expires_at AS key_expires_at "
        "FROM customer_tokens t JOIN api_keys k ON k.id = t.key_id "
        "WHERE t.token_hash = {} AND t.revoked_at IS NULL",
        hash_token(token),
    )
    if not rows:
        return None
    row = rows[0]
    now = utcnow()
    expires_at, key_expires_at = as_utc(row["expires_at"]), as_utc(row["key_expires_at"])
    if row["key_revoked_at"] is not None or (expires_at is not None and expires_at <= now):
        return None
    if key_expires_at is not None and key_expires_at <= now:
        return None
    return Principal(
        key_id=row["id"],
        name=f"customer {row['customer_id']}",
        scopes=frozenset(),
        kind=PrincipalKind.CUSTOMER,
        customer_id=row["customer_id"],
    )


__all__ = ["MintedToken", "TokenOut", "authenticate", "is_customer_token", "mint", "revoke"]
