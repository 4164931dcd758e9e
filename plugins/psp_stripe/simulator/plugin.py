"""The Stripe simulator as the Stripe plugin offers it: `emporio simulate stripe`, and a stand-in
that `emporio serve --demo` starts when no EMPORIO_STRIPE_API_KEY is set.

A plugin of its own (entry point `psp-stripe-simulator`), so a shop can disable it in
production; the simulator itself is imported only when one of these runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import click

from core.cli import human_errors, run
from core.hookspecs import hookimpl
from core.hookspecs.cli import CliCommand, DemoContext, DemoEndpoint, DemoService

DEMO_API_KEY = "sk_test_emporio_demo"
DEMO_WEBHOOK_SECRET = "whsec_emporio_demo"
WEBHOOK_PATH = "/v1/webhooks/psp/stripe"


@click.command("stripe")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=12111, show_default=True, type=int)
@click.option("--webhook-url", default=None, help="where to POST signed events")
@click.option("--webhook-secret", default=None, help="the endpoint's signing secret (whsec_…)")
@human_errors
def simulate_stripe(host: str, port: int, webhook_url: str | None, webhook_secret: str | None) -> None:
    """A Stripe API simulator speaking Stripe's wire format."""
    from plugins.psp_stripe.simulator.simulator import serve

    click.echo(f"Stripe simulator on http://{host}:{port} (webhooks → {webhook_url or 'not delivered'})", err=True)
    with contextlib.suppress(KeyboardInterrupt):
        run(serve(host, port, webhook_url, webhook_secret))


@contextlib.contextmanager
def _demo_simulator(context: DemoContext) -> Iterator[DemoEndpoint]:
    from plugins.psp_stripe.simulator.simulator import StripeSimulator

    simulator = StripeSimulator(webhook_url=context.api_url + WEBHOOK_PATH, webhook_secret=DEMO_WEBHOOK_SECRET)
    with simulator.running(host="127.0.0.1") as base_url:
        yield DemoEndpoint(
            label="Stripe",
            url=base_url,
            detail="simulator: no EMPORIO_STRIPE_API_KEY set",
            environment={
                "EMPORIO_STRIPE_API_KEY": DEMO_API_KEY,
                "EMPORIO_STRIPE_WEBHOOK_SECRET": DEMO_WEBHOOK_SECRET,
                "EMPORIO_STRIPE_API_BASE": base_url,
            },
        )


def start_demo_simulator(context: DemoContext) -> contextlib.AbstractContextManager[DemoEndpoint] | None:
    """The simulator, unless the shop has a real Stripe account configured."""
    return None if context.environ.get("EMPORIO_STRIPE_API_KEY") else _demo_simulator(context)


@hookimpl
def register_commands(register: Callable[[CliCommand], None]) -> None:
    register(CliCommand(command=simulate_stripe, group="simulate"))


@hookimpl
def register_demo_services(register: Callable[[DemoService], None]) -> None:
    register(DemoService(name="stripe-simulator", start=start_demo_simulator))
