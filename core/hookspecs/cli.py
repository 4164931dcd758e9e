"""The command line: commands plugins add to `emporio`, and the stand-ins for external services
that `emporio serve --demo` starts so the demo shop pays and ships offline, without accounts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager

import click
import msgspec

from core.hookspecs import hookspec

ENV_PREFIX = "EMPORIO_"


class CliCommand(msgspec.Struct, frozen=True, kw_only=True):
    """A click command and where it goes: the top level (`emporio NAME`) or under one of the
    core's groups (`group="simulate"` gives `emporio simulate NAME`)."""

    command: click.Command
    group: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.command, click.Command) or not self.command.name:
            raise TypeError(f"CliCommand.command must be a named click command, got {self.command!r}")

    @property
    def path(self) -> str:
        """How a person types it after `emporio`: "serve", "simulate stripe"."""
        return f"{self.group} {self.command.name}" if self.group else str(self.command.name)


class DemoContext(msgspec.Struct, frozen=True, kw_only=True):
    """What a demo service may need to know when it starts."""

    api_url: str  # where the API will listen, e.g. http://127.0.0.1:8000 (for webhooks back to it)
    environ: Mapping[str, str]  # the process environment: real credentials there mean no stand-in


class DemoEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """A running stand-in: where it listens, one line for the banner, and the settings that point
    its plugin at it (applied to the environment before the engine reads its settings)."""

    label: str  # "Stripe", "ACS courier"
    url: str
    environment: Mapping[str, str]
    detail: str = ""  # e.g. how to script it: "POST {url}/_simulator/… to deliver a parcel"

    def __post_init__(self) -> None:
        foreign = sorted(k for k in self.environment if not k.startswith(ENV_PREFIX))
        if foreign:
            raise ValueError(f"a demo service may set only {ENV_PREFIX}* settings, not {', '.join(foreign)}")


DemoStart = Callable[[DemoContext], AbstractContextManager[DemoEndpoint] | None]


class DemoService(msgspec.Struct, frozen=True, kw_only=True):
    """A stand-in for an external service. `start` returns None when the shop is configured for
    the real service, else a context manager that starts the stand-in and yields its
    `DemoEndpoint`; it is left when the process exits."""

    name: str
    start: DemoStart

    def __post_init__(self) -> None:
        if not self.name or not callable(self.start):
            raise TypeError("DemoService needs a name and a callable start(context)")


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------


@hookspec
def register_commands(register: Callable[[CliCommand], None]) -> None:
    """Contribute commands to the `emporio` command line (the API's `serve`, a simulator's
    `simulate NAME`, a plugin's own maintenance commands).

    When it is called:
        Once per `emporio` run, the first time a command the core does not define itself is
        looked up, or when `emporio --help` lists them. The core's own commands (`migrate`,
        `keys`, `import`, …) run without it.

    Args:
        register: call it with a `CliCommand`: a click command and, optionally, the core group it
            goes under (`"simulate"`, `"keys"`, `"rollups"`). A command whose path the core or
            another plugin already has is refused, naming both.

    Returns:
        Nothing; all registrations are collected and added to the command line in plugin order.

    Example:
        ```python
        @hookimpl
        def register_commands(register):
            @click.command("boxnow")
            @click.option("--port", default=8788, show_default=True)
            def simulate_boxnow(port):
                "A BoxNow partner API simulator."
                asyncio.run(BoxNowSimulator().serve(port=port))

            register(CliCommand(command=simulate_boxnow, group="simulate"))
        ```
    """


# ---------------------------------------------------------------------------------------------
# Demo services
# ---------------------------------------------------------------------------------------------


@hookspec
def register_demo_services(register: Callable[[DemoService], None]) -> None:
    """Contribute a stand-in for an external service (a PSP's or courier's simulator) that
    `emporio serve --demo` starts when the shop has no real account, so the demo works offline.

    When it is called:
        Once, by `emporio serve --demo`, before the engine reads its settings; each service's
        `start` is called then, and the stand-ins it starts live until the process exits.

    Args:
        register: call it with a `DemoService`: a unique `name` and `start(context)`, which gets
            a `DemoContext` (the API's URL, the environment) and returns None when real
            credentials are configured, or a context manager yielding a `DemoEndpoint` (URL,
            banner line, and the `EMPORIO_*` settings that point the plugin at the stand-in).

    Returns:
        Nothing; all registrations are collected. A duplicate name is refused.

    Example:
        ```python
        @hookimpl
        def register_demo_services(register):
            @contextmanager
            def running(context):
                with BoxNowSimulator().running() as url:
                    yield DemoEndpoint(label="BoxNow", url=url, environment={"EMPORIO_BOXNOW_API_BASE": url})

            def start(context):
                return None if context.environ.get("EMPORIO_BOXNOW_CLIENT_ID") else running(context)

            register(DemoService(name="boxnow-simulator", start=start))
        ```
    """
