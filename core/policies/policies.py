"""Versioned policies: ops save a document, it is validated against the plugin-declared type,
stored as a new version (never overwritten) and audited; evaluation uses the latest."""

from __future__ import annotations

from typing import Any

import msgspec

from core.access.tables import AuditEntry
from core.db.database import utcnow
from core.domain.errors import InvalidInput, NotFound
from core.domain.ids import new_id
from core.domain.policies import PolicyKind, PolicyVersion
from core.plugins import PluginHost
from core.policies.tables import Policy


def kind_of(host: PluginHost, kind: str) -> PolicyKind:
    registered = host.policy_kinds.get(kind)
    if registered is None:
        known = ", ".join(sorted(host.policy_kinds)) or "none"
        raise NotFound(f"no policy kind {kind} (installed: {known})")
    policy_kind: PolicyKind = registered.value
    return policy_kind


def validate(kind: PolicyKind, document: Any) -> msgspec.Struct:
    try:
        return msgspec.convert(document, type=kind.document_type, strict=True)
    except msgspec.ValidationError as exc:
        raise InvalidInput(
            f"the {kind.kind} policy is not valid: {exc}", errors=[{"field": "document", "message": str(exc)}]
        ) from None


def _decode(value: Any) -> Any:
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


async def current(host: PluginHost, kind: str) -> tuple[PolicyVersion, msgspec.Struct]:
    policy_kind = kind_of(host, kind)
    row = await Policy.select().where(Policy.kind == kind).order_by(Policy.version, ascending=False).first()
    if row is None:
        doc = policy_kind.default
        return PolicyVersion(
            kind=kind, version=0, document=msgspec.to_builtins(doc), created_at=None, created_by=None
        ), doc
    document = _decode(row["document"])
    return (
        PolicyVersion(
            kind=kind,
            version=row["version"],
            document=document,
            created_at=row["created_at"],
            created_by=row["created_by"],
        ),
        msgspec.convert(document, type=policy_kind.document_type),
    )


async def save(host: PluginHost, kind: str, document: Any, actor: str) -> PolicyVersion:
    """Validate and store as the next version. Call inside a unit of work."""
    policy_kind = kind_of(host, kind)
    parsed = validate(policy_kind, document)
    latest = (
        await Policy.select(Policy.version).where(Policy.kind == kind).order_by(Policy.version, ascending=False).first()
    )
    version = (latest["version"] if latest else 0) + 1
    builtins = msgspec.to_builtins(parsed)
    now = utcnow()
    await Policy.insert(
        Policy(
            id=f"{kind}|{version}",
            kind=kind,
            version=version,
            document=msgspec.json.encode(builtins).decode(),
            created_at=now,
            created_by=actor,
        )
    )
    await AuditEntry.insert(
        AuditEntry(
            id=new_id("aud"),
            at=now,
            actor=actor,
            action="policy.saved",
            subject_type="policy",
            subject_id=f"{kind}|{version}",
            details=msgspec.json.encode({"version": version}).decode(),
        )
    )
    return PolicyVersion(kind=kind, version=version, document=builtins, created_at=now, created_by=actor)


async def history(host: PluginHost, kind: str) -> list[PolicyVersion]:
    kind_of(host, kind)
    rows = await Policy.select().where(Policy.kind == kind).order_by(Policy.version, ascending=False)
    return [
        PolicyVersion(
            kind=kind,
            version=r["version"],
            document=_decode(r["document"]),
            created_at=r["created_at"],
            created_by=r["created_by"],
        )
        for r in rows
    ]


__all__ = ["InvalidInput", "current", "history", "kind_of", "save", "validate"]
