"""Piccolo tables of the access domain; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import JSONB, Boolean, Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class IdempotencyRecord(Table, tablename="idempotency_keys"):
    id = Text(primary_key=True)  # sha256(principal|key)
    principal = Text()
    key = Text()
    method = Text()
    path = Text()
    request_hash = Text()
    state = Text()  # "in_progress" | "done"
    status_code = Integer(null=True, default=None)
    response_body = Text(null=True, default=None)
    response_type = Text(null=True, default=None)
    created_at = timestamp(null=False)
    locked_until = timestamp(null=False)
    # The response carried a secret: only a redacted copy is kept and a replay is refused (409).
    withheld = Boolean(default=False)


class ApiKey(Table, tablename="api_keys"):
    id = Text(primary_key=True)
    name = Text()
    prefix = Text()
    key_hash = Text()
    scopes = JSONB(default="[]")
    created_at = timestamp(null=False)
    revoked_at = timestamp()
    expires_at = timestamp()
    agent_id = Text(null=True, default=None)  # the service desk agent this key acts as, if any


class AuditEntry(Table, tablename="audit_log"):
    id = Text(primary_key=True)
    at = timestamp(null=False)
    actor = Text()
    action = Text()
    subject_type = Text()
    subject_id = Text()
    details = JSONB(default="{}")
    request_id = Text(null=True, default=None)


class OpsSession(Table, tablename="ops_sessions"):
    id = Text(primary_key=True)
    token_hash = Text()  # SHA-256 of the cookie's token; the token itself is never stored
    key_id = Text()
    created_at = timestamp(null=False)
    expires_at = timestamp(null=False)
    revoked_at = timestamp()


class CustomerToken(Table, tablename="customer_tokens"):
    id = Text(primary_key=True)
    token_hash = Text()  # SHA-256 of the bearer token; the token itself is never stored
    customer_id = Text()
    key_id = Text()  # the storefront key that minted it: revoking that key ends its tokens too
    created_at = timestamp(null=False)
    expires_at = timestamp(null=False)
    revoked_at = timestamp()


TABLES: tuple[type[Table], ...] = (
    IdempotencyRecord,
    ApiKey,
    AuditEntry,
    OpsSession,
    CustomerToken,
)


__all__ = ["ApiKey", "AuditEntry", "CustomerToken", "IdempotencyRecord", "OpsSession"]
