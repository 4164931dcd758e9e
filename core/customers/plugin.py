"""The customers domain as a plugin: what it contributes to the engine."""

from __future__ import annotations

from collections.abc import Callable

from piccolo.table import Table

from core.customers.tables import TABLES
from core.hookspecs import hookimpl


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)
