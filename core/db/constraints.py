"""Adding foreign keys to tables that already hold rows, for a migration (the core's or a plugin's).

Every key is DEFERRABLE INITIALLY DEFERRED on both databases: a transaction must leave every
reference whole when it commits, but may write rows in any order inside (a use case, or an
import batch writing orders before the customers' rows it refers to are flushed).

PostgreSQL adds each key NOT VALID (a short lock; new writes are checked at once) and then
VALIDATEs it. SQLite cannot add a constraint to a table, so the table is rebuilt (SQLite's
"12-step" procedure): a copy with the keys, the rows copied, the old table dropped, the copy
renamed, the indexes recreated. That needs foreign-key enforcement off on the migration's
connection, which `Database.migrate` arranges (and checks the keys with `PRAGMA
foreign_key_check` before committing).

Rows that already refer to nothing stop the migration before anything changes, naming each
table, column and example values: deciding what a dangling order line means is the shop's call.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from core.db.database import Database

ORPHAN_EXAMPLES = 5


class Reference(NamedTuple):
    """`table.column` refers to `parent.key` (the parent's primary key)."""

    table: str
    column: str
    parent: str
    key: str

    @property
    def constraint(self) -> str:
        return f"{self.table}_{self.column}_fkey"

    def clause(self) -> str:
        return f"FOREIGN KEY ({self.column}) REFERENCES {self.parent} ({self.key}) DEFERRABLE INITIALLY DEFERRED"


class SchemaError(ValueError):
    """The schema cannot be changed as the migration asks; the message says what to do."""


async def add_foreign_keys(db: Database, references: Sequence[Reference], *, migration: str) -> None:
    """Add the keys, or raise SchemaError (changing nothing) when existing rows refer to nothing."""
    await refuse_orphans(db, references, migration=migration)
    if db.is_postgres:
        for ref in references:
            await db.engine.run_ddl(f"ALTER TABLE {ref.table} ADD CONSTRAINT {ref.constraint} {ref.clause()} NOT VALID")
        for ref in references:
            await db.engine.run_ddl(f"ALTER TABLE {ref.table} VALIDATE CONSTRAINT {ref.constraint}")
        return
    enforced = await db.fetch("PRAGMA foreign_keys")
    if enforced and next(iter(enforced[0].values())):
        raise RuntimeError("SQLite tables are rebuilt with foreign keys off: run this inside Database.migrate()")
    by_table: dict[str, list[Reference]] = {}
    for ref in references:
        by_table.setdefault(ref.table, []).append(ref)
    for table, refs in by_table.items():
        await rebuild_sqlite_table(db, table, [ref.clause() for ref in refs])


async def refuse_orphans(db: Database, references: Sequence[Reference], *, migration: str) -> None:
    problems = []
    for ref in references:
        dangling = (
            f"FROM {ref.table} c WHERE c.{ref.column} IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {ref.parent} p WHERE p.{ref.key} = c.{ref.column})"
        )
        count = (await db.fetch(f"SELECT COUNT(*) AS n {dangling}"))[0]["n"]
        if count:
            sample = await db.fetch(
                f"SELECT DISTINCT c.{ref.column} AS value {dangling} ORDER BY value LIMIT {ORPHAN_EXAMPLES}"
            )
            examples = ", ".join(repr(r["value"]) for r in sample)
            problems.append(
                f"{ref.table}.{ref.column}: {count} row(s) refer to missing {ref.parent}.{ref.key} "
                f"(e.g. {examples}; list them with SELECT * FROM {ref.table} WHERE {ref.column} NOT IN "
                f"(SELECT {ref.key} FROM {ref.parent}))"
            )
    if problems:
        raise SchemaError(
            f"migration {migration} cannot add foreign keys while rows refer to rows that do not exist; "
            "nothing was changed. Fix or delete these rows, then start Emporio again: " + "; ".join(problems)
        )


async def rebuild_sqlite_table(db: Database, table: str, extra_clauses: Sequence[str]) -> None:
    """Recreate `table` with `extra_clauses` appended to its definition, keeping its rows,
    column order, checks and indexes."""
    rows = await db.fetch("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = {}", table)
    if not rows:
        raise SchemaError(f"no table {table} to rebuild")
    create: str = rows[0]["sql"]
    indexes = await db.fetch(
        "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = {} AND sql IS NOT NULL",
        table,
    )
    rebuilt = f"{table}__rebuild"
    head = re.sub(rf'^CREATE TABLE\s+"?{re.escape(table)}"?', f"CREATE TABLE {rebuilt}", create, count=1)
    if head == create:
        raise SchemaError(f"cannot read the definition of table {table}: {create[:80]}")
    end = head.rstrip().rfind(")")
    definition = head[:end].rstrip() + ",\n    " + ",\n    ".join(extra_clauses) + head[end:]
    for statement in (
        definition,
        f"INSERT INTO {rebuilt} SELECT * FROM {table}",
        f"DROP TABLE {table}",
        f"ALTER TABLE {rebuilt} RENAME TO {table}",
        *(r["sql"] for r in indexes),
    ):
        await db.engine.run_ddl(statement)


__all__ = ["Reference", "SchemaError", "add_foreign_keys", "rebuild_sqlite_table", "refuse_orphans"]
