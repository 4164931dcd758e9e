"""The policies domain as a plugin: what it contributes to the engine."""

from __future__ import annotations

from collections.abc import Callable

from piccolo.table import Table

from core.hookspecs import hookimpl
from core.policies.tables import TABLES


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)
