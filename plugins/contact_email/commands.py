"""`emporio mail serve` (the inbound SMTP server as a process of its own) and `emporio mail
catch` (a local mail catcher), contributed through `register_commands`."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import click
import msgspec

from core.cli import human_errors, run
from core.settings import DATA_DIR, read
from plugins.contact_email import settings as mail_settings
from plugins.contact_email.catcher import CATCHER_DIR, MailCatcher, smtp_in_thread
from plugins.contact_email.settings import parse_addresses, parse_listen


@click.group("mail")
def mail() -> None:
    """The email channel: receive support mail over SMTP, or catch outgoing mail locally."""


@mail.command("serve")
@click.option("--listen", default=None, help="host:port to listen on (default: EMPORIO_SMTP_LISTEN)")
@click.option(
    "--address", "addresses", multiple=True, help="accept mail for ADDRESS (repeatable; default: the setting)"
)
@click.option("--migrate/--no-migrate", default=True, show_default=True, help="apply migrations first")
@click.option("--queue/--no-queue", default=True, show_default=True, help="hand events to Redis at once")
@human_errors
def serve(listen: str | None, addresses: tuple[str, ...], migrate: bool, queue: bool) -> None:
    """Receive mail for EMPORIO_SUPPORT_ADDRESSES into cases, answering 250 only once stored."""
    from core.runtime import Runtime
    from plugins.contact_email.server import serving

    settings = mail_settings.inbound()
    if listen:
        settings = msgspec.structs.replace(settings, listen=parse_listen(listen))
    if addresses:
        settings = msgspec.structs.replace(settings, addresses=parse_addresses(",".join(addresses)))
    if settings.listen is None:
        raise click.UsageError("give --listen host:port or set EMPORIO_SMTP_LISTEN")

    async def go() -> None:
        runtime = Runtime()
        await runtime.start(with_queue=queue, migrate=migrate)
        try:
            async with serving(runtime, settings) as address:
                click.echo(f"receiving mail for {', '.join(settings.addresses)} on smtp://{address}", err=True)
                await asyncio.Event().wait()  # until interrupted
        finally:
            await runtime.stop()

    with contextlib.suppress(KeyboardInterrupt):
        run(go())


@mail.command("catch")
@click.option("--listen", default="127.0.0.1:1025", show_default=True, help="host:port to listen on")
@click.option(
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=f"where mail is kept (default: EMPORIO_DATA_DIR/{CATCHER_DIR}, which GET /v1/mail/outbox lists)",
)
@human_errors
def catch(listen: str, directory: Path | None) -> None:
    """Keep every mail sent here instead of delivering it; point EMPORIO_SMTP_URL at it."""
    target = directory or read(DATA_DIR).resolve() / CATCHER_DIR
    with smtp_in_thread(MailCatcher(target), parse_listen(listen)) as address:
        click.echo(f"catching mail on smtp://{address} into {target} (EMPORIO_SMTP_URL=smtp://{address})", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            run(asyncio.Event().wait())
