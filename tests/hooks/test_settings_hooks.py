"""register_settings: a plugin declares its own EMPORIO_* variables; the host collects them beside
the core's (README's table is generated from both) and the plugin reads them with `read`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core import settings_reference
from core.hookspecs import hookimpl
from core.plugins import PluginError
from core.runtime import Runtime
from core.settings import DATA_DIR, SettingSpec, read
from core.testing.fixtures import inline_plugin

TOKEN: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_AGORA_TOKEN", type=str, default=None, doc="Agora marketplace API token", secret=True
)
POLL_MINUTES: SettingSpec[int] = SettingSpec(
    name="EMPORIO_AGORA_POLL_MINUTES", type=int, default=5, doc="how often new Agora orders are fetched"
)


class AgoraSettings:
    @hookimpl
    def register_settings(self, register: Callable[[SettingSpec[Any]], None]) -> None:
        register(TOKEN)
        register(POLL_MINUTES)


async def test_hook_register_settings(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    assert runtime.host.settings["EMPORIO_STRIPE_API_KEY"].plugin == "psp-stripe"  # a built-in plugin's own
    with inline_plugin(runtime.host, AgoraSettings(), name="inline-agora"):
        registered = runtime.host.settings["EMPORIO_AGORA_TOKEN"]
        assert registered.value is TOKEN and registered.plugin == "inline-agora"
        table = settings_reference.render(runtime.host)
        row = "| `EMPORIO_AGORA_POLL_MINUTES` | whole number | `5` | how often new Agora orders are fetched |"
        assert f"{row} inline-agora |" in table
        assert "| `EMPORIO_AGORA_TOKEN` | text, secret | (unset) |" in table
        monkeypatch.setenv("EMPORIO_AGORA_POLL_MINUTES", "15")
        assert read(POLL_MINUTES) == 15
    assert "EMPORIO_AGORA_TOKEN" not in runtime.host.settings


def _plugin(*values: object) -> object:
    class Plugin:
        @hookimpl
        def register_settings(self, register: Callable[[object], None]) -> None:
            for value in values:
                register(value)

    return Plugin()


async def test_hook_register_settings_refuses_a_core_name_a_duplicate_and_a_loose_value(runtime: Runtime) -> None:
    with inline_plugin(runtime.host, _plugin(DATA_DIR), name="inline-core-name"), pytest.raises(PluginError) as core:
        _ = runtime.host.settings
    assert "EMPORIO_DATA_DIR is a core setting" in str(core.value)
    with (
        inline_plugin(runtime.host, AgoraSettings(), name="inline-agora-a"),
        inline_plugin(runtime.host, _plugin(TOKEN), name="inline-agora-b"),
        pytest.raises(PluginError) as twice,
    ):
        _ = runtime.host.settings
    assert "'inline-agora-a'" in str(twice.value) and "'inline-agora-b'" in str(twice.value)
    with (
        inline_plugin(runtime.host, _plugin({"name": "EMPORIO_X"}), name="inline-loose-setting"),
        pytest.raises(PluginError, match="expected SettingSpec, got dict"),
    ):
        _ = runtime.host.settings
