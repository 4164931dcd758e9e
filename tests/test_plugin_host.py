"""The plugin host: built-ins load like any plugin, third-party plugins come from the `emporio`
entry-point group (a real dist-info on sys.path here), broken plugins are refused with a message
naming them and the fix, EMPORIO_DISABLED_PLUGINS and EMPORIO_TRACE_PLUGINS work, and
GET /v1/plugins describes what is loaded."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import CapturingLogger

import core.plugins
from core.hookspecs import hookimpl
from core.hookspecs.routing import RoutingLine, RoutingLocation, RoutingRequest
from core.plugins import DEFAULT_PLUGINS, PluginError, PluginHost, load_host
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin


def install_plugin(root: Path, monkeypatch: pytest.MonkeyPatch, entry_name: str, source: str) -> str:
    """Write a package and its dist-info (with an `emporio` entry point) under `root`, and put
    `root` on sys.path: what `pip install emporio-<name>` would leave behind."""
    module = f"emporio_test_plugin_{uuid.uuid4().hex[:8]}"
    (root / module).mkdir(parents=True)
    (root / module / "__init__.py").write_text(textwrap.dedent(source))
    dist = root / f"{module}-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text(f"[emporio]\n{entry_name} = {module}\n")
    monkeypatch.syspath_prepend(str(root))
    return module


GOOD_PLUGIN = """
    from core.domain.kpis import FactSource, KPIDefinition, count
    from core.hookspecs import hookimpl

    async def load(query):
        return []

    @hookimpl
    def register_kpis(register):
        register(KPIDefinition(id="pigeon_flights", name="Pigeon flights", unit="count",
                               formula="Count of flights.", facts=FactSource(id="pigeon", load=load),
                               reduce=count()))
"""


def test_builtin_plugins_load() -> None:
    host = PluginHost(entry_points=False)
    described = {info.name: info for info in host.describe()}
    assert set(DEFAULT_PLUGINS) <= set(described)
    for name in DEFAULT_PLUGINS:
        assert described[name].builtin, name
        assert described[name].hooks, f"{name} implements no hook"
    assert "api-orders" not in described  # the API's routes are an entry point, not a core domain
    assert host.kpis["orders_placed"].plugin == "core.orders.kpis"
    assert host.jobs["events.process"].plugin == "core.jobs.plugin"
    assert {"customer", "product", "location", "order"} <= set(host.import_kinds)


def test_shipped_plugins_load_through_the_entry_points_like_third_party_ones() -> None:
    host = PluginHost()
    described = {info.name: info for info in host.describe()}
    assert "register_routes" in described["api-orders"].hooks
    assert described["psp-stripe"].builtin and described["courier-acs"].builtin
    assert {r.plugin for r in host.routes()} >= {"api-system", "api-orders", "api-kpis"}
    assert "courier-acs" in described  # its courier registers once ACS credentials are set


def test_a_third_party_plugin_is_loaded_from_the_entry_point_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, monkeypatch, "pigeon-post", GOOD_PLUGIN)
    host = load_host()
    described = {info.name: info for info in host.describe()}
    info = described["pigeon-post"]
    assert (info.version, info.hooks, info.builtin) == ("1.2.3", ["register_kpis"], False)
    assert host.kpis["pigeon_flights"].plugin == "pigeon-post"
    assert host.kpis["orders_placed"].plugin == "core.orders.kpis"  # built-ins beside it
    assert "pigeon-post" not in {i.name for i in PluginHost(entry_points=False).describe()}


def test_a_plugin_that_fails_to_import_is_refused_and_can_be_disabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(tmp_path, monkeypatch, "broken-import", "import emporio_no_such_dependency\n")
    with pytest.raises(PluginError) as refused:
        PluginHost()
    message = str(refused.value)
    assert message.startswith("plugin 'broken-import' (entry point emporio_test_plugin_")
    assert "failed to import: ModuleNotFoundError" in message and "emporio_no_such_dependency" in message
    assert "Fix or uninstall it, or disable it with EMPORIO_DISABLED_PLUGINS=broken-import." in message

    monkeypatch.setenv("EMPORIO_DISABLED_PLUGINS", "broken-import")
    host = load_host()
    assert "broken-import" not in {i.name for i in host.describe()}
    assert "orders_placed" in host.kpis


def test_a_plugin_with_a_misspelt_hook_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_plugin(
        tmp_path,
        monkeypatch,
        "typo-plugin",
        """
        from core.hookspecs import hookimpl

        @hookimpl
        def register_kpi(register):
            pass
        """,
    )
    with pytest.raises(PluginError) as refused:
        PluginHost()
    message = str(refused.value)
    assert message.startswith("plugin 'typo-plugin' implements a hook Emporio does not define")
    assert "register_kpi" in message
    assert "Check the hook name against core/hookspecs" in message
    assert "EMPORIO_DISABLED_PLUGINS=typo-plugin" in message
    assert "typo-plugin" not in {i.name for i in PluginHost(disabled=["typo-plugin"]).describe()}


def test_a_hook_implementation_with_an_argument_the_spec_lacks_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_plugin(
        tmp_path,
        monkeypatch,
        "extra-arg",
        """
        from core.hookspecs import hookimpl

        @hookimpl
        def on_event(event, order):
            pass
        """,
    )
    with pytest.raises(PluginError) as refused:
        PluginHost()
    message = str(refused.value)
    assert message.startswith("plugin 'extra-arg' is broken")
    assert "'order'" in message  # what is wrong
    assert "may declare only arguments its hookspec has" in message  # what to do
    assert "EMPORIO_DISABLED_PLUGINS=extra-arg" in message


class MisspeltInline:
    @hookimpl
    def on_evnt(self, event: Any) -> None:
        return None


def test_an_inline_plugin_with_a_misspelt_hook_is_refused_and_not_left_behind(runtime: Runtime) -> None:
    before = [i.name for i in runtime.host.describe()]
    with pytest.raises(PluginError) as refused, inline_plugin(runtime.host, MisspeltInline(), name="inline-typo"):
        pass
    assert str(refused.value).startswith("plugin 'inline-typo' implements a hook Emporio does not define")
    assert "on_evnt" in str(refused.value)
    assert [i.name for i in runtime.host.describe()] == before


def test_emporio_disabled_plugins_disables_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPORIO_DISABLED_PLUGINS", "core.jobs.plugin, api-kpis")
    host = load_host()
    names = {i.name for i in host.describe()}
    assert "core.jobs.plugin" not in names and "api-kpis" not in names
    assert "api-orders" in names
    assert "events.process" not in host.jobs
    assert "api-kpis" not in {r.plugin for r in host.routes()}
    monkeypatch.delenv("EMPORIO_DISABLED_PLUGINS")
    assert "events.process" in load_host().jobs


ROUTING_REQUEST = RoutingRequest(
    order_id="ord_trace",
    lines=[RoutingLine(sku="A", qty=1)],
    locations=[
        RoutingLocation(
            code="WH", type="warehouse", ships=True, pickup=False, priority=1, lat=None, lon=None, available={"A": 1}
        )
    ],
    delivery_method="courier",
)


def test_emporio_trace_plugins_logs_hook_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    captured = CapturingLogger()
    monkeypatch.setattr(core.plugins, "log", captured)
    monkeypatch.setenv("EMPORIO_TRACE_PLUGINS", "1")
    host = load_host()
    host.pm.hook.resolve_allocation(request=ROUTING_REQUEST)
    host.kpis  # noqa: B018 - a register_* hook, called implementation by implementation
    calls = [(c.args[0], c.kwargs) for c in captured.calls if c.method_name == "info"]
    resolve = [kw for event, kw in calls if event == "hook.call" and kw.get("hook") == "resolve_allocation"]
    assert resolve and resolve[0]["args"] == ["request"]
    assert "routing-default" in resolve[0]["plugins"]
    assert any(event == "hook.done" and kw["hook"] == "resolve_allocation" for event, kw in calls)
    kpis = [kw for event, kw in calls if event == "hook.call" and kw.get("hook") == "register_kpis"]
    assert {kw["plugin"] for kw in kpis} >= {"core.orders.kpis"}
    assert all(kw["ms"] >= 0 for kw in kpis)

    captured.calls.clear()
    monkeypatch.setenv("EMPORIO_TRACE_PLUGINS", "0")
    quiet = load_host()
    quiet.pm.hook.resolve_allocation(request=ROUTING_REQUEST)
    quiet.kpis  # noqa: B018
    assert not [c for c in captured.calls if c.args and str(c.args[0]).startswith("hook.")]


async def test_get_plugins_describes_what_is_loaded_and_needs_admin(api: Any, runtime: Runtime) -> None:
    assert (await api.get("/v1/plugins", as_=None)).status_code == 401
    for scope in ("ops", "agent", "storefront"):
        forbidden = await api.get("/v1/plugins", as_=scope)
        assert forbidden.status_code == 403
        assert forbidden.headers["content-type"].startswith("application/problem+json")
    listed = await api.get("/v1/plugins", as_="admin")
    assert listed.status_code == 200
    plugins = {p["name"]: p for p in listed.json()}
    assert all(set(p) == {"name", "version", "hooks", "builtin"} for p in plugins.values())
    assert set(DEFAULT_PLUGINS) <= set(plugins)
    assert plugins["core.jobs.plugin"]["builtin"] is True
    assert "register_jobs" in plugins["core.jobs.plugin"]["hooks"]

    class Listener:
        __version__ = "0.9"

        @hookimpl
        def on_event(self, event: Any) -> None:
            return None

    with inline_plugin(runtime.host, Listener(), name="inline-listener"):
        mine = [p for p in (await api.get("/v1/plugins", as_="admin")).json() if p["name"] == "inline-listener"]
    assert mine == [{"name": "inline-listener", "version": "0.9", "hooks": ["on_event"], "builtin": False}]
