"""Registers the ACS courier when an ACS API key is configured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.hookspecs import hookimpl
from core.hookspecs.couriers import Courier
from core.settings import SettingSpec
from plugins.courier_acs.client import AcsSettings
from plugins.courier_acs.courier import AcsCourier
from plugins.courier_acs.settings import SETTINGS


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    for spec in SETTINGS:
        register(spec)


@hookimpl
def register_couriers(register: Callable[[Courier], None]) -> None:
    settings = AcsSettings.from_env()  # a missing account detail fails start-up, naming the variable
    if settings is None:
        return
    register(AcsCourier(settings))
