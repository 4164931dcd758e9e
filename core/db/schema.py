"""The migration ledgers: the core's numbered migrations and the plugins' own."""

from __future__ import annotations

from piccolo.columns import Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class SchemaMigration(Table, tablename="schema_migrations"):
    version = Integer(primary_key=True)
    name = Text()
    applied_at = timestamp(null=False)


class PluginMigration(Table, tablename="plugin_migrations"):
    """Created by core migration 0008; one row per applied migration of a plugin's set."""

    id = Text(primary_key=True)  # f"{migration_set}|{version}"
    migration_set = Text()
    version = Integer()
    name = Text()
    plugin = Text()
    applied_at = timestamp(null=False)


TABLES: tuple[type[Table], ...] = (SchemaMigration, PluginMigration)


__all__ = ["PluginMigration", "SchemaMigration"]
