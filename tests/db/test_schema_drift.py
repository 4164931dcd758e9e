"""The schema the migrations build and the Piccolo tables the domains and plugins register
(`register_tables`) never drift: same tables, same columns, compatible types, same nullability —
checked on whichever database the session runs (SQLite, or PostgreSQL with EMPORIO_DATABASE_URL)."""

from __future__ import annotations

from pathlib import Path

import httpx
from piccolo.columns import BigInt, Integer, Text
from piccolo.table import Table

from core.db import introspect, schema
from core.db.migrations import m0007_foreign_keys
from core.runtime import Runtime
from tests.db.support import fresh_database


def registered_tables(runtime: Runtime) -> list[type[Table]]:
    return [*schema.TABLES, *(r.value for r in runtime.host.tables.values())]


async def test_the_migrated_schema_matches_the_registered_tables(runtime: Runtime, tmp_path: Path) -> None:
    async with fresh_database(runtime, tmp_path, runtime.db.migration_sets) as database:
        applied = await database.migrate()
        assert applied[:8] == [
            "0001_foundation",
            "0002_payments",
            "0003_fulfilment",
            "0004_returns",
            "0005_kpi_rollups",
            "0006_ops_sessions",
            "0007_foreign_keys",
            "0008_plugin_migrations",
        ]
        live = await introspect.columns(database)
        keys = await introspect.foreign_keys(database)
    tables = registered_tables(runtime)
    assert len(tables) >= 38  # the domains' tables and both ledgers: a broken registry would find few
    drift = introspect.schema_drift(live, tables)
    assert drift == [], "\n".join(drift)
    declared = {(r.table, r.column, r.parent, r.key) for r in m0007_foreign_keys.REFERENCES}
    core_keys = {
        (k.table, k.column, k.parent, k.key): k for k in keys if (k.table, k.column, k.parent, k.key) in declared
    }
    assert set(core_keys) == declared  # every key of migration 7 exists …
    assert all(k.deferred for k in core_keys.values())  # … and is checked at commit, on either database


class _Drifted(Table, tablename="orders"):
    id = Text(primary_key=True)
    customer_id = Text(null=True)  # NOT NULL in the database
    grand_total = Integer()  # BIGINT in the database
    coupon = Text()  # no such column


class _Unmigrated(Table, tablename="gift_cards"):
    id = Text(primary_key=True)
    balance = BigInt()


async def test_the_check_names_every_kind_of_drift(app_client: httpx.AsyncClient, runtime: Runtime) -> None:
    """The comparison itself fails on drift (else the test above would pass vacuously). The app's
    start migrated the session's database."""
    live = await introspect.columns(runtime.db)
    baseline = set(introspect.schema_drift(live, registered_tables(runtime)))  # empty unless the test above fails
    others = [t for t in registered_tables(runtime) if t._meta.tablename != "orders"]
    problems = set(introspect.schema_drift(live, [*others, _Drifted, _Unmigrated])) - baseline
    assert "orders.customer_id is NOT NULL in the database, nullable in Piccolo" in problems
    assert "orders.grand_total is bigint in the database, integer in Piccolo" in problems
    assert "orders.coupon is in the Piccolo table only" in problems
    assert "orders.status is in the database only" in problems
    assert "table gift_cards has a Piccolo table but no migration creates it" in problems
    unmirrored = set(introspect.schema_drift(live, others)) - baseline
    assert unmirrored == {"table orders is in the database but no Piccolo table mirrors it"}


def test_types_compare_in_families_whatever_the_dialect_calls_them() -> None:
    assert introspect.type_family("TIMESTAMPTZ") == introspect.type_family("timestamp with time zone")
    assert introspect.type_family("DOUBLE PRECISION") == introspect.type_family("double precision") == "double"
    assert introspect.type_family("BIGINT") != introspect.type_family("INTEGER")
    assert introspect.type_family("character varying(20)") == "text"
