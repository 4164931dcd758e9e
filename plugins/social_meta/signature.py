"""`X-Hub-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the raw request body under the
Meta app secret. Checked on the bytes as received — before any parsing, since re-encoding JSON
(escaped emoji, accents) changes the bytes and so the signature — and in constant time."""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"
PREFIX = "sha256="


def signature_of(secret: str, body: bytes) -> str:
    """The header value Meta sends for `body`."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_signed(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is the signature of `body` under `secret` (a missing header is not)."""
    if not header:
        return False
    given = header.strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(signature_of(secret, body).encode(), given)


def appsecret_proof(secret: str, token: str) -> str:
    """Graph's `appsecret_proof` (HMAC-SHA256 of the access token under the app secret): an app
    that requires it refuses calls whose token was lifted without the secret."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
