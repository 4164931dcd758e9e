"""What the live database holds — tables, columns, foreign keys — read the same way on SQLite and
PostgreSQL, so tests can compare the migrated schema with the Piccolo tables and tools can order
work by the references between tables."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import msgspec
from piccolo.table import Table

if TYPE_CHECKING:
    from core.db.database import Database

# The SQL type families both dialects (and Piccolo's column classes) are compared in.
_FAMILIES = {
    "TEXT": "text",
    "VARCHAR": "text",
    "CHARACTER VARYING": "text",
    "INTEGER": "integer",
    "INT": "integer",
    "BIGINT": "bigint",
    "SMALLINT": "smallint",
    "BOOLEAN": "boolean",
    "DOUBLE PRECISION": "double",
    "REAL": "real",
    "NUMERIC": "numeric",
    "TIMESTAMPTZ": "timestamptz",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITHOUT TIME ZONE": "timestamp",
    "DATE": "date",
    "JSONB": "jsonb",
    "JSON": "json",
}


def type_family(declared: str) -> str:
    """`TIMESTAMPTZ`, `timestamp with time zone` → `timestamptz`; unknown types keep their name."""
    text = declared.strip().upper()
    bare = text.split("(", 1)[0].strip()
    return _FAMILIES.get(bare, bare.lower())


class Column(msgspec.Struct, frozen=True):
    name: str
    family: str
    nullable: bool


class ForeignKey(msgspec.Struct, frozen=True):
    table: str
    column: str
    parent: str
    key: str
    deferred: bool  # checked at commit (DEFERRABLE INITIALLY DEFERRED)


async def columns(db: Database) -> dict[str, dict[str, Column]]:
    """Every ordinary table and its columns (SQLite's own tables and full-text virtual tables with
    their shadow tables left out: no Piccolo table mirrors those)."""
    found: dict[str, dict[str, Column]] = {}
    if db.is_postgres:
        rows = await db.fetch(
            "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable FROM information_schema.columns c "
            "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
            "ORDER BY c.table_name, c.ordinal_position"
        )
        for r in rows:
            column = Column(r["column_name"], type_family(r["data_type"]), r["is_nullable"] == "YES")
            found.setdefault(r["table_name"], {})[column.name] = column
        return found
    for table in await _sqlite_tables(db):
        for r in await db.fetch(f'PRAGMA table_info("{table}")'):
            # SQLite lets a non-INTEGER primary key hold NULL; the engine never writes one.
            nullable = not r["notnull"] and not r["pk"]
            found.setdefault(table, {})[r["name"]] = Column(r["name"], type_family(r["type"]), nullable)
    return found


async def foreign_keys(db: Database) -> list[ForeignKey]:
    """Every single-column foreign key, in (table, column) order."""
    keys: list[ForeignKey] = []
    if db.is_postgres:
        rows = await db.fetch(
            "SELECT child.relname AS tbl, a.attname AS col, parent.relname AS parent, pa.attname AS key, "
            "con.condeferred AS deferred FROM pg_constraint con "
            "JOIN pg_class child ON child.oid = con.conrelid JOIN pg_class parent ON parent.oid = con.confrelid "
            "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1] "
            "JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = con.confkey[1] "
            "WHERE con.contype = 'f' AND child.relnamespace = current_schema()::regnamespace"
        )
        keys = [ForeignKey(r["tbl"], r["col"], r["parent"], r["key"], bool(r["deferred"])) for r in rows]
    else:
        for table in await _sqlite_tables(db):
            sql = (await db.fetch("SELECT sql FROM sqlite_master WHERE name = {}", table))[0]["sql"]
            for r in await db.fetch(f'PRAGMA foreign_key_list("{table}")'):
                # The pragma does not say whether a key is deferred; its clause in the table's SQL does.
                clause = rf'REFERENCES\s+"?{re.escape(r["table"])}"?\s*\(\s*"?{re.escape(r["to"])}"?\s*\)([^,]*)'
                deferred = any("INITIALLY DEFERRED" in m.upper() for m in re.findall(clause, sql, re.IGNORECASE))
                keys.append(ForeignKey(table, r["from"], r["table"], r["to"], deferred))
    return sorted(keys, key=lambda k: (k.table, k.column))


async def _sqlite_tables(db: Database) -> list[str]:
    rows = await db.fetch("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name")
    virtual = [r["name"] for r in rows if (r["sql"] or "").upper().startswith("CREATE VIRTUAL TABLE")]
    return [
        r["name"]
        for r in rows
        if not r["name"].startswith("sqlite_")
        and r["name"] not in virtual
        and not any(r["name"].startswith(f"{v}_") for v in virtual)
    ]


# Piccolo's `column_type` depends on the engine a table is bound to (BigInt says INTEGER on
# SQLite); the column class says what the table means on either database.
_PICCOLO_FAMILIES = {
    "Text": "text",
    "Varchar": "text",
    "Integer": "integer",
    "BigInt": "bigint",
    "SmallInt": "smallint",
    "Boolean": "boolean",
    "DoublePrecision": "double",
    "Real": "real",
    "Numeric": "numeric",
    "Timestamptz": "timestamptz",
    "Timestamp": "timestamp",
    "Date": "date",
    "JSONB": "jsonb",
    "JSON": "json",
}


def piccolo_columns(table: type[Table]) -> dict[str, Column]:
    """The columns a Piccolo table expects, in the same terms as `columns`."""
    return {
        c._meta.db_column_name: Column(
            c._meta.db_column_name,
            _PICCOLO_FAMILIES.get(type(c).__name__) or type_family(c.column_type),
            bool(c._meta.null) and not c._meta.primary_key,
        )
        for c in table._meta.columns
    }


def schema_drift(live: dict[str, dict[str, Column]], tables: Iterable[type[Table]]) -> list[str]:
    """Where the migrated schema (`live`, from `columns`) and the Piccolo tables disagree: a table
    or column on one side only, another type family, another nullability. Empty when in step."""
    expected = {t._meta.tablename: piccolo_columns(t) for t in tables}
    problems = [
        f"table {name} is in the database but no Piccolo table mirrors it" for name in live.keys() - expected.keys()
    ]
    problems += [
        f"table {name} has a Piccolo table but no migration creates it" for name in expected.keys() - live.keys()
    ]
    for name in sorted(expected.keys() & live.keys()):
        want, have = expected[name], live[name]
        problems += [f"{name}.{c} is in the database only" for c in have.keys() - want.keys()]
        problems += [f"{name}.{c} is in the Piccolo table only" for c in want.keys() - have.keys()]
        for c in sorted(want.keys() & have.keys()):
            if want[c].family != have[c].family:
                problems.append(f"{name}.{c} is {have[c].family} in the database, {want[c].family} in Piccolo")
            if want[c].nullable != have[c].nullable:
                null = {True: "nullable", False: "NOT NULL"}
                problems.append(
                    f"{name}.{c} is {null[have[c].nullable]} in the database, {null[want[c].nullable]} in Piccolo"
                )
    return sorted(problems)


def children_first(tables: Iterable[str], keys: Iterable[ForeignKey]) -> list[str]:
    """`tables` ordered so every table comes before the tables it refers to (a self-reference
    does not count), e.g. to empty them without one lookup per deleted row."""
    remaining = list(dict.fromkeys(tables))
    parents: dict[str, set[str]] = {t: set() for t in remaining}
    for k in keys:
        if k.table in parents and k.parent in parents and k.parent != k.table:
            parents[k.table].add(k.parent)
    ordered: list[str] = []
    while remaining:
        # A table nobody left refers to can go first.
        ready = [t for t in remaining if not any(t in parents[o] for o in remaining if o != t)] or remaining[:1]
        ordered.append(ready[0])
        remaining.remove(ready[0])
    return ordered


__all__ = [
    "Column",
    "ForeignKey",
    "children_first",
    "columns",
    "foreign_keys",
    "piccolo_columns",
    "schema_drift",
    "type_family",
]
