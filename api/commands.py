"""The API's command, `emporio serve`, contributed through `register_commands` like any plugin's
(the core's command line knows nothing of the HTTP layer)."""

from __future__ import annotations

from collections.abc import Callable

import click

from api.app import create_app
from core.cli import human_errors, run, stops_cleanly
from core.demo import print_banner, seed_demo, start_demo_services, write_demo_env
from core.hookspecs import hookimpl
from core.hookspecs.cli import CliCommand, DemoEndpoint
from core.plugins import load_host
from core.runtime import Runtime

# How long a stopping server waits for requests in flight (a chat socket would hold it forever).
GRACE_S = 30


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--with-worker", is_flag=True, help="run the background worker in the same process")
@click.option("--demo", is_flag=True, help="seed the demo shop (if missing) and print its API keys first")
@human_errors
def serve(host: str, port: int, with_worker: bool, demo: bool) -> None:
    """Start the HTTP API. SIGTERM or Ctrl-C stop it gracefully: requests in flight are answered,
    the worker's jobs in flight finish, then everything it started stops (the embedded Redis last)."""
    import uvicorn  # only this command serves HTTP; every process loads this plugin

    with stops_cleanly():
        notes: list[str] = []
        endpoints: dict[str, DemoEndpoint] = {}
        if demo:  # stand-ins for services without real credentials, started before settings are read
            notes = start_demo_services(load_host(), f"http://{host}:{port}", endpoints=endpoints)
        runtime = Runtime()
        if demo:
            keys = run(seed_demo(runtime))
            write_demo_env(runtime.settings.data_dir, f"http://{host}:{port}", keys, endpoints)
            print_banner(keys, host, port, runtime, notes)
        app = create_app(runtime, with_worker=with_worker)
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=GRACE_S)


@hookimpl
def register_commands(register: Callable[[CliCommand], None]) -> None:
    register(CliCommand(command=serve))
