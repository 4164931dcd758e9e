"""API keys: random, shown once, stored as SHA-256 (they are high-entropy, so a fast hash is
enough and lets every request authenticate with one indexed lookup). Keys can expire and be
revoked; every request reads the key's row, so a revocation holds at once on every API process
(there is no per-process cache to go stale)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

import msgspec

from core.access.tables import ApiKey, AuditEntry
from core.db.database import utcnow
from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.auth import Principal, Scope
from core.domain.errors import InvalidInput, NotFound
from core.domain.ids import new_id
from core.domain.time import as_utc

PREFIX_LENGTH = 10  # "emp_" and six characters: enough to tell keys apart in a listing, useless to guess with


class CreatedKey(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    scopes: list[str]
    key: str
    expires_at: datetime | None = None
    agent_id: str | None = None


class KeyOut(msgspec.Struct, frozen=True, kw_only=True):
    """A key as listings show it: never the key itself."""

    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    agent_id: str | None


def hash_key(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def parse_scopes(scopes: list[str]) -> list[Scope]:
    valid = {s.value for s in Scope}
    bad = [s for s in scopes if s not in valid]
    if bad or not scopes:
        raise InvalidInput(
            f"unknown scope(s) {', '.join(bad) or '(none given)'}; choose from {', '.join(sorted(valid))}"
        )
    return [Scope(s) for s in dict.fromkeys(scopes)]


async def create_key(
    name: str,
    scopes: list[str],
    *,
    expires_at: datetime | None = None,
    agent_id: str | None = None,
    actor: str | None = None,
) -> CreatedKey:
    if not name.strip():
        raise InvalidInput("an API key needs a name, e.g. --name storefront-web")
    parsed = parse_scopes(scopes)
    now = utcnow()
    expires = as_utc(expires_at)
    if expires is not None and expires <= now:
        raise InvalidInput(f"expires_at {expires.isoformat()} is in the past; give a time after {now.isoformat()}")
    plain = "emp_" + secrets.token_urlsafe(32)
    key_id = new_id("key")
    await ApiKey.insert(
        ApiKey(
            id=key_id,
            name=name.strip(),
            prefix=plain[:PREFIX_LENGTH],
            key_hash=hash_key(plain),
            scopes=msgspec.json.encode([s.value for s in parsed]).decode(),
            created_at=now,
            expires_at=expires,
            agent_id=agent_id,
        )
    )
    if agent_id is not None:
        # The service desk finds the agent behind a key through agents.key_id (core/service/agents.py).
        linked = await ApiKey.raw("UPDATE agents SET key_id = {} WHERE id = {} RETURNING id", key_id, agent_id)
        if not linked:
            raise NotFound(f"no agent with id {agent_id}; create the agent first (POST /v1/agents)")
    if actor is not None:
        await _audit(actor, "api_key.created", key_id, {"name": name.strip(), "scopes": [s.value for s in parsed]})
    return CreatedKey(
        id=key_id,
        name=name.strip(),
        scopes=[s.value for s in parsed],
        key=plain,
        expires_at=expires,
        agent_id=agent_id,
    )


def _key_out(row: dict[str, Any]) -> KeyOut:
    scopes = row["scopes"]
    created_at = as_utc(row["created_at"])
    assert created_at is not None
    return KeyOut(
        id=row["id"],
        name=row["name"],
        prefix=row["prefix"],
        scopes=list(msgspec.json.decode(scopes) if isinstance(scopes, str | bytes) else scopes),
        created_at=created_at,
        expires_at=as_utc(row["expires_at"]),
        revoked_at=as_utc(row["revoked_at"]),
        agent_id=row["agent_id"],
    )


_LISTED = (
    ApiKey.id,
    ApiKey.name,
    ApiKey.prefix,
    ApiKey.scopes,
    ApiKey.created_at,
    ApiKey.expires_at,
    ApiKey.revoked_at,
    ApiKey.agent_id,
)


async def list_keys(*, limit: int = 50, cursor: str | None = None) -> Page[KeyOut]:
    """Every key, oldest first (ids are time-ordered), revoked and expired ones included."""
    check_limit(limit)
    query = ApiKey.select(*_LISTED).order_by(ApiKey.id).limit(limit + 1)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(ApiKey.id > after)
    rows = await query
    return page_of(rows, limit, "id", [_key_out(r) for r in rows])


async def revoke_key(key_id: str, *, actor: str) -> KeyOut:
    """Revoke at once (the next request with it gets 401, on every process). Revoking a revoked
    key changes nothing and answers the same."""
    revoked = await ApiKey.raw(
        "UPDATE api_keys SET revoked_at = {} WHERE id = {} AND revoked_at IS NULL RETURNING id", utcnow(), key_id
    )
    rows = await ApiKey.select(*_LISTED).where(ApiKey.id == key_id)
    if not rows:
        raise NotFound(f"no API key with id {key_id}; GET /v1/api-keys lists them")
    if revoked:
        await _audit(actor, "api_key.revoked", key_id, {"name": rows[0]["name"]})
    return _key_out(rows[0])


async def _audit(actor: str, action: str, key_id: str, details: dict[str, Any]) -> None:
    await AuditEntry.insert(
        AuditEntry(
            id=new_id("aud"),
            at=utcnow(),
            actor=actor,
            action=action,
            subject_type="api_key",
            subject_id=key_id,
            details=msgspec.json.encode(details).decode(),
        )
    )


async def authenticate(plain: str) -> Principal | None:
    """The key's Principal, or None when it is unknown, revoked or expired."""
    # Raw SQL: this runs for every request, and building the query with the ORM costs more than
    # the indexed lookup itself.
    rows = await ApiKey.raw(
        "SELECT id, name, scopes, revoked_at, expires_at FROM api_keys WHERE key_hash = {}", hash_key(plain)
    )
    if not rows or rows[0]["revoked_at"] is not None:
        return None
    row = rows[0]
    expires_at = as_utc(row["expires_at"])
    if expires_at is not None and expires_at <= utcnow():
        return None
    scopes = row["scopes"]
    decoded = msgspec.json.decode(scopes) if isinstance(scopes, str | bytes) else scopes
    return Principal(key_id=row["id"], name=row["name"], scopes=frozenset(Scope(s) for s in decoded))
