"""Emporio's pytest plugin for a plugin's own test suite: the contract suites, runnable from any
plugin package with no database, Redis or Emporio checkout behind it.

Load it from the package's top-level conftest.py (what `emporio plugin new` writes)::

    pytest_plugins = ("core.testing.pytest_plugin",)

It brings `core.testing.fixtures` (assertion rewriting inside the contract suites, `plugin_host`,
`inline_plugin`) and adds:

* ``emporio_env`` — the process environment as a shop with nothing configured would see it:
  every ``EMPORIO_*`` variable of the shell removed, ``EMPORIO_DATA_DIR`` a throwaway
  directory; ``emporio_env.set(name, value)`` configures a setting for one test.
* ``emporio_entry_points`` — the package's ``[project.entry-points.emporio]`` table, read from
  the ``pyproject.toml`` at pytest's root directory: ``{"psp-acme": "emporio_psp_acme.plugin"}``.
* ``load_plugin_host`` — builds a `PluginHost` holding those entry points, each under its
  entry-point name, exactly as the engine loads the package once it is pip-installed (and
  nothing else: no built-ins, no other installed plugin), reading settings from the
  environment at that moment: ``load_plugin_host().payment_processors["acme"]``.

The suites themselves are classes to subclass, given a harness fixture:
`core.testing.psp_contract.PSPContract` (``psp_harness``),
`core.testing.courier_contract.CourierContract` / ``RemoteCourierContract``
(``courier_harness``) and `core.testing.channel_contract.ChannelContract` (``channel_harness``).
They are async tests: the plugin refuses to run unless pytest-asyncio runs in ``auto`` mode,
since in strict mode it would skip them all and the run would look green.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.plugins import PluginHost
from core.settings import environment

pytest_plugins = ("core.testing.fixtures",)

ENV_PREFIX = "EMPORIO_"
ENTRY_POINT_GROUP = "emporio"

__all__ = ["EmporioEnv", "declared_entry_points"]


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("asyncio"):
        raise pytest.UsageError("the Emporio contract suites are async tests: install pytest-asyncio")
    mode = config.getoption("asyncio_mode", default=None) or config.getini("asyncio_mode")
    if str(mode) != "auto":
        raise pytest.UsageError(
            'the Emporio contract suites need pytest-asyncio in auto mode: set asyncio_mode = "auto" under '
            f"[tool.pytest.ini_options] (it is {mode!r}); in strict mode their async tests would not run"
        )


def declared_entry_points(pyproject: Path) -> dict[str, str]:
    """``[project.entry-points.emporio]`` of a pyproject.toml: entry-point name → module."""
    with pyproject.open("rb") as source:
        document = tomllib.load(source)
    table = document.get("project", {}).get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    return {str(name): str(value) for name, value in table.items()}


class EmporioEnv:
    """The environment of one test: ``EMPORIO_*`` of the shell gone, a throwaway data dir."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
        self._monkeypatch = monkeypatch
        self.data_dir = data_dir
        for name in environment():
            monkeypatch.delenv(name)
        monkeypatch.setenv(f"{ENV_PREFIX}DATA_DIR", str(data_dir))

    def set(self, name: str, value: str) -> None:
        if not name.startswith(ENV_PREFIX):
            raise ValueError(f"Emporio reads only {ENV_PREFIX}* settings, not {name}")
        self._monkeypatch.setenv(name, value)

    def unset(self, name: str) -> None:
        self._monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emporio_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmporioEnv]:
    yield EmporioEnv(monkeypatch, tmp_path_factory.mktemp("emporio-data"))


@pytest.fixture(scope="session")
def emporio_entry_points(pytestconfig: pytest.Config) -> dict[str, str]:
    pyproject = pytestconfig.rootpath / "pyproject.toml"
    if not pyproject.is_file():
        raise pytest.UsageError(f"no pyproject.toml at pytest's root directory {pytestconfig.rootpath}")
    declared = declared_entry_points(pyproject)
    if not declared:
        raise pytest.UsageError(
            f"{pyproject} declares no [project.entry-points.{ENTRY_POINT_GROUP}]: "
            'add one, e.g. psp-acme = "emporio_psp_acme.plugin", so Emporio finds the plugin once installed'
        )
    return declared


@pytest.fixture
def load_plugin_host(emporio_env: EmporioEnv, emporio_entry_points: dict[str, str]) -> Callable[[], PluginHost]:
    def load() -> PluginHost:
        host = PluginHost(builtins=(), entry_points=False)
        for name, target in emporio_entry_points.items():
            module, _, attribute = target.partition(":")
            plugin = importlib.import_module(module.strip())
            host.add(getattr(plugin, attribute.strip()) if attribute else plugin, name)
        return host

    return load
