"""Ops dashboard sessions: an ops key signs in once and the browser keeps only a random session
token in an HTTP-only cookie. Sessions live in the database (hashed, like API keys) so any API
process can check them; they expire, can be revoked, and die with the key that opened them."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import msgspec

from core.access.tables import ApiKey, OpsSession
from core.db.database import utcnow
from core.domain.auth import Principal, Scope
from core.domain.ids import new_id
from core.settings import OPS_SESSION_HOURS, read

DEFAULT_TTL = timedelta(hours=OPS_SESSION_HOURS.default)
# Expired and revoked sessions are kept a little while (for the audit trail), then deleted.
KEEP_ENDED = timedelta(days=7)


class OpsSessionOut(msgspec.Struct, frozen=True):
    key_id: str
    key_name: str
    scopes: list[str]
    # None when the caller authenticated with its key rather than with a dashboard session.
    created_at: datetime | None
    expires_at: datetime | None


class StartedSession(msgspec.Struct, frozen=True):
    token: str  # goes into the cookie, never into the database
    session: OpsSessionOut


def session_ttl() -> timedelta:
    """12 hours unless EMPORIO_OPS_SESSION_HOURS says otherwise."""
    return timedelta(hours=read(OPS_SESSION_HOURS))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_session(principal: Principal, *, ttl: timedelta | None = None) -> StartedSession:
    """Open a session for a key already authenticated and allowed the ops scope."""
    now = utcnow()
    token = secrets.token_urlsafe(32)
    expires_at = now + (ttl or session_ttl())
    await OpsSession.delete().where(OpsSession.expires_at < now - KEEP_ENDED)
    await OpsSession.insert(
        OpsSession(
            id=new_id("ops"),
            token_hash=hash_token(token),
            key_id=principal.key_id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    out = OpsSessionOut(
        key_id=principal.key_id,
        key_name=principal.name,
        scopes=sorted(s.value for s in principal.scopes),
        created_at=now,
        expires_at=expires_at,
    )
    return StartedSession(token=token, session=out)


async def session_of(token: str) -> OpsSessionOut | None:
    """The live session behind a cookie token: not expired, not revoked, and its key not revoked."""
    if not token or len(token) > 200:
        return None
    now = utcnow()
    rows = await OpsSession.select(OpsSession.key_id, OpsSession.created_at, OpsSession.expires_at).where(
        (OpsSession.token_hash == hash_token(token)) & OpsSession.revoked_at.is_null() & (OpsSession.expires_at > now)
    )
    # Expiry is checked again here: the SQL comparison guards the index, this one the clock.
    if not rows or rows[0]["expires_at"] <= now:
        return None
    session = rows[0]
    keys = await ApiKey.select(ApiKey.id, ApiKey.name, ApiKey.scopes).where(
        (ApiKey.id == session["key_id"]) & ApiKey.revoked_at.is_null()
    )
    if not keys:
        return None
    key = keys[0]
    scopes = key["scopes"]
    decoded = msgspec.json.decode(scopes) if isinstance(scopes, str | bytes) else scopes
    return OpsSessionOut(
        key_id=key["id"],
        key_name=key["name"],
        scopes=sorted(decoded),
        created_at=session["created_at"],
        expires_at=session["expires_at"],
    )


async def authenticate(token: str) -> Principal | None:
    """The Principal of the key behind a live session, as if that key had been sent."""
    session = await session_of(token)
    if session is None:
        return None
    return Principal(key_id=session.key_id, name=session.key_name, scopes=frozenset(Scope(s) for s in session.scopes))


async def revoke_session(token: str) -> bool:
    """End the session behind `token`; False when there was no live one."""
    if not token or len(token) > 200:
        return False
    live = (OpsSession.token_hash == hash_token(token)) & OpsSession.revoked_at.is_null()
    if not await OpsSession.exists().where(live):
        return False
    await OpsSession.update({OpsSession.revoked_at: utcnow()}).where(live)
    return True
