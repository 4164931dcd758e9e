"""The ACS plugin's settings from the environment and its registration through the plugin host."""

from __future__ import annotations

import pytest

from core.plugins import PluginHost
from plugins.courier_acs import AcsCourier, AcsSettings


def test_settings_from_the_environment() -> None:
    assert AcsSettings.from_env({}) is None
    env = {
        "EMPORIO_ACS_API_KEY": "key",
        "EMPORIO_ACS_COMPANY_ID": "c",
        "EMPORIO_ACS_COMPANY_PASSWORD": "cp",
        "EMPORIO_ACS_USER_ID": "u",
        "EMPORIO_ACS_USER_PASSWORD": "up",
        "EMPORIO_ACS_BILLING_CODE": "2ΑΘ999999",
    }
    settings = AcsSettings.from_env(env)
    assert settings is not None
    assert settings.api_base == "https://webservices.acscourier.net/ACSRestServices/api"
    assert (settings.timeout_s, settings.print_type, settings.language, settings.max_calls_per_second) == (
        15.0,
        2,
        "GR",
        8,
    )
    tuned = AcsSettings.from_env(
        {**env, "EMPORIO_ACS_TIMEOUT_S": "2.5", "EMPORIO_ACS_PRINT_TYPE": "1", "EMPORIO_ACS_WITH_RETURN_VOUCHER": "1"}
    )
    assert tuned is not None and (tuned.timeout_s, tuned.print_type, tuned.with_return_voucher) == (2.5, 1, True)
    missing = {k: v for k, v in env.items() if k != "EMPORIO_ACS_BILLING_CODE"}
    with pytest.raises(ValueError, match="EMPORIO_ACS_BILLING_CODE"):
        AcsSettings.from_env(missing)
    for name, value in (
        ("EMPORIO_ACS_TIMEOUT_S", "soon"),
        ("EMPORIO_ACS_PRINT_TYPE", "3"),
        ("EMPORIO_ACS_MAX_CALLS_PER_SECOND", "-1"),
    ):
        with pytest.raises(ValueError, match=name):
            AcsSettings.from_env({**env, name: value})


def test_registered_only_with_an_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COMPANY_ID", "COMPANY_PASSWORD", "USER_ID", "USER_PASSWORD", "BILLING_CODE"):
        monkeypatch.setenv(f"EMPORIO_ACS_{name}", "demo")
    monkeypatch.delenv("EMPORIO_ACS_API_KEY", raising=False)
    assert "acs" not in PluginHost(builtins=("plugins.courier_acs.plugin",), entry_points=False).couriers
    monkeypatch.setenv("EMPORIO_ACS_API_KEY", "demo")
    registered = PluginHost(builtins=("plugins.courier_acs.plugin",), entry_points=False).couriers["acs"]
    assert isinstance(registered.value, AcsCourier)
    assert registered.plugin == "plugins.courier_acs.plugin"
