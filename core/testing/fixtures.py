"""Pytest helpers for Emporio and its plugins, usable as a pytest plugin.

A plugin's own test suite loads it from its top-level conftest.py::

    pytest_plugins = ("core.testing.fixtures",)

and gets: assertion rewriting inside the contract suites (a failing contract test shows both
sides, as in your own tests), the ``plugin_host`` fixture (a plugin host with nothing
installed, to register your plugin into) and `inline_plugin`. The suites themselves are
classes to subclass: `core.testing.psp_contract.PSPContract`,
`core.testing.courier_contract.CourierContract` / `RemoteCourierContract` and
`core.testing.channel_contract.ChannelContract`. They are async tests: run them with
pytest-asyncio in ``asyncio_mode = "auto"``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

# Before any test module imports them: pytest rewrites asserts only in modules it is told about.
pytest.register_assert_rewrite(
    "core.testing.psp_contract",
    "core.testing.courier_contract",
    "core.testing.courier_harness",
    "core.testing.channel_contract",
)

from core.plugins import PluginHost  # noqa: E402 - after the rewrite registration, on purpose

__all__ = ["inline_plugin", "plugin_host"]


@contextlib.contextmanager
def inline_plugin(host: PluginHost, plugin: object, name: str = "inline-test-plugin") -> Iterator[object]:
    """Register `plugin` (a module, class or object with @hookimpl methods) for the duration of
    the block, then unregister it, so one test's plugin never leaks into the next."""
    host.add(plugin, name)
    try:
        yield plugin
    finally:
        host.remove(name)


@pytest.fixture
def plugin_host() -> PluginHost:
    """A plugin host with no plugin installed (no built-ins, no entry points): add yours with
    `host.add(plugin, name)` and read the registries it fills (`host.couriers["boxnow"]`)."""
    return PluginHost(builtins=(), entry_points=False)
