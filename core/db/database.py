"""Engine choice from settings, write transactions, and the migration runner.

SQLite (the embedded default) runs in WAL mode with IMMEDIATE write transactions, so two writers
never deadlock halfway; PostgreSQL uses row locks (`SELECT … FOR UPDATE`) where stock is taken.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from core.db import migrations
from core.db.schema import SchemaMigration
from core.settings import Settings

log = structlog.get_logger("emporio.db")


class EmbeddedSQLiteEngine(SQLiteEngine):
    """SQLite tuned for concurrent use: a long busy timeout and relaxed fsync under WAL."""

    async def get_connection(self) -> Any:
        connection = await super().get_connection()
        await connection.execute("PRAGMA busy_timeout = 60000")
        await connection.execute("PRAGMA synchronous = NORMAL")
        return connection


class Database:
    """The engine every table is bound to, plus the one way to open a write transaction."""

    def __init__(self, settings: Settings, tables: Iterable[type[Table]] = ()) -> None:
        """`tables` are the Piccolo tables the domains and plugins registered (`register_tables`);
        they are bound to this database's engine."""
        self.settings = settings
        self.engine: Engine[Any]
        if settings.is_postgres:
            self.dialect = "postgres"
            # JIT compilation costs seconds on the KPI queries and gains nothing on OLTP ones.
            self.engine = PostgresEngine(config={"dsn": settings.database_url, "server_settings": {"jit": "off"}})
        else:
            self.dialect = "sqlite"
            path = settings.sqlite_path
            if settings.database_url and settings.database_url.startswith("sqlite:///"):
                path = Path(settings.database_url.removeprefix("sqlite:///"))
            else:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.engine = EmbeddedSQLiteEngine(path=str(path), timeout=60)
        # SQLite has one writer at a time anyway; queueing writers of this process here keeps
        # them from spinning in the busy handler. Other processes still wait on SQLite's lock.
        self._write_lock = asyncio.Lock()
        self.tables: tuple[type[Table], ...] = (SchemaMigration, *tables)
        for table in self.tables:
            table._meta.db = self.engine

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgres"

    async def start(self, pool_size: int = 20) -> None:
        if isinstance(self.engine, PostgresEngine):
            await self.engine.start_connection_pool(min_size=2, max_size=pool_size)

    async def stop(self) -> None:
        if isinstance(self.engine, PostgresEngine):
            await self.engine.close_connection_pool()

    def in_transaction(self) -> bool:
        return self.engine.current_transaction.get() is not None

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[None]:
        """A write transaction: IMMEDIATE on SQLite, a plain transaction on PostgreSQL.
        Nested calls join the outer transaction."""
        if self.in_transaction():
            yield
            return
        if isinstance(self.engine, SQLiteEngine):
            async with self._write_lock, self.engine.transaction(transaction_type=TransactionType.immediate):
                yield
        else:
            async with self.engine.transaction():
                yield

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Raw SQL with `{}` placeholders (Piccolo compiles them for the dialect)."""
        return await SchemaMigration.raw(sql, *args).run()  # type: ignore[no-any-return]

    def for_update(self, of: str | None = None) -> str:
        """Row locks where the database has them (SQLite's IMMEDIATE transaction already
        serialises writers)."""
        if not self.is_postgres:
            return ""
        return f" FOR UPDATE OF {of}" if of else " FOR UPDATE"

    # -- migrations ------------------------------------------------------------------------------

    async def migrate(self) -> list[str]:
        """Apply every migration not yet applied; returns the names applied now."""
        if isinstance(self.engine, SQLiteEngine):
            await self.engine.run_ddl("PRAGMA journal_mode = WAL")
        await self.engine.run_ddl(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        applied_now = []
        for version, module in migrations.available():
            async with self.write():
                if self.is_postgres:
                    # One migrator at a time when several processes start together.
                    await self.fetch("SELECT pg_advisory_xact_lock(4242)")
                done = await SchemaMigration.exists().where(SchemaMigration.version == version)
                if done:
                    continue
                for statement in getattr(module, "STATEMENTS", []):
                    await self.fetch(statement)
                if hasattr(module, "apply"):
                    await module.apply(self)
                await SchemaMigration.insert(SchemaMigration(version=version, name=module.NAME, applied_at=utcnow()))
            applied_now.append(f"{version:04d}_{module.NAME}")
            log.info("db.migrated", version=version, name=module.NAME)
        return applied_now

    async def ping(self) -> bool:
        try:
            await self.fetch("SELECT 1 AS ok")
        except Exception:
            return False
        return True


def utcnow() -> datetime:
    return datetime.now(UTC)
