"""Idempotency keys: a retry with the same key and body gets the first response back (same
status, same body); the same key with another body is refused with 422. Keys are scoped to the
API key that sent them and live at least 24 h (purged hourly after the TTL).

A response that carried a secret (a new API key, a customer token, a webhook secret) is never
stored: the record keeps a copy with the secret blanked and `withheld`, and a replay gets 409
(`SecretShownOnce`) instead of the secret a second time."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import msgspec

from core.access.tables import IdempotencyRecord
from core.db.database import Database, utcnow
from core.domain.errors import Conflict, IdempotencyMismatch, InvalidInput

LEASE = timedelta(seconds=60)  # a crashed request's key becomes usable again after this
WAIT_FOR_IN_FLIGHT_S = 30.0


class StoredResponse(msgspec.Struct, frozen=True):
    status_code: int
    body: bytes
    content_type: str
    withheld: bool = False  # the response carried a secret: `body` is the copy without it


class SecretShownOnce(Conflict):
    slug = "secret-shown-once"
    title = "The secret was shown once"


def withhold(body: bytes, fields: tuple[str, ...]) -> bytes:
    """What is kept of a response that carried secrets: the JSON object with `fields` blanked
    (so a replay can still say what was created), or nothing when it is not such an object or
    no field is named."""
    if not fields:
        return b""
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return b""
    if not isinstance(decoded, dict):
        return b""
    return msgspec.json.encode({k: (None if k in fields else v) for k, v in decoded.items()})


def secret_shown_once(stored: StoredResponse) -> SecretShownOnce:
    """The answer to a replay of a request whose response carried a secret."""
    original = msgspec.json.decode(stored.body) if stored.body else None
    return SecretShownOnce(
        "the first response to this Idempotency-Key carried a secret, which is shown once and never stored; "
        "if it was lost, revoke what was created (see `original`, its secret blanked) and create a new one "
        "with a new Idempotency-Key",
        original=original,
        original_status=stored.status_code,
    )


def record_id(principal: str, key: str) -> str:
    return hashlib.sha256(f"{principal}\x00{key}".encode()).hexdigest()


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b"\x00" + path.encode() + b"\x00" + body).hexdigest()


async def claim(
    db: Database, *, principal: str, key: str, method: str, path: str, body: bytes
) -> tuple[str, StoredResponse | None]:
    """Claim `key` for this request. Returns (record id, None) when this request must run, or
    (record id, stored response) when it is a retry of a finished one. Waits while an identical
    request is in flight."""
    if not key or len(key) > 255:
        raise InvalidInput("Idempotency-Key must be 1 to 255 characters")
    rid = record_id(principal, key)
    fingerprint = request_fingerprint(method, path, body)
    deadline = asyncio.get_running_loop().time() + WAIT_FOR_IN_FLIGHT_S
    while True:
        now = utcnow()
        inserted = await db.fetch(
            "INSERT INTO idempotency_keys (id, principal, key, method, path, request_hash, state, "
            "created_at, locked_until) VALUES ({}, {}, {}, {}, {}, {}, 'in_progress', {}, {}) "
            "ON CONFLICT (id) DO NOTHING RETURNING id",
            rid,
            principal,
            key,
            method,
            path,
            fingerprint,
            now,
            now + LEASE,
        )
        if inserted:
            return rid, None
        rows = await IdempotencyRecord.select().where(IdempotencyRecord.id == rid)
        if not rows:
            continue  # released between our insert and select: try again
        row = rows[0]
        if row["request_hash"] != fingerprint:
            raise IdempotencyMismatch(
                f"Idempotency-Key {key!r} was first used for {row['method']} {row['path']} with a "
                "different body; use a new key for a different request"
            )
        if row["state"] == "done":
            return rid, StoredResponse(
                row["status_code"],
                (row["response_body"] or "").encode(),
                row["response_type"] or "application/json",
                withheld=bool(row["withheld"]),
            )
        if row["locked_until"] < now:
            taken = await db.fetch(
                "UPDATE idempotency_keys SET locked_until = {} WHERE id = {} AND state = 'in_progress' "
                "AND locked_until < {} RETURNING id",
                now + LEASE,
                rid,
                now,
            )
            if taken:
                return rid, None
        if asyncio.get_running_loop().time() > deadline:
            raise Conflict(f"a request with Idempotency-Key {key!r} is still in progress; retry later")
        await asyncio.sleep(0.05)


async def complete(rid: str, response: StoredResponse) -> None:
    # Raw SQL: this runs after every POST with a key, and the ORM's query building costs more
    # than the update.
    await IdempotencyRecord.raw(
        "UPDATE idempotency_keys SET state = 'done', status_code = {}, response_body = {}, response_type = {}, "
        "withheld = {} WHERE id = {}",
        response.status_code,
        response.body.decode("utf-8", "replace"),
        response.content_type,
        response.withheld,
        rid,
    )


async def release(rid: str) -> None:
    """The request failed on our side (5xx): forget the key so the client's retry runs again."""
    await IdempotencyRecord.delete().where((IdempotencyRecord.id == rid) & (IdempotencyRecord.state == "in_progress"))
