"""Policies ops edit (packaging, returns…): versioned documents of a plugin-declared type."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class PolicyKind(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    document_type: type[msgspec.Struct]
    default: msgspec.Struct
    description: str = ""
    plugin: str = ""


class PolicyVersion(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    version: int  # 0 = the plugin's default, never saved by ops
    document: dict[str, Any]
    created_at: datetime | None
    created_by: str | None
