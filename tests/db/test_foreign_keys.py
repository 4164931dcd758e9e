"""Migration 7 on a database "as main had it" (migrations 1–6 and rows in every table): the rows
survive unchanged, the keys are enforced afterwards (at commit: a transaction may write in any
order), and rows that already refer to nothing stop the migration without changing anything."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg
import pytest

from core.db import introspect
from core.db.constraints import SchemaError
from core.db.database import Database
from core.runtime import Runtime
from tests.db.legacy_rows import AT, ROWS, insert, snapshot
from tests.db.support import fresh_database

VIOLATION = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
TABLES = sorted({table for table, _ in ROWS})


async def as_main_had_it(database: Database) -> None:
    assert await database.migrate(up_to=6) == [
        "0001_foundation",
        "0002_payments",
        "0003_fulfilment",
        "0004_returns",
        "0005_kpi_rollups",
        "0006_ops_sessions",
    ]
    assert await introspect.foreign_keys(database) == []
    async with database.write():
        for table, row in ROWS:
            await insert(database, table, row)


async def indexes(database: Database) -> set[str]:
    if database.is_postgres:
        rows = await database.fetch("SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()")
    else:
        rows = await database.fetch("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    return {r["name"] for r in rows}


async def test_migration_7_keeps_every_row_and_then_enforces_the_keys(runtime: Runtime, tmp_path: Path) -> None:
    async with fresh_database(runtime, tmp_path) as database:
        await as_main_had_it(database)
        before, indexed = await snapshot(database, TABLES), await indexes(database)
        assert await database.migrate(up_to=7) == ["0007_foreign_keys"]
        assert await snapshot(database, TABLES) == before
        await database.migrate()  # and whatever came after 7, for the checks below
        assert sum(len(rows) for rows in before.values()) == len(ROWS)
        assert indexed <= await indexes(database)  # SQLite's rebuilt tables got their indexes back
        keys = {(k.table, k.column): k.parent for k in await introspect.foreign_keys(database)}
        assert keys[("order_lines", "order_id")] == "orders" and keys[("orders", "replacement_of")] == "orders"
        assert ("events", "order_id") not in keys and ("shipments", "location") not in keys

        # A line for an order that does not exist is refused, and nothing of its transaction stays.
        with pytest.raises(VIOLATION):
            async with database.write():
                await insert(
                    database,
                    "order_lines",
                    {"id": "x|SKU-1", "order_id": "ord_missing", "sku": "SKU-1", "qty": 1, "unit_price": 1},
                )
        # A customer with orders cannot be deleted from under them.
        with pytest.raises(VIOLATION):
            async with database.write():
                await database.fetch("DELETE FROM customers WHERE id = {}", "cus_1")
        assert await snapshot(database, ["order_lines"]) == {"order_lines": before["order_lines"]}
        assert {r["id"] for r in await database.fetch("SELECT id FROM customers")} == {"cus_1", "cus_2"}
        # After a refused commit the database takes writes again (the failed transaction was let go
        # of, and on SQLite its write lock with it); a transaction may write a line before its order.
        async with database.write():
            await insert(
                database,
                "order_lines",
                {"id": "ord_3|SKU-1", "order_id": "ord_3", "sku": "SKU-1", "qty": 1, "unit_price": 1250},
            )
            await insert(
                database,
                "orders",
                {
                    "id": "ord_3",
                    "channel": "web",
                    "customer_id": "cus_2",
                    "status": "confirmed",
                    "currency": "EUR",
                    "merchandise_total": 1250,
                    "grand_total": 1250,
                    "placed_at": AT,
                    "updated_at": AT,
                },
            )
        assert [r["id"] for r in await database.fetch("SELECT id FROM orders ORDER BY id")] == [
            "ord_1",
            "ord_2",
            "ord_3",
        ]


async def test_dangling_rows_stop_migration_7_and_change_nothing(runtime: Runtime, tmp_path: Path) -> None:
    async with fresh_database(runtime, tmp_path) as database:
        await as_main_had_it(database)
        async with database.write():
            await insert(
                database,
                "order_lines",
                {"id": "ord_9|SKU-1", "order_id": "ord_9", "sku": "SKU-1", "qty": 1, "unit_price": 1},
            )
            await insert(
                database,
                "order_lines",
                {"id": "ord_9|SKU-2", "order_id": "ord_9", "sku": "SKU-2", "qty": 1, "unit_price": 1},
            )
            await database.fetch("UPDATE tasks SET shipment_id = {} WHERE id = {}", "shp_gone", "tsk_1")
        before = await snapshot(database, TABLES)
        with pytest.raises(SchemaError) as refused:
            await database.migrate()
        message = str(refused.value)
        assert "migration 0007_foreign_keys" in message and "nothing was changed" in message
        assert "order_lines.order_id: 2 row(s) refer to missing orders.id (e.g. 'ord_9'" in message
        assert "tasks.shipment_id: 1 row(s) refer to missing shipments.id (e.g. 'shp_gone'" in message
        assert await snapshot(database, TABLES) == before
        assert await introspect.foreign_keys(database) == []
        versions = await database.fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in versions] == [1, 2, 3, 4, 5, 6]
        # Once the shop fixes the rows, starting again migrates.
        async with database.write():
            await database.fetch("DELETE FROM order_lines WHERE order_id = {}", "ord_9")
            await database.fetch("UPDATE tasks SET shipment_id = NULL WHERE id = {}", "tsk_1")
        assert (await database.migrate())[0] == "0007_foreign_keys"
