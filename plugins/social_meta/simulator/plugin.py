"""The Meta simulator as the plugin offers it: `emporio simulate meta`, and a stand-in that
`emporio serve --demo` starts when no EMPORIO_META_PAGE_TOKEN is set (people's messages are then
played with `POST {url}/_simulator/messages`).

A plugin of its own (entry point `social-meta-simulator`), so a shop can disable it in production;
the simulator itself is imported only when one of these runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import click

from core.cli import human_errors, run
from core.hookspecs import hookimpl
from core.hookspecs.cli import CliCommand, DemoContext, DemoEndpoint, DemoService

DEMO_APP_SECRET = "emporio-demo-meta-app-secret"
DEMO_VERIFY_TOKEN = "emporio-demo-verify-token"
DEMO_PAGE_TOKEN = "EAAemporioDemoPageToken"
WEBHOOK_PATH = "/v1/webhooks/meta"


@click.command("meta")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=12112, show_default=True, type=int)
@click.option("--webhook-url", default=None, help="the engine's POST /v1/webhooks/meta")
@click.option("--app-secret", default=DEMO_APP_SECRET, show_default=True, help="signs the webhooks")
@click.option("--verify-token", default=DEMO_VERIFY_TOKEN, show_default=True, help="sent in the handshake")
@click.option("--page-token", default=DEMO_PAGE_TOKEN, show_default=True, help="the Page token Graph accepts")
@human_errors
def simulate_meta(
    host: str, port: int, webhook_url: str | None, app_secret: str, verify_token: str, page_token: str
) -> None:
    """A Meta Messenger Platform simulator (Send API, Conversations, profiles, signed webhooks)."""
    from plugins.social_meta.simulator.simulator import serve

    with contextlib.suppress(KeyboardInterrupt):
        run(
            serve(
                host,
                port,
                webhook_url=webhook_url,
                app_secret=app_secret,
                verify_token=verify_token,
                page_token=page_token,
            )
        )


@contextlib.contextmanager
def _demo_simulator(context: DemoContext) -> Iterator[DemoEndpoint]:
    from plugins.social_meta.simulator.simulator import MetaSimulator

    simulator = MetaSimulator(
        webhook_url=context.api_url + WEBHOOK_PATH,
        app_secret=DEMO_APP_SECRET,
        verify_token=DEMO_VERIFY_TOKEN,
        page_token=DEMO_PAGE_TOKEN,
    )
    with simulator.running(host="127.0.0.1") as base_url:
        yield DemoEndpoint(
            label="Meta (Messenger/Instagram)",
            url=base_url,
            detail=f'POST {base_url}/_simulator/messages {{"user_id": "psid-1", "text": "…"}} to write as a customer',
            environment=simulator.settings(),
        )


def start_demo_simulator(context: DemoContext) -> contextlib.AbstractContextManager[DemoEndpoint] | None:
    """The simulator, unless the shop has a real Page token configured."""
    return None if context.environ.get("EMPORIO_META_PAGE_TOKEN") else _demo_simulator(context)


@hookimpl
def register_commands(register: Callable[[CliCommand], None]) -> None:
    register(CliCommand(command=simulate_meta, group="simulate"))


@hookimpl
def register_demo_services(register: Callable[[DemoService], None]) -> None:
    register(DemoService(name="meta-simulator", start=start_demo_simulator))
