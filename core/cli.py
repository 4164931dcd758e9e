"""The `emporio` command: the core's own commands (worker, migrate, keys, import, plugins, kpis,
rollups, demo) and those plugins contribute through `register_commands` (the API's `serve`, the
simulators' `simulate NAME`)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import sys
import weakref
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import click
import msgspec

from core.access.apikeys import create_key
from core.customers import segments as customer_segments
from core.demo import print_banner, seed_demo
from core.domain.errors import DomainError
from core.hookspecs.cli import CliCommand
from core.imports.runner import run_import
from core.jobs.embedded_redis import stop_embedded_redis
from core.jobs.worker import run_worker
from core.kpis.engine import KPIEngine, period
from core.kpis.export import kpi_csv, kpis_csv, print_table
from core.kpis.rollups import build_pending
from core.logging import configure_logging
from core.plugins import PluginError, PluginHost, Registered, load_host
from core.runtime import Runtime
from core.settings import load_settings

T = TypeVar("T")


def human_errors(fn: Callable[..., T]) -> Callable[..., T]:
    """Turn the errors a person can fix into one clear line instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except (PluginError, DomainError, ValueError, FileNotFoundError, PermissionError) as exc:
            raise click.ClickException(str(exc)) from None
        except (ConnectionError, OSError) as exc:
            raise click.ClickException(
                f"cannot reach a service: {exc}. Check EMPORIO_DATABASE_URL / EMPORIO_REDIS_URL."
            ) from None

    return wrapper


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


@contextlib.contextmanager
def stops_cleanly() -> Iterator[None]:
    """For the long-running commands (`serve`, `worker`): SIGTERM ends them like Ctrl-C, by
    unwinding, so everything they started is stopped last — the embedded Redis after the
    worker's jobs in flight — and none of it outlives them. (Left to its default, SIGTERM kills
    the interpreter outright: uvicorn re-raises it after its graceful shutdown.)"""

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    except KeyboardInterrupt:
        pass  # stopped on purpose: not an error
    finally:
        signal.signal(signal.SIGTERM, previous)
        stop_embedded_redis()


# The commands added to each root group (the real one, or one a test builds).
_added: weakref.WeakKeyDictionary[click.Group, dict[str, Registered]] = weakref.WeakKeyDictionary()


def add_plugin_commands(root: click.Group, host: PluginHost | None = None) -> dict[str, Registered]:
    """Put the commands plugins register (`register_commands`) under `root`, once: loading every
    plugin takes a while, so it waits until a name the core does not know is asked for."""
    if root in _added:
        return _added[root]
    try:
        registered = (host or load_host()).commands
    except (PluginError, ValueError) as exc:  # a broken plugin or setting: one line, not a traceback
        raise click.ClickException(str(exc)) from None
    for path, item in registered.items():
        command: CliCommand = item.value
        parent = root if command.group is None else root.commands.get(command.group)
        if not isinstance(parent, click.Group):
            groups = sorted(name for name, c in root.commands.items() if isinstance(c, click.Group))
            raise click.ClickException(
                f"plugin {item.plugin!r} registers `emporio {path}`, but there is no command group "
                f"{command.group!r}; use one of: {', '.join(groups)}"
            )
        if command.command.name in parent.commands:
            raise click.ClickException(
                f"plugin {item.plugin!r} registers `emporio {path}`, which Emporio already has; rename it, "
                f"or disable the plugin with EMPORIO_DISABLED_PLUGINS={item.plugin}"
            )
        parent.add_command(command.command)
    _added[root] = registered
    return registered


class WithPluginCommands(click.Group):
    """A group that also offers the commands plugins register, loaded on first need."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None:
            _add_to_root(ctx)
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        _add_to_root(ctx)
        return super().list_commands(ctx)


def _add_to_root(ctx: click.Context) -> None:
    root = ctx.find_root().command
    if isinstance(root, click.Group):
        add_plugin_commands(root)


@click.group(cls=WithPluginCommands)
@click.option("--log-level", default=None, help="debug, info, warning, error (default EMPORIO_LOG_LEVEL or info)")
def main(log_level: str | None) -> None:
    """Emporio: the commerce operations engine."""
    try:
        settings = load_settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(log_level or settings.log_level)


@main.command()
@human_errors
def worker() -> None:
    """Run the background worker (jobs, outbox dispatch, cron)."""

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):  # finish the jobs in flight, then stop
            loop.add_signal_handler(signum, stop.set)
        runtime = Runtime()
        await runtime.start()
        try:
            await run_worker(runtime, stop)
        finally:
            await runtime.stop()

    with stops_cleanly():
        run(go())


@main.command()
@human_errors
def migrate() -> None:
    """Apply database migrations."""

    async def go() -> list[str]:
        runtime = Runtime()
        await runtime.start(with_queue=False, migrate=False)
        try:
            return await runtime.db.migrate()
        finally:
            await runtime.stop()

    applied = run(go())
    click.echo("applied: " + ", ".join(applied) if applied else "the database is up to date")


@main.group(cls=WithPluginCommands)
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, required=True, help="storefront, agent, ops or admin (repeatable)")
@human_errors
def keys_create(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key; the key alone is printed on the last line (shown once)."""

    async def go() -> Any:
        runtime = Runtime()
        await runtime.start(with_queue=False)
        try:
            async with runtime.db.write():
                return await create_key(name, list(scopes))
        finally:
            await runtime.stop()

    created = run(go())
    click.echo(f"created API key {created.id} '{created.name}' with scopes {', '.join(created.scopes)}", err=True)
    click.echo("store it now; it will not be shown again:", err=True)
    click.echo(created.key)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--batch-size", default=2000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--continue-on-error", is_flag=True, help="skip a bad batch and go on (default: stop at the first)")
@human_errors
def import_cmd(file: Path, batch_size: int, continue_on_error: bool) -> None:
    """Import history from a JSON Lines FILE (format in kpis.md)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    def chunks() -> Any:
        with file.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk

    size = file.stat().st_size

    async def go() -> Any:
        runtime = Runtime()
        await runtime.start(with_queue=False)
        try:
            with Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                transient=False,
                disable=not sys.stderr.isatty(),
            ) as bar:
                task = bar.add_task(f"importing {file.name}", total=size)
                return await run_import(
                    runtime,
                    chunks(),
                    batch_size=batch_size,
                    continue_on_error=continue_on_error,
                    progress=lambda n: bar.advance(task, n),
                )
        finally:
            await runtime.stop()

    report = run(go())
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.by_kind.items())) or "nothing"
    click.echo(f"imported {report.records} records ({kinds}) from {report.lines_read} lines")
    for error in report.errors:
        click.echo(f"error: line {error.line}: {error.message}", err=True)
    for first, last in report.skipped_batches:
        click.echo(f"not applied: lines {first}–{last} (the batch holding the bad line)", err=True)
    if report.errors:
        sys.exit(1)


@main.command()
@human_errors
def plugins() -> None:
    """List loaded plugins and the hooks they implement."""
    for info in load_host().describe():
        kind = "builtin" if info.builtin else "third-party"
        click.echo(f"{info.name} {info.version} ({kind}): {', '.join(info.hooks)}")


@main.command("kpis")
@click.option("--from", "start", required=True, help="date (2026-03-01) or RFC 3339 UTC time")
@click.option("--to", "end", required=True, help="date or RFC 3339 UTC time (exclusive)")
@click.option("--channel", default=None)
@click.option("--segment", default=None, type=click.Choice(["first_order", "returning", "reactivated"]))
@click.option("--location", default=None)
@click.option("--kpi", "kpi_id", default=None, help="one KPI (with --group-by or --granularity)")
@click.option("--group-by", default=None)
@click.option("--granularity", default=None, type=click.Choice(["day", "week", "month"]))
@click.option("--format", "output", default="table", type=click.Choice(["table", "json", "csv"]), show_default=True)
@human_errors
def kpis_cmd(
    start: str,
    end: str,
    channel: str | None,
    segment: str | None,
    location: str | None,
    kpi_id: str | None,
    group_by: str | None,
    granularity: str | None,
    output: str,
) -> None:
    """KPIs for a period, in the terminal."""

    filters = {k: v for k, v in (("channel", channel), ("segment", segment), ("location", location)) if v}

    async def go() -> dict[str, Any]:
        runtime = Runtime()
        await runtime.start(with_queue=False)
        try:
            s, e = period(start, end)
            engine = KPIEngine(runtime.host)
            if kpi_id is None:
                return {"from": s, "to": e, "filters": filters, "kpis": await engine.all(s, e, filters)}
            kpi = engine.definition(kpi_id)
            head = {"id": kpi.id, "from": s, "to": e, "filters": filters, "unit": kpi.unit}
            if group_by:
                return {**head, "group_by": group_by, "groups": await engine.grouped(kpi, s, e, filters, group_by)}
            if granularity:
                return {
                    **head,
                    "granularity": granularity,
                    "series": await engine.series(kpi, s, e, filters, granularity),
                }
            return {**head, **(await engine.value(kpi, s, e, filters))}
        finally:
            await runtime.stop()

    result = run(go())
    if output == "json":
        click.echo(msgspec.json.encode(result).decode())
    elif output == "csv":
        click.echo(kpis_csv(result) if kpi_id is None else kpi_csv(result), nl=False)
    else:
        print_table(result)


@main.group(cls=WithPluginCommands)
def rollups() -> None:
    """KPI rollups (maintained by the worker; these commands are for operators and benchmarks)."""


@rollups.command("build")
@click.option("--max-days", default=100_000, show_default=True, type=int, help="stop after this many source-days")
@human_errors
def rollups_build(max_days: int) -> None:
    """Build every dirty or missing daily rollup now."""

    async def go() -> int:
        runtime = Runtime()
        await runtime.start(with_queue=False)
        try:
            return await build_pending(runtime.db, runtime.host, max_days=max_days)
        finally:
            await runtime.stop()

    click.echo(f"built {run(go())} source-days")


@main.group(cls=WithPluginCommands)
def segments() -> None:
    """Customer segments (rebuilt by the worker when orders change)."""


@segments.command("build")
@human_errors
def segments_build() -> None:
    """Recompute every customer's RFM scores and segments now."""

    async def go() -> int:
        runtime = Runtime()
        await runtime.start(with_queue=False)
        try:
            async with runtime.unit_of_work():
                return await customer_segments.build(runtime.host)
        finally:
            await runtime.stop()

    click.echo(f"segmented {run(go())} customers")


@main.group(cls=WithPluginCommands)
def simulate() -> None:
    """Run a simulator of an external service (for demos and plugin development); plugins that
    speak to a service ship its simulator and add it here."""


@main.command()
@human_errors
def demo() -> None:
    """Seed the Greek demo shop and print the demo API keys."""

    runtime = Runtime()
    keys = run(seed_demo(runtime))
    print_banner(keys, "127.0.0.1", 8000, runtime)


if __name__ == "__main__":  # pragma: no cover
    main()
