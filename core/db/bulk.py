"""Bulk reads and writes inside the current write transaction, for the history import: COPY and
joins with `unnest($1)` on PostgreSQL, `executemany` and `IN (…)` on SQLite — no per-row Piccolo
objects, a few round trips per batch whatever its size. Keys are text.

Every function must run inside `Database.write()` (a unit of work): it uses that transaction's
own connection, so what it writes commits or rolls back with the rest of the batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

SQLITE_MAX_PARAMS = 500  # well under SQLite's limit on bound parameters per statement


def _transaction(table: type[Table]) -> tuple[bool, Any]:
    engine = table._meta.db
    transaction = engine.current_transaction.get()
    if transaction is None:
        raise RuntimeError("bulk reads and writes need a write transaction (Database.write / Runtime.unit_of_work)")
    return isinstance(engine, PostgresEngine), transaction.connection


async def insert(table: type[Table], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert rows (tuples in `columns` order; other columns take their defaults)."""
    if not rows:
        return
    postgres, connection = _transaction(table)
    name = table._meta.tablename
    if postgres:
        await connection.copy_records_to_table(name, records=rows, columns=list(columns))
    else:
        marks = ", ".join("?" for _ in columns)
        await connection.executemany(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", rows)


async def upsert(
    table: type[Table],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert rows; a row whose `conflict` columns match an existing one updates its `update` columns."""
    if not rows:
        return
    postgres, connection = _transaction(table)
    marks = ", ".join(f"${i}" if postgres else "?" for i in range(1, len(columns) + 1))
    sets = ", ".join(f"{c} = excluded.{c}" for c in update)
    await connection.executemany(
        f"INSERT INTO {table._meta.tablename} ({', '.join(columns)}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {sets}",
        rows,
    )


async def select_in(
    table: type[Table], columns: Sequence[str], key: str, values: Iterable[Any]
) -> list[tuple[Any, ...]]:
    """`SELECT columns FROM table WHERE key IN values`, as tuples in `columns` order."""
    wanted = sorted(set(values))
    if not wanted:
        return []
    postgres, connection = _transaction(table)
    name, selected = table._meta.tablename, ", ".join(columns)
    if postgres:
        # A join with the unnested keys, not `key = ANY($1)`: asyncpg's prepared statements soon
        # run generic plans, and a generic `= ANY` over a growing, never-analysed table can
        # compare every row with every key; the join probes the key's index once per key.
        selected = ", ".join(f"t.{c}" for c in columns)
        rows = await connection.fetch(
            f"SELECT {selected} FROM unnest($1::text[]) AS k(value) JOIN {name} AS t ON t.{key} = k.value", wanted
        )
        return [tuple(r) for r in rows]
    found: list[tuple[Any, ...]] = []
    for i in range(0, len(wanted), SQLITE_MAX_PARAMS):
        chunk = wanted[i : i + SQLITE_MAX_PARAMS]
        marks = ", ".join("?" for _ in chunk)
        async with connection.execute(f"SELECT {selected} FROM {name} WHERE {key} IN ({marks})", chunk) as cursor:
            found.extend(tuple(r.values()) for r in await cursor.fetchall())  # Piccolo's rows are dicts
    return found


async def select_pairs(
    table: type[Table], keys: tuple[str, str], pairs: Iterable[tuple[Any, Any]]
) -> set[tuple[Any, Any]]:
    """The (a, b) pairs among `pairs` present as `keys` in the table (for a two-column unique index)."""
    wanted = sorted(set(pairs))
    if not wanted:
        return set()
    postgres, connection = _transaction(table)
    name, (a, b) = table._meta.tablename, keys
    if postgres:
        rows = await connection.fetch(
            f"SELECT t.{a}, t.{b} FROM unnest($1::text[], $2::text[]) AS k(a, b) "
            f"JOIN {name} AS t ON t.{a} = k.a AND t.{b} = k.b",
            [p[0] for p in wanted],
            [p[1] for p in wanted],
        )
        return {(r[0], r[1]) for r in rows}
    found: set[tuple[Any, Any]] = set()
    for i in range(0, len(wanted), SQLITE_MAX_PARAMS // 2):
        chunk = wanted[i : i + SQLITE_MAX_PARAMS // 2]
        marks = ", ".join("(?, ?)" for _ in chunk)
        args = [v for pair in chunk for v in pair]
        async with connection.execute(
            f"SELECT {a}, {b} FROM {name} WHERE ({a}, {b}) IN (VALUES {marks})", args
        ) as cursor:
            found.update((r[a], r[b]) for r in await cursor.fetchall())
    return found


async def add_to(
    table: type[Table], column: str, keys: tuple[str, str], changes: Iterable[tuple[str, str, int]]
) -> None:
    """`column += amount` for each (first key, second key, amount) in `table`'s rows, in one
    statement on PostgreSQL (e.g. returned units onto order lines keyed by order id and SKU)."""
    a, b = keys
    totals: dict[tuple[str, str], int] = {}
    for first, second, amount in changes:  # one row per key: an UPDATE … FROM applies one match only
        totals[(first, second)] = totals.get((first, second), 0) + amount
    amounts = [(first, second, amount) for (first, second), amount in sorted(totals.items())]
    if not amounts:
        return
    postgres, connection = _transaction(table)
    name = table._meta.tablename
    if postgres:
        await connection.execute(
            f"UPDATE {name} AS t SET {column} = t.{column} + v.amount "
            "FROM unnest($1::text[], $2::text[], $3::int[]) AS v(a, b, amount) "
            f"WHERE t.{a} = v.a AND t.{b} = v.b",
            [row[0] for row in amounts],
            [row[1] for row in amounts],
            [row[2] for row in amounts],
        )
    else:
        await connection.executemany(
            f"UPDATE {name} SET {column} = {column} + ? WHERE {a} = ? AND {b} = ?",
            [(amount, first, second) for first, second, amount in amounts],
        )
