"""The migration ledger table."""

from __future__ import annotations

from piccolo.columns import Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class SchemaMigration(Table, tablename="schema_migrations"):
    version = Integer(primary_key=True)
    name = Text()
    applied_at = timestamp(null=False)


TABLES: tuple[type[Table], ...] = (SchemaMigration,)


__all__ = ["SchemaMigration"]
