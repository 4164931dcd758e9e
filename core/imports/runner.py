"""The JSON Lines history import: streamed, decoded per line, applied in batches.

A batch is one transaction: a bad line (undecodable, unknown kind or field, dangling
reference) rolls its whole batch back and is reported with its line number. Earlier batches
stay applied, and re-running a file is safe (records are keyed by the shop's own ids).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from itertools import islice
from typing import Any

import msgspec

from core.domain.imports import ImportContext, ImportKind, ImportLineError, ImportRow
from core.kpis.rollups import build_pending, invalidate_all
from core.kpis.rollups import plans as rollup_plans
from core.runtime import Runtime

DEFAULT_BATCH = 2000
MAX_LINE_BYTES = 1_000_000
REFS_CACHE = 200_000  # (kind, external id) → internal id entries kept between batches
ANALYZE_AFTER = 10_000  # records: from this many on, a PostgreSQL import refreshes the planner's statistics
# Per KPI source: the dashboard's default period (the last 30 days). Measured on SQLite with
# 100k records (20k orders over four months), on a busy 2-core machine: the import took 20–25 s
# and these rollups 15–25 s more; without them every KPI query read raw facts (~0.8 s each)
# until the worker's next pass.
ROLLUP_DAYS_AFTER_IMPORT = 31


class _Kind(msgspec.Struct):
    kind: str


class LineError(msgspec.Struct, frozen=True):
    line: int
    message: str


class ImportReport(msgspec.Struct, kw_only=True):
    """What an import did, line ranges inclusive: `applied_batches` are committed and stay so,
    `skipped_batches` were rolled back whole; when it stopped at a bad batch (no
    `continue_on_error`), the lines after `lines_read` were not applied."""

    records: int = 0
    by_kind: dict[str, int] = msgspec.field(default_factory=dict)
    batches: int = 0
    lines_read: int = 0
    errors: list[LineError] = msgspec.field(default_factory=list)
    applied_batches: list[list[int]] = msgspec.field(default_factory=list)
    skipped_batches: list[list[int]] = msgspec.field(default_factory=list)
    stopped_early: bool = False
    rollup_days: int = 0  # KPI rollup days (per source) built before the import returned

    @property
    def ok(self) -> bool:
        return not self.errors


_KIND_PREFIX = b'{"kind":"'


class _Decoders(dict[str, "msgspec.json.Decoder[Any]"]):
    """One typed decoder per kind, made on first use."""

    def __init__(self, kinds: dict[str, ImportKind]) -> None:
        super().__init__()
        self.kinds = kinds

    def __missing__(self, kind: str) -> msgspec.json.Decoder[Any]:
        decoder = self[kind] = msgspec.json.Decoder(self.kinds[kind].record_type)
        return decoder


def _decode(line_no: int, line: bytes, kinds: dict[str, ImportKind], decoders: _Decoders) -> tuple[str, ImportRow]:
    if len(line) > MAX_LINE_BYTES:
        raise ImportLineError(line_no, f"line is longer than {MAX_LINE_BYTES} bytes")
    kind = ""
    if line.startswith(_KIND_PREFIX):  # the format puts kind first: read it without decoding the line twice
        end = line.find(b'"', len(_KIND_PREFIX))
        kind = line[len(_KIND_PREFIX) : end].decode(errors="replace") if end > 0 else ""
    if kind not in kinds:
        try:
            kind = msgspec.json.decode(line, type=_Kind).kind
        except msgspec.DecodeError as exc:
            raise ImportLineError(line_no, f"not a JSON object with a 'kind': {exc}") from None
    spec = kinds.get(kind)
    if spec is None:
        raise ImportLineError(line_no, f"unknown kind {kind!r} (known: {', '.join(sorted(kinds))})")
    try:
        return kind, ImportRow(line_no, decoders[kind].decode(line))
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


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """An import allocates millions of short-lived, acyclic objects; at the default thresholds
    the cycle collector runs every 700 allocations and walks the import's caches each time (a
    quarter of the import's time). Collect far less often while it runs."""
    saved = gc.get_threshold()
    gc.set_threshold(max(saved[0], 50_000), max(saved[1], 20), max(saved[2], 100))
    try:
        yield
    finally:
        gc.set_threshold(*saved)


async def run_import(
    runtime: Runtime,
    source: AsyncIterable[bytes] | Iterable[bytes],
    *,
    batch_size: int = DEFAULT_BATCH,
    continue_on_error: bool = False,
    progress: Callable[[int], None] | None = None,
    build_rollups: bool = True,
) -> ImportReport:
    """Import `source`; `build_rollups=False` leaves the KPI rollups of the imported days to the
    worker (a bulk load measured on its own, or several files in a row: build after the last)."""
    with _fewer_collections():
        return await _run_import(runtime, source, batch_size, continue_on_error, progress, build_rollups)


async def _run_import(
    runtime: Runtime,
    source: AsyncIterable[bytes] | Iterable[bytes],
    batch_size: int,
    continue_on_error: bool,
    progress: Callable[[int], None] | None,
    build_rollups: bool,
) -> ImportReport:
    kinds: dict[str, ImportKind] = {k: r.value for k, r in runtime.host.import_kinds.items()}
    decoders = _Decoders(kinds)
    ctx = ImportContext()
    report = ImportReport()
    batch: list[tuple[str, ImportRow]] = []
    batch_error: ImportLineError | None = None
    first_line = 1
    line_no = 0
    consumed = 0
    analyze_at = ANALYZE_AFTER

    async def flush() -> bool:
        nonlocal batch, batch_error, first_line, analyze_at
        lines = [first_line, line_no]
        try:
            if batch_error is not None:
                raise batch_error
            if batch:
                await _apply(runtime, batch, kinds, ctx)
                report.batches += 1
                report.applied_batches.append(lines)
                for kind, _ in batch:
                    report.by_kind[kind] = report.by_kind.get(kind, 0) + 1
                report.records += len(batch)
                if runtime.db.is_postgres and report.records >= analyze_at:
                    # The tables grow by orders of magnitude faster than autovacuum (if it runs at
                    # all) re-analyses them; planning lookups for the tables' old sizes turns
                    # index probes into scans. Each time the import doubles, refresh statistics.
                    await runtime.db.fetch("ANALYZE")
                    analyze_at = report.records * 2
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
                batch.append(_decode(line_no, line, kinds, decoders))
            except ImportLineError as exc:
                batch_error = exc
        if line_no - first_line + 1 >= batch_size and not await flush():
            report.lines_read = line_no
            report.stopped_early = True
            return await _finished(runtime, report, build_rollups)
    await flush()
    if progress is not None:
        progress(consumed)
    report.lines_read = line_no
    return await _finished(runtime, report, build_rollups)


async def _finished(runtime: Runtime, report: ImportReport, build_rollups: bool) -> ImportReport:
    if not report.records:
        return report
    await invalidate_all(runtime.db)  # imported history may land on days already rolled up
    if runtime.db.is_postgres and report.records >= ANALYZE_AFTER:
        # A big import changes the tables' sizes by orders of magnitude; until autovacuum gets
        # to them the planner would plan KPI queries (and the rollups below) for the empty tables.
        await runtime.db.fetch("ANALYZE")
    # The first look after an import is the dashboard's default period: build those days'
    # rollups now instead of leaving every KPI to a full scan until the worker's next pass.
    # Older days follow on the worker's schedule.
    if build_rollups:
        report.rollup_days = await build_pending(
            runtime.db, runtime.host, max_days=ROLLUP_DAYS_AFTER_IMPORT * len(rollup_plans(runtime.host))
        )
    return report


def _plan(batch: list[tuple[str, ImportRow]], kinds: dict[str, ImportKind]) -> list[tuple[str, list[ImportRow]]]:
    """The batch as (kind, rows) steps. Kind by kind, each after the kinds it depends on, when
    every kind present declares `depends_on`; else runs of consecutive lines in file order."""
    present = list(dict.fromkeys(kind for kind, _ in batch))
    if all(kinds[k].depends_on is not None for k in present):
        ordered: list[str] = []
        waiting = present
        while waiting:
            ready = [k for k in waiting if not (kinds[k].depends_on or frozenset()) & (set(waiting) - {k})]
            if not ready:
                break  # a cycle: fall back to file order
            ordered.append(ready[0])
            waiting = [k for k in waiting if k != ready[0]]
        else:
            rows: dict[str, list[ImportRow]] = {k: [] for k in ordered}
            for kind, row in batch:
                rows[kind].append(row)
            return [(k, rows[k]) for k in ordered]
    steps: list[tuple[str, list[ImportRow]]] = []
    for kind, row in batch:
        if steps and steps[-1][0] == kind:
            steps[-1][1].append(row)
        else:
            steps.append((kind, [row]))
    return steps


async def _apply(
    runtime: Runtime, batch: list[tuple[str, ImportRow]], kinds: dict[str, ImportKind], ctx: ImportContext
) -> None:
    """Apply one batch in one transaction (later records may refer to earlier ones). If the
    batch rolls back, so does the reference cache: it forgets everything (it is only a cache)."""
    ctx.born.clear()
    try:
        async with runtime.unit_of_work():
            for kind, rows in _plan(batch, kinds):
                await kinds[kind].apply(rows, ctx)
    except ImportLineError:
        ctx.refs.clear()
        raise
    except Exception as exc:
        ctx.refs.clear()
        line = batch[0][1].line_no if batch else 0
        raise ImportLineError(
            line, f"the batch starting here could not be written: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        ctx.born.clear()
    if len(ctx.refs) > REFS_CACHE:  # forget the oldest quarter: memory stays flat on any file
        for key in list(islice(ctx.refs, len(ctx.refs) - REFS_CACHE * 3 // 4)):
            del ctx.refs[key]
