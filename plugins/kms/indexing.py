"""The search index (`plugins.kms.search`) on the engine's own database and connections.

Writes go through the connection of the unit of work that changes the article, so the article and
its index entries commit or roll back together: on SQLite the search joins Piccolo's open
transaction with a savepoint, on PostgreSQL asyncpg nests one. Reads outside a unit of work take a
connection of their own (SQLite) or the engine's pool (PostgreSQL).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from plugins.kms.search import IndexDoc, IndexedSearch
from plugins.kms.search_postgres import PostgresSearchIndex
from plugins.kms.search_sqlite import SqliteSearchIndex
from plugins.kms.tables import KbArticle, SearchStats

# The corpus totals live in one row the migration inserts; a database emptied table by table (a
# test reset, a repair) loses it, and every later count would be added to nothing.
_STATS_ROW = (
    "INSERT INTO kms_search_stats (id, docs, title_tokens, body_tokens) VALUES (1, 0, 0, 0) ON CONFLICT (id) DO NOTHING"
)


def engine() -> Any:
    """The engine the plugin's tables are bound to (the runtime binds them at start)."""
    return KbArticle._meta.db


def is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


def for_update() -> str:
    """A row lock on PostgreSQL; SQLite's IMMEDIATE write transaction already serialises writers."""
    return " FOR UPDATE" if is_postgres() else ""


def _transaction_connection() -> Any | None:
    transaction = engine().current_transaction.get()
    return None if transaction is None else transaction.connection


@contextlib.contextmanager
def _tuple_rows(connection: Any) -> Any:
    """Piccolo's SQLite connections return rows as dicts; the search library reads tuples."""
    saved = connection.row_factory
    connection.row_factory = None
    try:
        yield connection
    finally:
        connection.row_factory = saved


@contextlib.asynccontextmanager
async def search_index() -> AsyncIterator[IndexedSearch]:
    """The search index on the current unit of work's connection, or on a connection for reading."""
    db, current = engine(), _transaction_connection()
    if isinstance(db, SQLiteEngine):
        if current is not None:
            with _tuple_rows(current):
                yield SqliteSearchIndex(current)
            return
        connection = await db.get_connection()
        try:
            with _tuple_rows(connection):
                yield SqliteSearchIndex(connection)
        finally:
            await connection.close()
        return
    if current is not None:
        yield PostgresSearchIndex(current)
    elif db.pool is not None:
        yield PostgresSearchIndex(db.pool)
    else:  # a process that never started the pool (a one-off command)
        connection = await db.get_new_connection()
        try:
            yield PostgresSearchIndex(connection)
        finally:
            await connection.close()


async def replace(article_id: str, docs: Sequence[IndexDoc]) -> None:
    """Make `docs` the article's only indexed translations (none: the article leaves the search).
    Call inside the unit of work that changed the article."""
    if _transaction_connection() is None:
        raise RuntimeError("index writes must run inside runtime.unit_of_work(), with the article's change")
    await SearchStats.raw(_STATS_ROW)
    async with search_index() as index:
        await index.remove(article_id)
        if docs:
            await index.index_many(docs)
