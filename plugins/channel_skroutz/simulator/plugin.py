"""The Skroutz simulator as the Skroutz plugin offers it: `emporio simulate skroutz`, and a
stand-in that `emporio serve --demo` starts when no EMPORIO_SKROUTZ_TOKEN is set, posting its
webhooks to the demo's API.

A plugin of its own (entry point `channel-skroutz-simulator`), so a shop can disable it in
production; the simulator itself is imported only when one of these runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import click

from core.cli import human_errors, run
from core.hookspecs import hookimpl
from core.hookspecs.cli import CliCommand, DemoContext, DemoEndpoint, DemoService

WEBHOOK_PATH = "/v1/webhooks/channels/skroutz"


@click.command("skroutz")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8788, show_default=True, type=int)
@click.option("--webhook-url", default=None, help="Where to POST order webhooks (e.g. the API's " + WEBHOOK_PATH + ")")
@human_errors
def simulate_skroutz(host: str, port: int, webhook_url: str | None) -> None:
    """A Skroutz Smart Cart (Merchants API v3) simulator; API token `skroutz-test-token`."""
    from plugins.channel_skroutz.simulator.server import serve

    click.echo(f"Skroutz simulator on http://{host}:{port} (token: skroutz-test-token)", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        run(serve(host, port, webhook_url))


@contextlib.contextmanager
def _demo_simulator(context: DemoContext) -> Iterator[DemoEndpoint]:
    from plugins.channel_skroutz.simulator.server import SkroutzSimulator

    simulator = SkroutzSimulator(webhook_url=context.api_url.rstrip("/") + WEBHOOK_PATH)
    with simulator.running(host="127.0.0.1") as base_url:
        yield DemoEndpoint(
            label="Skroutz Smart Cart",
            url=base_url,
            detail=f'simulator: new orders with POST {base_url}/_simulator/orders {{"lines": [{{"sku", "qty", '
            '"unit_price"}]}',
            environment={"EMPORIO_SKROUTZ_API_BASE": base_url, "EMPORIO_SKROUTZ_TOKEN": simulator.token},
        )


def start_demo_simulator(context: DemoContext) -> contextlib.AbstractContextManager[DemoEndpoint] | None:
    """The simulator, unless the shop has a real Skroutz token configured."""
    return None if context.environ.get("EMPORIO_SKROUTZ_TOKEN") else _demo_simulator(context)


@hookimpl
def register_commands(register: Callable[[CliCommand], None]) -> None:
    register(CliCommand(command=simulate_skroutz, group="simulate"))


@hookimpl
def register_demo_services(register: Callable[[DemoService], None]) -> None:
    register(DemoService(name="skroutz-simulator", start=start_demo_simulator))
