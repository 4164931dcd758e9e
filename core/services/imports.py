"""The JSON Lines history import: streamed, decoded per line, applied in batches.

A batch is one transaction: a bad line (undecodable, unknown kind or field, dangling
reference) rolls its whole batch back and is reported with its line number. Earlier batches
stay applied, and re-running a file is safe (records are keyed by the shop's own ids).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable

import msgspec

from core.domain.imports import ImportContext, ImportKind, ImportLineError, ImportRow
from core.runtime import Runtime

DEFAULT_BATCH = 2000
MAX_LINE_BYTES = 1_000_000


class _Kind(msgspec.Struct):
    kind: str


class LineError(msgspec.Struct, frozen=True):
    line: int
    message: str


class ImportReport(msgspec.Struct, kw_only=True):
    records: int = 0
    by_kind: dict[str, int] = msgspec.field(default_factory=dict)
    batches: int = 0
    lines_read: int = 0
    errors: list[LineError] = msgspec.field(default_factory=list)
    skipped_batches: list[list[int]] = msgspec.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _decode(line_no: int, line: bytes, kinds: dict[str, ImportKind]) -> tuple[str, ImportRow]:
    if len(line) > MAX_LINE_BYTES:
        raise ImportLineError(line_no, f"line is longer than {MAX_LINE_BYTES} bytes")
    try:
        kind = msgspec.json.decode(line, type=_Kind).kind
    except msgspec.DecodeError as exc:
        raise ImportLineError(line_no, f"not a JSON object with a 'kind': {exc}") from None
    spec = kinds.get(kind)
    if spec is None:
        raise ImportLineError(line_no, f"unknown kind {kind!r} (known: {', '.join(sorted(kinds))})")
    try:
        return kind, ImportRow(line_no, msgspec.json.decode(line, type=spec.record_type))
    except msgspec.ValidationError as exc:
        raise ImportLineError(line_no, f"{kind}: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ImportLineError(line_no, f"invalid JSON: {exc}") from None


async def _lines(source: AsyncIterable[bytes] | Iterable[bytes]) -> AsyncIterator[bytes]:
    """Split a byte stream (file or HTTP body chunks) into lines without loading it whole."""
    buffer = b""
    if isinstance(source, AsyncIterable):
        async for chunk in source:
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                yield line
    else:
        for chunk in source:
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for line in complete:
                yield line
    if buffer:
        yield buffer


async def run_import(
    runtime: Runtime,
    source: AsyncIterable[bytes] | Iterable[bytes],
    *,
    batch_size: int = DEFAULT_BATCH,
    continue_on_error: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    kinds: dict[str, ImportKind] = {k: r.value for k, r in runtime.host.import_kinds.items()}
    ctx = ImportContext()
    report = ImportReport()
    batch: list[tuple[str, ImportRow]] = []
    batch_error: ImportLineError | None = None
    first_line = 1
    line_no = 0
    consumed = 0

    async def flush() -> bool:
        nonlocal batch, batch_error, first_line
        lines = [first_line, line_no]
        try:
            if batch_error is not None:
                raise batch_error
            if batch:
                await _apply(runtime, batch, kinds, ctx)
                report.batches += 1
                for kind, _ in batch:
                    report.by_kind[kind] = report.by_kind.get(kind, 0) + 1
                report.records += len(batch)
            return True
        except ImportLineError as exc:
            report.errors.append(LineError(exc.line_no, exc.message))
            report.skipped_batches.append(lines)
            return continue_on_error
        finally:
            batch, batch_error, first_line = [], None, line_no + 1

    async for raw in _lines(source):
        line_no += 1
        consumed += len(raw) + 1
        if progress is not None and line_no % 1000 == 0:
            progress(consumed)
            consumed = 0
        line = raw.strip()
        if line and batch_error is None:
            try:
                batch.append(_decode(line_no, line, kinds))
            except ImportLineError as exc:
                batch_error = exc
        if line_no - first_line + 1 >= batch_size and not await flush():
            report.lines_read = line_no
            return await _finished(runtime, report)
    await flush()
    if progress is not None:
        progress(consumed)
    report.lines_read = line_no
    return await _finished(runtime, report)


async def _finished(runtime: Runtime, report: ImportReport) -> ImportReport:
    if report.records:
        from core.services.kpi_rollups import invalidate_all

        await invalidate_all(runtime.db)  # imported history may land on days already rolled up
    return report


async def _apply(
    runtime: Runtime, batch: list[tuple[str, ImportRow]], kinds: dict[str, ImportKind], ctx: ImportContext
) -> None:
    """Apply one batch in one transaction, kind by kind in file order (later records may refer
    to earlier ones). The reference cache is restored if the batch rolls back."""
    saved_refs = dict(ctx.refs)
    try:
        async with runtime.unit_of_work():
            start = 0
            while start < len(batch):
                kind = batch[start][0]
                end = start
                while end < len(batch) and batch[end][0] == kind:
                    end += 1
                await kinds[kind].apply([row for _, row in batch[start:end]], ctx)
                start = end
    except ImportLineError:
        ctx.refs = saved_refs
        raise
    except Exception as exc:
        ctx.refs = saved_refs
        line = batch[0][1].line_no if batch else 0
        raise ImportLineError(
            line, f"the batch starting here could not be written: {type(exc).__name__}: {exc}"
        ) from exc
