"""Engine choice from settings, write transactions, and the migration runner.

SQLite (the embedded default) runs in WAL mode with IMMEDIATE write transactions, so two writers
never deadlock halfway; PostgreSQL uses row locks (`SELECT … FOR UPDATE`) where stock is taken.
Both enforce foreign keys (SQLite only on connections that ask for it: every one of ours does,
except a migration's, which may rebuild tables and checks the keys itself before committing).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from string import Formatter
from typing import Any

import structlog
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from core.db import migrations
from core.db.constraints import SchemaError
from core.db.migrations import Migration, MigrationSet
from core.db.schema import PluginMigration, SchemaMigration
from core.settings import Settings

log = structlog.get_logger("emporio.db")

# Off only while a migration runs: SQLite rebuilds a table to change its constraints, and a DROP
# TABLE with enforcement on would check (or fail on) every row referring to the dropped table.
_ENFORCE_FOREIGN_KEYS: contextvars.ContextVar[bool] = contextvars.ContextVar("enforce_foreign_keys", default=True)


_COMPILED: dict[tuple[str, int], str | None] = {}
# Values asyncpg binds as they are; anything else (a column, a nested query) is Piccolo's to expand.
_PLAIN = frozenset({str, int, float, bool, type(None), bytes, datetime, date, Decimal, list, tuple})


async def raw_fetch(engine: Engine[Any], sql: str, *args: Any) -> list[dict[str, Any]]:
    """Raw SQL with `{}` placeholders on `engine` (a table's `_meta.db`), in the transaction of
    the unit of work when there is one.

    On PostgreSQL, plain values go straight to asyncpg on the transaction's (or the pool's)
    connection, the statement compiled once per SQL text: the hottest paths (order intake,
    webhooks) spent a sixth of their CPU in Piccolo's per-call templating. Elsewhere, and for
    arguments Piccolo must expand, Piccolo compiles the query for the dialect."""
    pool = getattr(engine, "pool", None)
    if pool is not None and all(type(arg) in _PLAIN for arg in args):
        compiled = _postgres_sql(sql, len(args))
        if compiled is not None:
            transaction = engine.current_transaction.get()
            if transaction is not None:
                rows = await transaction.connection.fetch(compiled, *args)
            else:
                async with pool.acquire() as connection:
                    rows = await connection.fetch(compiled, *args)
            return [dict(row) for row in rows]
    return await SchemaMigration.raw(sql, *args).run()  # type: ignore[no-any-return]  # every table is on `engine`


def _postgres_sql(sql: str, count: int) -> str | None:
    """`sql` with its `{}` placeholders as `$1`, `$2`… (and `{{ }}` as braces), as Piccolo
    compiles it; None when the placeholders do not match the arguments (Piccolo then decides)."""
    key = (sql, count)
    if key not in _COMPILED:
        parts: list[str] = []
        fields = 0
        for literal, field, _, _ in Formatter().parse(sql):
            parts.append(literal)
            if field is not None:
                fields += 1
                parts.append(f"${fields}")
        compiled = "".join(parts) if fields == count else None
        if len(_COMPILED) > 4096:  # statements are the code's own texts; a runaway stays bounded
            _COMPILED.clear()
        _COMPILED[key] = compiled
    return _COMPILED[key]


class EmbeddedSQLiteEngine(SQLiteEngine):
    """SQLite tuned for concurrent use: a long busy timeout and relaxed fsync under WAL; foreign
    keys enforced (SQLite's default is off, per connection)."""

    async def get_connection(self) -> Any:
        connection = await super().get_connection()
        await connection.execute("PRAGMA busy_timeout = 60000")
        await connection.execute("PRAGMA synchronous = NORMAL")
        # Set before the transaction begins: inside one, SQLite ignores this pragma.
        await connection.execute(f"PRAGMA foreign_keys = {'ON' if _ENFORCE_FOREIGN_KEYS.get() else 'OFF'}")
        return connection

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        """A statement inside a transaction. Piccolo's own sends `PRAGMA foreign_keys = 1` before
        every one — a second trip to the connection's thread, for a pragma SQLite ignores inside a
        transaction (ours set it when the connection was opened) — and sets the row factory each
        time; this runs the statement alone (from SQLite 3.35 on, RETURNING gives inserted keys).
        Fewer trips shorten every write transaction, and so the time the write lock is held."""
        if query_type == "insert" and self.get_version_sync() < 3.35:  # no RETURNING: Piccolo's way
            return await super()._run_in_existing_connection(connection, query, args, query_type, table)
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()


class Database:
    """The engine every table is bound to, plus the one way to open a write transaction."""

    def __init__(
        self,
        settings: Settings,
        tables: Iterable[type[Table]] = (),
        migration_sets: Sequence[tuple[str, MigrationSet]] = (),
    ) -> None:
        """`tables` are the Piccolo tables the domains and plugins registered (`register_tables`);
        they are bound to this database's engine. `migration_sets` are the plugins' own
        migrations (`register_migrations`) as (plugin name, set), run after the core's."""
        self.settings = settings
        self.migration_sets = tuple(migration_sets)
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
        self.tables: tuple[type[Table], ...] = (SchemaMigration, PluginMigration, *tables)
        for table in self.tables:
            table._meta.db = self.engine

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgres"

    async def start(self, pool_size: int = 20) -> None:
        if isinstance(self.engine, PostgresEngine):
            await self.engine.start_connection_pool(min_size=2, max_size=pool_size, reset=_session_left_clean)

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
            async with (
                self._write_lock,
                _committed(self.engine.transaction(transaction_type=TransactionType.immediate)),
            ):
                yield
        else:
            async with _committed(self.engine.transaction()):
                yield

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Raw SQL with `{}` placeholders (see `raw_fetch`)."""
        return await raw_fetch(self.engine, sql, *args)

    def for_update(self, of: str | None = None) -> str:
        """Row locks where the database has them (SQLite's IMMEDIATE transaction already
        serialises writers)."""
        if not self.is_postgres:
            return ""
        return f" FOR UPDATE OF {of}" if of else " FOR UPDATE"

    # -- migrations ------------------------------------------------------------------------------

    async def migrate(self, *, up_to: int | None = None) -> list[str]:
        """Apply every migration not yet applied — the core's, then each plugin set's — and
        return the names applied now. `up_to` stops the core's at that version (and skips the
        plugins'): tests use it to build a database as an older release left it."""
        if isinstance(self.engine, SQLiteEngine):
            await self.engine.run_ddl("PRAGMA journal_mode = WAL")
        await self.engine.run_ddl(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
        )
        applied_now: list[str] = []
        for migration in migrations.available():
            if up_to is not None and migration.version > up_to:
                return applied_now
            if await self._apply(migration, None):
                applied_now.append(migration.label)
        for plugin, migration_set in self.migration_sets:
            for migration in migration_set.migrations():
                if await self._apply(migration, (plugin, migration_set.name)):
                    applied_now.append(f"{migration_set.name}:{migration.label}")
        return applied_now

    async def _apply(self, migration: Migration, owner: tuple[str, str] | None) -> bool:
        """Run one migration in its own transaction unless its ledger says it ran; True if it ran.
        `owner` is (plugin, migration set) for a plugin's migration, None for the core's."""
        ledger_id = f"{owner[1]}|{migration.version}" if owner else ""
        token = _ENFORCE_FOREIGN_KEYS.set(False)
        try:
            async with self.write():
                if self.is_postgres:
                    # One migrator at a time when several processes start together.
                    await self.fetch("SELECT pg_advisory_xact_lock(4242)")
                if owner is None:
                    done = await SchemaMigration.exists().where(SchemaMigration.version == migration.version)
                else:
                    done = await PluginMigration.exists().where(PluginMigration.id == ledger_id)
                if done:
                    return False
                for statement in migration.statements(self.dialect):
                    await self.engine.run_ddl(statement)
                if hasattr(migration.module, "apply"):
                    await migration.module.apply(self)
                if not self.is_postgres:
                    await self._check_foreign_keys(migration, owner)
                now = utcnow()
                if owner is None:
                    await SchemaMigration.insert(
                        SchemaMigration(version=migration.version, name=migration.name, applied_at=now)
                    )
                else:
                    await PluginMigration.insert(
                        PluginMigration(
                            id=ledger_id,
                            migration_set=owner[1],
                            version=migration.version,
                            name=migration.name,
                            plugin=owner[0],
                            applied_at=now,
                        )
                    )
        finally:
            _ENFORCE_FOREIGN_KEYS.reset(token)
        log.info(
            "db.migrated", version=migration.version, name=migration.name, migration_set=owner[1] if owner else None
        )
        return True

    async def _check_foreign_keys(self, migration: Migration, owner: tuple[str, str] | None) -> None:
        """SQLite ran the migration unchecked: refuse to commit one that left a reference dangling."""
        broken = await self.fetch("PRAGMA foreign_key_check")
        if broken:
            where = sorted({f"{r['table']} → {r['parent']}" for r in broken})
            label = f"{owner[1]}:{migration.label}" if owner else migration.label
            raise SchemaError(
                f"migration {label} leaves {len(broken)} row(s) referring to rows that do not exist "
                f"({', '.join(where)}); it was rolled back"
            )

    async def ping(self) -> bool:
        try:
            await self.fetch("SELECT 1 AS ok")
        except Exception:
            return False
        return True


@contextlib.asynccontextmanager
async def _committed(transaction: Any) -> AsyncIterator[None]:
    """Piccolo's transaction, with a failed COMMIT cleaned up. Foreign keys are checked at COMMIT
    (they are deferred), and Piccolo, when its COMMIT raises, neither closes nor releases the
    connection and leaves the transaction marked current; on SQLite the failed COMMIT even keeps
    the transaction, and so the database's write lock, open."""
    await transaction.__aenter__()
    try:
        yield
    except BaseException as exc:
        await transaction.__aexit__(type(exc), exc, exc.__traceback__)  # Piccolo's rollback path
        raise
    try:
        await transaction.commit()
    except BaseException:
        # SQLite: roll the still-open transaction back. PostgreSQL already ended it (asyncpg then
        # refuses a rollback, which is fine).
        with contextlib.suppress(Exception):
            await transaction.rollback()
        engine = transaction.engine
        if isinstance(engine, PostgresEngine) and engine.pool:
            await engine.pool.release(transaction.connection)
        else:
            await transaction.connection.close()
        engine.current_transaction.reset(transaction.context)
        raise
    await transaction.__aexit__(None, None, None)  # committed: Piccolo closes or releases the connection


async def _session_left_clean(connection: Any) -> None:
    """The pool's reset on release, instead of asyncpg's default (advisory unlock, CLOSE ALL,
    UNLISTEN, RESET ALL): one round trip more for every statement run outside a transaction.
    The engine leaves no session state behind — its advisory locks and SET LOCALs are
    transaction-scoped, it neither LISTENs nor keeps cursors — and asyncpg still rolls back a
    transaction left open before calling this."""


def utcnow() -> datetime:
    return datetime.now(UTC)
