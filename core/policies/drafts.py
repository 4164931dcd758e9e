"""Dry runs of a policy: evaluate the current version, or an unsaved draft document, without
saving anything; every `…/evaluate` endpoint picks its policy here."""

from __future__ import annotations

from typing import Any

import msgspec

from core.plugins import PluginHost
from core.policies import policies

DRAFT_VERSION = -1  # the version a dry run of an unsaved document reports


async def draft_or_current(host: PluginHost, kind: str, draft: dict[str, Any] | None) -> tuple[msgspec.Struct, int]:
    """The `kind` document to evaluate and its version: `draft` validated (422 naming the field
    when it does not fit the kind's type), else the current version (0: the kind's default)."""
    if draft is not None:
        return policies.validate(policies.kind_of(host, kind), draft), DRAFT_VERSION
    version, document = await policies.current(host, kind)
    return document, version.version
