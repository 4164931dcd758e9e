"""Numbered schema migrations: the core's (this package) and the plugins' own (`MigrationSet`s
contributed through the `register_migrations` hook).

A migration is a module named `mNNNN_<what>` with `NAME` and any of:
- `STATEMENTS`: portable SQL run on SQLite and PostgreSQL alike;
- `STATEMENTS_SQLITE` / `STATEMENTS_POSTGRES`: SQL for one dialect, run after `STATEMENTS`;
- `async def apply(db)`: anything else (it gets the `core.db.database.Database`).

Applied ones are recorded (the core's in `schema_migrations`, a plugin's in `plugin_migrations`
under its set's name); a migration is never edited once released — add a new one.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Sequence
from types import ModuleType

import msgspec

_NUMBERED = re.compile(r"^m(\d{4})_\w+$")
_SET_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
DIALECTS = ("sqlite", "postgres")


class Migration(msgspec.Struct, frozen=True):
    version: int
    name: str
    module: ModuleType

    @property
    def label(self) -> str:
        return f"{self.version:04d}_{self.name}"

    def statements(self, dialect: str) -> list[str]:
        """The SQL to run on `dialect`: the portable statements, then the dialect's own."""
        own = getattr(self.module, f"STATEMENTS_{dialect.upper()}", ())
        return [*getattr(self.module, "STATEMENTS", ()), *own]


class MigrationSet(msgspec.Struct, frozen=True):
    """A plugin's own migrations: `name` keys its ledger rows (keep it stable across releases),
    `source` is a package of `mNNNN_*` modules (the package or its dotted name), or the modules
    themselves (each named `mNNNN_*`)."""

    name: str
    source: str | ModuleType | Sequence[ModuleType]

    def migrations(self) -> list[Migration]:
        """The set's migrations in version order; a ValueError says what is malformed."""
        if not _SET_NAME.match(self.name):
            raise ValueError(f"migration set name {self.name!r} must be lower-case letters, digits and _")
        if isinstance(self.source, str | ModuleType):
            package = importlib.import_module(self.source) if isinstance(self.source, str) else self.source
            return numbered_in(package)
        return numbered(self.source)


def numbered(modules: Sequence[ModuleType]) -> list[Migration]:
    """Migrations from modules named `mNNNN_*`, checked and sorted by version."""
    found: dict[int, Migration] = {}
    for module in modules:
        short = module.__name__.rsplit(".", 1)[-1]
        match = _NUMBERED.match(short)
        if match is None:
            raise ValueError(f"migration module {module.__name__!r} must be named mNNNN_<what> (e.g. m0001_tables)")
        version = int(match.group(1))
        if version in found:
            raise ValueError(
                f"two migrations numbered {version:04d}: {found[version].module.__name__}, {module.__name__}"
            )
        name = getattr(module, "NAME", None)
        if not isinstance(name, str) or not name:
            raise ValueError(f"migration {module.__name__} has no NAME")
        has_sql = any(hasattr(module, f"STATEMENTS{s}") for s in ("", *(f"_{d.upper()}" for d in DIALECTS)))
        if not has_sql and not hasattr(module, "apply"):
            raise ValueError(f"migration {module.__name__} has neither STATEMENTS(_SQLITE/_POSTGRES) nor apply(db)")
        found[version] = Migration(version, name, module)
    return [found[v] for v in sorted(found)]


def numbered_in(package: ModuleType) -> list[Migration]:
    """The `mNNNN_*` modules of a package, imported, checked and sorted."""
    path = getattr(package, "__path__", None)
    if path is None:
        raise ValueError(f"{package.__name__} is a module, not a package of mNNNN_* migration modules")
    names = [info.name for info in pkgutil.iter_modules(path) if _NUMBERED.match(info.name)]
    return numbered([importlib.import_module(f"{package.__name__}.{name}") for name in names])


def available() -> list[Migration]:
    """The core's own migrations."""
    return numbered_in(importlib.import_module(__name__))


__all__ = ["Migration", "MigrationSet", "available", "numbered", "numbered_in"]
