"""History-import record kinds, contributed through the `register_import_kinds` hook."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec


class ImportContext(msgspec.Struct, kw_only=True):
    """Passed to every `apply`; `refs` maps (kind, external id) → internal id across batches."""

    refs: dict[tuple[str, str], str] = msgspec.field(default_factory=dict)


class ImportRow(msgspec.Struct, frozen=True):
    """One decoded line and its 1-based line number (for error messages)."""

    line_no: int
    record: Any


ApplyBatch = Callable[[Sequence[ImportRow], ImportContext], Awaitable[None]]


class ImportKind(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    record_type: type[msgspec.Struct]
    apply: ApplyBatch
    plugin: str = ""


class ImportLineError(Exception):
    """A line that cannot be imported; carries its 1-based line number."""

    def __init__(self, line_no: int, message: str):
        super().__init__(f"line {line_no}: {message}")
        self.line_no = line_no
        self.message = message
