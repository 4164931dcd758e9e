"""Piccolo tables of the kpis domain; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import Text
from piccolo.table import Table

from core.db.columns import timestamp


class KpiRollup(Table, tablename="kpi_rollups"):
    id = Text(primary_key=True)
    source = Text()
    day = Text()
    dims = Text()
    states = Text()


class KpiRollupDay(Table, tablename="kpi_rollup_days"):
    id = Text(primary_key=True)
    source = Text()
    day = Text()
    built_at = timestamp(null=False)


class KpiDirtyDay(Table, tablename="kpi_dirty_days"):
    id = Text(primary_key=True)
    source = Text()
    day = Text()
    marked_at = timestamp(null=False)


TABLES: tuple[type[Table], ...] = (
    KpiRollup,
    KpiRollupDay,
    KpiDirtyDay,
)


__all__ = ["KpiDirtyDay", "KpiRollup", "KpiRollupDay"]
