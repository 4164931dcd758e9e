"""`emporio plugin new psp|courier|channel NAME [--dir DIR]`, contributed through
`register_commands` like any plugin's command (the core's command line stays as it is)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from core.hookspecs import hookimpl
from core.hookspecs.cli import CliCommand
from core.plugin_kit.scaffold import KINDS, WHAT, ScaffoldError, names_for, write_package


@click.group("plugin")
def plugin_group() -> None:
    """Plugin packages for integrators: `emporio plugin new` starts one (docs/plugins.md)."""


@plugin_group.command("new")
@click.argument("kind", type=click.Choice(KINDS), metavar="KIND")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=True, dir_okay=True, path_type=Path),
    default=None,
    help="where to write the package (default: ./emporio-KIND-NAME); must be empty or missing",
)
def new(kind: str, name: str, directory: Path | None) -> None:
    """Write a plugin package: a working KIND plugin (psp, courier or channel) named NAME
    against a simulator of the provider's API, `# REAL API:` where the provider's real API
    goes, and tests that run Emporio's contract suite against it. Its own `pytest` passes as
    written."""
    try:
        names = names_for(kind, name)
        target = directory if directory is not None else Path.cwd() / names.distribution
        written = write_package(kind, name, target)
    except ScaffoldError as exc:
        hint = {"kind": "KIND", "name": "NAME", "dir": "--dir"}[exc.param]
        raise click.BadParameter(str(exc), param_hint=hint) from None
    click.echo(f"wrote the {WHAT[kind]} plugin {names.package} ({len(written)} files) in {target}")
    for path in written:
        click.echo(f"  {path.relative_to(target)}")
    click.echo(
        "next: cd there and run `python -m pytest` (the contract suite against the simulator), then replace "
        "every `# REAL API:` part with the provider's real API; docs/plugins.md walks through it"
    )


@hookimpl
def register_commands(register: Callable[[CliCommand], None]) -> None:
    register(CliCommand(command=plugin_group))
