"""The embedded default's write transactions: a statement inside one is one trip to the
connection's thread (Piccolo adds a `PRAGMA foreign_keys` before each, which SQLite ignores inside
a transaction), and the foreign keys are still enforced at commit, on either database."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from piccolo.engine.sqlite import TransactionType
from piccolo.querystring import QueryString

from core.db.database import EmbeddedSQLiteEngine
from core.runtime import Runtime
from tests.conftest import Api


async def test_a_statement_in_a_transaction_is_the_statement_alone(tmp_path: Path) -> None:
    engine = EmbeddedSQLiteEngine(path=str(tmp_path / "one-trip.sqlite"))
    sent: list[str] = []
    async with engine.transaction(transaction_type=TransactionType.immediate) as transaction:
        connection = transaction.connection
        execute = connection.execute

        def spy(sql: str, *args: Any) -> Any:
            sent.append(sql)
            return execute(sql, *args)

        connection.execute = spy
        rows = await engine.run_querystring(QueryString("SELECT {} AS answer", 42))
        await engine.run_querystring(QueryString("CREATE TABLE t (id TEXT PRIMARY KEY)"))
        inserted = await engine.run_querystring(QueryString("INSERT INTO t (id) VALUES ({}) RETURNING id", "a"))
        connection.execute = execute
    assert rows == [{"answer": 42}] and inserted == [{"id": "a"}]
    assert sent == [
        "SELECT ? AS answer",
        "CREATE TABLE t (id TEXT PRIMARY KEY)",
        "INSERT INTO t (id) VALUES (?) RETURNING id",
    ]


async def test_foreign_keys_are_still_enforced_in_a_write(api: Api, runtime: Runtime) -> None:
    with pytest.raises((sqlite3.IntegrityError, asyncpg.ForeignKeyViolationError)):
        async with runtime.db.write():
            await runtime.db.fetch(
                "INSERT INTO order_lines (id, order_id, sku, qty, unit_price) VALUES ({}, {}, {}, {}, {})",
                "oln_1",
                "ord_none",
                "NO-SUCH-SKU",
                1,
                100,
            )
    assert await runtime.db.fetch("SELECT id FROM order_lines") == []
