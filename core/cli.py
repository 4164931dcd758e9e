"""The `emporio` command: serve, worker, migrate, keys, import, plugins, demo, simulate."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from core.domain.errors import DomainError
from core.logging import configure_logging
from core.plugins import PluginError

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


@click.group()
@click.option("--log-level", default=None, help="debug, info, warning, error (default EMPORIO_LOG_LEVEL or info)")
def main(log_level: str | None) -> None:
    """Emporio: the commerce operations engine."""
    from core.settings import load_settings

    try:
        settings = load_settings()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(log_level or settings.log_level)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--with-worker", is_flag=True, help="run the background worker in the same process")
@click.option("--demo", is_flag=True, help="seed the demo shop (if missing) and print its API keys first")
@human_errors
def serve(host: str, port: int, with_worker: bool, demo: bool) -> None:
    """Start the HTTP API."""
    import uvicorn

    from api.app import create_app
    from core.runtime import Runtime

    notes: list[str] = []
    if demo:
        from core.demo import start_simulators

        notes = start_simulators(host, port)  # only for services without real credentials
    runtime = Runtime()
    if demo:
        from core.demo import print_banner, seed_demo

        keys = run(seed_demo(runtime))
        print_banner(keys, host, port, runtime, notes)
    app = create_app(runtime, with_worker=with_worker)
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


@main.command()
@human_errors
def worker() -> None:
    """Run the background worker (jobs, outbox dispatch, cron)."""
    from core.jobs.worker import run_worker
    from core.runtime import Runtime

    async def go() -> None:
        runtime = Runtime()
        await runtime.start()
        try:
            await run_worker(runtime)
        finally:
            await runtime.stop()

    with contextlib.suppress(KeyboardInterrupt):
        run(go())


@main.command()
@human_errors
def migrate() -> None:
    """Apply database migrations."""
    from core.runtime import Runtime

    async def go() -> list[str]:
        runtime = Runtime()
        await runtime.start(with_queue=False, migrate=False)
        try:
            return await runtime.db.migrate()
        finally:
            await runtime.stop()

    applied = run(go())
    click.echo("applied: " + ", ".join(applied) if applied else "the database is up to date")


@main.group()
def keys() -> None:
    """Manage API keys."""


@keys.command("create")
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, required=True, help="storefront, agent, ops or admin (repeatable)")
@human_errors
def keys_create(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key; the key alone is printed on the last line (shown once)."""
    from core.runtime import Runtime
    from core.services.apikeys import create_key

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

    from core.runtime import Runtime
    from core.services.imports import run_import

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
    from core.plugins import load_host

    for info in load_host().describe():
        kind = "builtin" if info.builtin else "third-party"
        click.echo(f"{info.name} {info.version} ({kind}): {', '.join(info.hooks)}")


@main.group()
def simulate() -> None:
    """Run a simulator of an external service (for demos and plugin development)."""


@simulate.command("stripe")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=12111, show_default=True, type=int)
@click.option("--webhook-url", default=None, help="where to POST signed events")
@click.option("--webhook-secret", default=None, help="the endpoint's signing secret (whsec_…)")
@human_errors
def simulate_stripe(host: str, port: int, webhook_url: str | None, webhook_secret: str | None) -> None:
    """A Stripe API simulator speaking Stripe's wire format."""
    from core.testing.simulators.stripe import serve as serve_stripe

    click.echo(f"Stripe simulator on http://{host}:{port} (webhooks → {webhook_url or 'not delivered'})", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        run(serve_stripe(host, port, webhook_url, webhook_secret))


@simulate.command("acs")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=int)
@human_errors
def simulate_acs(host: str, port: int) -> None:
    """An ACS Courier REST API simulator (demo credentials demo/demo, billing code 2ΑΘ999999)."""
    from core.testing.simulators.acs import serve as serve_acs

    click.echo(f"ACS simulator on http://{host}:{port}/ACSRestServices/api/ACSAutoRest (API key: demo)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        run(serve_acs(host, port))


@main.command()
@human_errors
def demo() -> None:
    """Seed the Greek demo shop and print the demo API keys."""
    from core.demo import print_banner, seed_demo
    from core.runtime import Runtime

    runtime = Runtime()
    keys = run(seed_demo(runtime))
    print_banner(keys, "127.0.0.1", 8000, runtime)


if __name__ == "__main__":  # pragma: no cover
    main()
