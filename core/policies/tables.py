"""Piccolo tables of the policies domain; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import JSONB, Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class Policy(Table, tablename="policies"):
    id = Text(primary_key=True)  # f"{kind}|{version}"
    kind = Text()
    version = Integer()
    document = JSONB()
    created_at = timestamp(null=False)
    created_by = Text()


TABLES: tuple[type[Table], ...] = (Policy,)


__all__ = ["Policy"]
