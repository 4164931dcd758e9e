"""API keys: random, shown once, stored as SHA-256 (they are high-entropy, so a fast hash is
enough and lets every request authenticate with one indexed lookup)."""

from __future__ import annotations

import hashlib
import secrets

import msgspec

from core.access.tables import ApiKey
from core.db.database import utcnow
from core.domain.auth import Principal, Scope
from core.domain.errors import InvalidInput
from core.domain.ids import new_id


class CreatedKey(msgspec.Struct, frozen=True):
    id: str
    name: str
    scopes: list[str]
    key: str


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


async def create_key(name: str, scopes: list[str]) -> CreatedKey:
    if not name.strip():
        raise InvalidInput("an API key needs a name, e.g. --name storefront-web")
    parsed = parse_scopes(scopes)
    plain = "emp_" + secrets.token_urlsafe(32)
    key_id = new_id("key")
    await ApiKey.insert(
        ApiKey(
            id=key_id,
            name=name.strip(),
            prefix=plain[:10],
            key_hash=hash_key(plain),
            scopes=msgspec.json.encode([s.value for s in parsed]).decode(),
            created_at=utcnow(),
        )
    )
    return CreatedKey(id=key_id, name=name.strip(), scopes=[s.value for s in parsed], key=plain)


async def authenticate(plain: str) -> Principal | None:
    # Raw SQL: this runs for every request, and building the query with the ORM costs more than
    # the indexed lookup itself.
    rows = await ApiKey.raw("SELECT id, name, scopes, revoked_at FROM api_keys WHERE key_hash = {}", hash_key(plain))
    if not rows or rows[0]["revoked_at"] is not None:
        return None
    row = rows[0]
    scopes = row["scopes"]
    decoded = msgspec.json.decode(scopes) if isinstance(scopes, str | bytes) else scopes
    return Principal(key_id=row["id"], name=row["name"], scopes=frozenset(Scope(s) for s in decoded))
