"""Piccolo tables of the customers domain; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import Text
from piccolo.table import Table

from core.db.columns import timestamp


class Customer(Table, tablename="customers"):
    id = Text(primary_key=True)
    external_ref = Text(null=True, default=None)
    email = Text(null=True, default=None)
    name = Text(default="")
    phone = Text(null=True, default=None)
    phone_e164 = Text(null=True, default=None)  # migration 0010: the phone normalised, for caller lookup
    locale = Text(default="el")
    created_at = timestamp(null=False)


TABLES: tuple[type[Table], ...] = (Customer,)


__all__ = ["Customer"]
