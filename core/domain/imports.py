"""History-import record kinds, contributed through the `register_import_kinds` hook."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import msgspec


class ImportContext(msgspec.Struct, kw_only=True):
    """Passed to every `apply`.

    `refs` maps (kind, external id) → internal id across batches. It is a cache, bounded so a
    long import keeps flat memory: a reference not in it is looked up in the database.
    `born` maps (kind, external id) → line number for the records created by the current batch,
    so a kind applied ahead of its place in the file can still refuse a reference to a record
    that comes later in the file (`refers_back`).
    """

    refs: dict[tuple[str, str], str] = msgspec.field(default_factory=dict)
    born: dict[tuple[str, str], int] = msgspec.field(default_factory=dict)

    def refers_back(self, kind: str, ref: str, line_no: int) -> bool:
        """False when `ref` is a record of this batch written on a line after `line_no`."""
        return self.born.get((kind, ref), 0) < line_no


class ImportRow(msgspec.Struct, frozen=True):
    """One decoded line and its 1-based line number (for error messages)."""

    line_no: int
    record: Any


ApplyBatch = Callable[[Sequence[ImportRow], ImportContext], Awaitable[None]]


class ImportKind(msgspec.Struct, frozen=True, kw_only=True):
    """A record kind of the import.

    `depends_on` names the kinds its records may refer to. When every kind in a batch declares
    it, the batch is applied kind by kind (each kind once, after the kinds it depends on), so a
    file that interleaves kinds costs a few statements per batch, not a few per line; `apply`
    then rejects references to later lines with `ImportContext.refers_back`. A kind that leaves
    it `None` keeps the batch in file order: runs of consecutive lines of one kind.
    """

    kind: str
    record_type: type[msgspec.Struct]
    apply: ApplyBatch
    plugin: str = ""
    depends_on: frozenset[str] | None = None


class ImportLineError(Exception):
    """A line that cannot be imported; carries its 1-based line number."""

    def __init__(self, line_no: int, message: str):
        super().__init__(f"line {line_no}: {message}")
        self.line_no = line_no
        self.message = message
