"""One test per hook of core.hookspecs.cli: plugins add commands to `emporio` (the API's `serve`,
the simulators' `simulate NAME`) and stand-ins that `emporio serve --demo` starts."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import click
import httpx
import pytest
from click.testing import CliRunner

from core.cli import add_plugin_commands, main
from core.demo import start_demo_services
from core.hookspecs import hookimpl
from core.hookspecs.cli import CliCommand, DemoContext, DemoEndpoint, DemoService
from core.plugins import PluginError, PluginHost
from plugins.courier_acs.simulator import plugin as acs_simulator
from plugins.psp_stripe.simulator import plugin as stripe_simulator


def host_with(*plugins: object) -> PluginHost:
    host = PluginHost(builtins=(), entry_points=False)
    for number, plugin in enumerate(plugins):
        host.add(plugin, f"inline-{number}")
    return host


def core_like_root() -> click.Group:
    """A command line shaped like the core's: a command of its own and a `simulate` group."""
    root = click.Group("emporio")
    root.add_command(click.Command("migrate", callback=lambda: None))
    root.add_command(click.Group("simulate"))
    return root


@click.command("hello")
@click.option("--name", default="world")
def hello(name: str) -> None:
    click.echo(f"hello {name}")


@click.command("pigeon")
def simulate_pigeon() -> None:
    click.echo("coo")


class Commands:
    def __init__(self, *commands: CliCommand) -> None:
        self.commands = commands

    @hookimpl
    def register_commands(self, register: Callable[[CliCommand], None]) -> None:
        for command in self.commands:
            register(command)


def test_hook_register_commands() -> None:
    host = host_with(Commands(CliCommand(command=hello), CliCommand(command=simulate_pigeon, group="simulate")))
    root = core_like_root()
    added = add_plugin_commands(root, host)
    assert sorted(added) == ["hello", "simulate pigeon"]
    assert {r.plugin for r in added.values()} == {"inline-0"}
    runner = CliRunner()
    assert runner.invoke(root, ["hello", "--name", "Ελένη"]).output == "hello Ελένη\n"
    assert runner.invoke(root, ["simulate", "pigeon"]).output == "coo\n"
    assert add_plugin_commands(root, host_with()) is added  # once per command line, not once per lookup


def test_hook_register_commands_refuses_taken_names_and_unknown_groups() -> None:
    taken = host_with(Commands(CliCommand(command=click.Command("migrate"))))
    with pytest.raises(click.ClickException, match=r"plugin 'inline-0' registers `emporio migrate`, which Emporio"):
        add_plugin_commands(core_like_root(), taken)
    nowhere = host_with(Commands(CliCommand(command=hello, group="nowhere")))
    with pytest.raises(click.ClickException, match="no command group 'nowhere'; use one of: simulate"):
        add_plugin_commands(core_like_root(), nowhere)
    twice = host_with(Commands(CliCommand(command=hello)), Commands(CliCommand(command=hello)))
    with pytest.raises(PluginError, match="plugin 'inline-1' registered 'hello' in register_commands"):
        _ = twice.commands
    with pytest.raises(TypeError, match="named click command"):
        CliCommand(command=hello.callback)  # type: ignore[arg-type]


def test_hook_register_commands_gives_the_cli_serve_and_the_simulators() -> None:
    # The installed built-ins, found the way `emporio` finds them: on the first name it lacks.
    ctx = click.Context(main)
    serve = main.get_command(ctx, "serve")
    assert serve is not None and {"--demo", "--with-worker", "--port"} <= {o for p in serve.params for o in p.opts}
    simulate = main.get_command(ctx, "simulate")
    assert isinstance(simulate, click.Group)
    assert {"acs", "stripe"} <= set(simulate.list_commands(ctx))
    assert {"worker", "migrate", "keys", "import", "plugins", "kpis", "rollups", "demo"} <= set(main.list_commands(ctx))


class Pigeonry:
    """A demo service that records its life, and one whose real account is configured."""

    def __init__(self) -> None:
        self.life: list[str] = []

    @contextlib.contextmanager
    def running(self, context: DemoContext) -> Iterator[DemoEndpoint]:
        self.life.append(f"started for {context.api_url}")
        yield DemoEndpoint(label="Pigeon post", url="http://127.0.0.1:9", environment={"EMPORIO_PIGEON_URL": "p"})
        self.life.append("stopped")

    @hookimpl
    def register_demo_services(self, register: Callable[[DemoService], None]) -> None:
        register(DemoService(name="pigeon", start=self.running))
        register(DemoService(name="owl", start=lambda context: None))


def test_hook_register_demo_services() -> None:
    pigeonry = Pigeonry()
    environ = {"EMPORIO_DATA_DIR": "/tmp/x"}
    with contextlib.ExitStack() as stack:
        lines = start_demo_services(host_with(pigeonry), "http://127.0.0.1:8000", environ=environ, stack=stack)
        assert lines == ["  Pigeon post   http://127.0.0.1:9"]  # the owl's real account is configured
        assert environ == {"EMPORIO_DATA_DIR": "/tmp/x", "EMPORIO_PIGEON_URL": "p"}
        assert pigeonry.life == ["started for http://127.0.0.1:8000"]
    assert pigeonry.life[-1] == "stopped"  # stand-ins stop with the stack (the process, in `serve`)
    with pytest.raises(ValueError, match="only EMPORIO_\\* settings, not PATH"):
        DemoEndpoint(label="x", url="u", environment={"PATH": "/evil"})


def stripe_answers(endpoint: DemoEndpoint) -> bool:
    """The configured key lists payment intents, as Stripe's API would."""
    key = endpoint.environment["EMPORIO_STRIPE_API_KEY"]
    answer = httpx.get(endpoint.url + "/v1/payment_intents", headers={"Authorization": f"Bearer {key}"}, timeout=5)
    return answer.status_code == 200 and answer.json()["object"] == "list"


def acs_answers(endpoint: DemoEndpoint) -> bool:
    """The configured account's key reaches ACS's endpoint (a wrong key gets 403)."""
    url = endpoint.environment["EMPORIO_ACS_API_BASE"] + "/ACSAutoRest"
    body = {"ACSAlias": "ACS_Trackingsummary", "ACSInputParameters": {"Voucher_No": "1"}}
    right = httpx.post(url, headers={"AcsApiKey": endpoint.environment["EMPORIO_ACS_API_KEY"]}, json=body, timeout=5)
    wrong = httpx.post(url, headers={"AcsApiKey": "not-the-key"}, json=body, timeout=5)
    return right.status_code == 200 and "ACSExecution_HasError" in right.json() and wrong.status_code == 403


@pytest.mark.parametrize(
    ("plugin", "name", "credential", "answers"),
    [
        (stripe_simulator, "stripe-simulator", "EMPORIO_STRIPE_API_KEY", stripe_answers),
        (acs_simulator, "acs-simulator", "EMPORIO_ACS_API_KEY", acs_answers),
    ],
)
def test_hook_register_demo_services_builtins_start_simulators_unless_configured(
    plugin: object, name: str, credential: str, answers: Callable[[DemoEndpoint], bool]
) -> None:
    host = host_with(plugin)
    assert list(host.demo_services) == [name]
    service: DemoService = host.demo_services[name].value
    assert service.start(DemoContext(api_url="http://127.0.0.1:8000", environ={credential: "real"})) is None
    starting = service.start(DemoContext(api_url="http://127.0.0.1:8000", environ={}))
    assert starting is not None
    with starting as endpoint:
        assert endpoint.url.startswith("http://127.0.0.1:") and credential in endpoint.environment
        assert answers(endpoint)
    with pytest.raises(httpx.TransportError):
        httpx.get(endpoint.url, timeout=2)  # stopped with its context
