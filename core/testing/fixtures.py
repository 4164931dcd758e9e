"""Pytest helpers for Emporio and its plugins: an inline plugin registered for one test."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from core.plugins import PluginHost


@contextlib.contextmanager
def inline_plugin(host: PluginHost, plugin: object, name: str = "inline-test-plugin") -> Iterator[object]:
    """Register `plugin` (a module, class or object with @hookimpl methods) for the duration of
    the block, then unregister it, so one test's plugin never leaks into the next."""
    host.add(plugin, name)
    try:
        yield plugin
    finally:
        host.remove(name)
