"""Numbered schema migrations. Each module has `NAME` and `STATEMENTS` (portable SQL that runs
on SQLite and PostgreSQL alike) or an async `apply(engine)`. Applied ones are recorded in
`schema_migrations`; a migration is never edited once released — add a new one."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def available() -> list[tuple[int, ModuleType]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("m") and info.name[1:5].isdigit():
            found.append((int(info.name[1:5]), importlib.import_module(f"{__name__}.{info.name}")))
    return sorted(found, key=lambda pair: pair[0])
