"""The ACS simulator as the ACS plugin offers it: `emporio simulate acs`, and a stand-in that
`emporio serve --demo` starts when no EMPORIO_ACS_API_KEY is set (ACS has no test host).

A plugin of its own (entry point `courier-acs-simulator`), so a shop can disable it in
production; the simulator itself is imported only when one of these runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import click

from core.cli import human_errors, run
from core.hookspecs import hookimpl
from core.hookspecs.cli import CliCommand, DemoContext, DemoEndpoint, DemoService

# The simulator's built-in account (ACSSimulator's defaults).
DEMO_ACCOUNT = {
    "EMPORIO_ACS_API_KEY": "demo",
    "EMPORIO_ACS_COMPANY_ID": "demo",
    "EMPORIO_ACS_COMPANY_PASSWORD": "demo",
    "EMPORIO_ACS_USER_ID": "demo",
    "EMPORIO_ACS_USER_PASSWORD": "demo",
    "EMPORIO_ACS_BILLING_CODE": "2ΑΘ999999",
}


@click.command("acs")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8787, show_default=True, type=int)
@human_errors
def simulate_acs(host: str, port: int) -> None:
    """An ACS Courier REST API simulator (demo credentials demo/demo, billing code 2ΑΘ999999)."""
    from plugins.courier_acs.simulator.simulator import serve

    click.echo(f"ACS simulator on http://{host}:{port}/ACSRestServices/api/ACSAutoRest (API key: demo)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        run(serve(host, port))


@contextlib.contextmanager
def _demo_simulator(context: DemoContext) -> Iterator[DemoEndpoint]:
    from plugins.courier_acs.simulator.simulator import ACSSimulator

    with ACSSimulator().running(host="127.0.0.1") as base_url:
        yield DemoEndpoint(
            label="ACS courier",
            url=base_url,
            detail=f"simulator: script deliveries with POST {base_url}/_simulator/vouchers/{{no}}/status",
            environment={"EMPORIO_ACS_API_BASE": base_url + "/ACSRestServices/api", **DEMO_ACCOUNT},
        )


def start_demo_simulator(context: DemoContext) -> contextlib.AbstractContextManager[DemoEndpoint] | None:
    """The simulator, unless the shop has a real ACS account configured."""
    return None if context.environ.get("EMPORIO_ACS_API_KEY") else _demo_simulator(context)


@hookimpl
def register_commands(register: Callable[[CliCommand], None]) -> None:
    register(CliCommand(command=simulate_acs, group="simulate"))


@hookimpl
def register_demo_services(register: Callable[[DemoService], None]) -> None:
    register(DemoService(name="acs-simulator", start=start_demo_simulator))
