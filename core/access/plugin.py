"""The access domain as a plugin: what it contributes to the engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from piccolo.table import Table

from core.access.settings import ACCESS_SETTINGS
from core.access.tables import TABLES
from core.hookspecs import hookimpl
from core.settings import SettingSpec


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    for spec in ACCESS_SETTINGS:
        register(spec)
