"""register_migrations: a plugin ships its own numbered migrations; `Database.migrate` runs them
after the core's, once each, with the dialect's own statements, and records them per set."""

from __future__ import annotations

import types
from collections.abc import Callable
from pathlib import Path

import pytest

from core.db import introspect, migrations
from core.db.database import Database
from core.db.migrations import MigrationSet
from core.hookspecs import hookimpl
from core.plugins import PluginError
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin
from tests.db.support import fresh_database


def migration(name: str, **members: object) -> types.ModuleType:
    module = types.ModuleType(f"gift_wrap_migrations.{name}")
    module.__dict__.update(members)
    return module


async def _backfill(db: Database) -> None:
    await db.fetch("UPDATE gift_wraps SET colour = {} WHERE colour = ''", "gold")


GIFT_WRAPS = MigrationSet(
    "gift_wrap",
    [
        migration(
            "m0001_wraps",
            NAME="wraps",
            STATEMENTS=[
                "CREATE TABLE gift_wraps (id TEXT PRIMARY KEY, order_id TEXT NOT NULL REFERENCES orders (id) "
                "DEFERRABLE INITIALLY DEFERRED, colour TEXT NOT NULL DEFAULT '')"
            ],
            STATEMENTS_SQLITE=[
                "CREATE TABLE gift_wrap_dialect (name TEXT PRIMARY KEY)",
                "INSERT INTO gift_wrap_dialect VALUES ('sqlite')",
            ],
            STATEMENTS_POSTGRES=[
                "CREATE TABLE gift_wrap_dialect (name TEXT PRIMARY KEY)",
                "INSERT INTO gift_wrap_dialect VALUES ('postgres')",
            ],
        ),
        migration("m0002_backfill", NAME="backfill", apply=_backfill),
    ],
)


class GiftWrapPlugin:
    @hookimpl
    def register_migrations(self, register: Callable[[MigrationSet], None]) -> None:
        register(GIFT_WRAPS)


async def test_hook_register_migrations(runtime: Runtime, tmp_path: Path) -> None:
    assert "gift_wrap" not in runtime.host.migrations
    with inline_plugin(runtime.host, GiftWrapPlugin(), name="inline-gift-wrap"):
        registered = runtime.host.migrations["gift_wrap"]
        assert registered.value is GIFT_WRAPS and registered.plugin == "inline-gift-wrap"
        sets = [(r.plugin, r.value) for r in runtime.host.migrations.values()]
        async with fresh_database(runtime, tmp_path, sets) as database:
            await database.migrate(up_to=6)
            # The plugin's set waits for the core's: its table refers to orders.
            assert "gift_wraps" not in await introspect.columns(database)
            applied = await database.migrate()
            assert applied[-2:] == ["gift_wrap:0001_wraps", "gift_wrap:0002_backfill"]
            assert applied.index("0007_foreign_keys") < applied.index("gift_wrap:0001_wraps")
            dialect = await database.fetch("SELECT name FROM gift_wrap_dialect")
            assert dialect == [{"name": database.dialect}]
            keys = await introspect.foreign_keys(database)
            assert any(k.table == "gift_wraps" and k.parent == "orders" for k in keys)
            ledger = await database.fetch(
                "SELECT migration_set, version, name, plugin FROM plugin_migrations "
                "WHERE migration_set = {} ORDER BY version",
                "gift_wrap",
            )
            assert ledger == [
                {"migration_set": "gift_wrap", "version": 1, "name": "wraps", "plugin": "inline-gift-wrap"},
                {"migration_set": "gift_wrap", "version": 2, "name": "backfill", "plugin": "inline-gift-wrap"},
            ]
            assert await database.migrate() == []  # recorded: never run twice
    assert "gift_wrap" not in runtime.host.migrations


def _plugin(value: object) -> object:
    class Plugin:
        @hookimpl
        def register_migrations(self, register: Callable[[object], None]) -> None:
            register(value)

    return Plugin()


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"name": "loose"}, "expected MigrationSet, got dict"),
        (MigrationSet("Gift Wrap", []), "must be lower-case letters, digits and _"),
        (MigrationSet("wraps", [migration("create_wraps", NAME="x", STATEMENTS=[])]), "must be named mNNNN_<what>"),
        (MigrationSet("wraps", [migration("m0001_a", STATEMENTS=[])]), "has no NAME"),
        (MigrationSet("wraps", [migration("m0001_a", NAME="a")]), "has neither STATEMENTS"),
        (
            MigrationSet(
                "wraps", [migration("m0001_a", NAME="a", STATEMENTS=[]), migration("m0001_b", NAME="b", STATEMENTS=[])]
            ),
            "two migrations numbered 0001",
        ),
        (MigrationSet("wraps", "plugins.no_such_package"), "No module named 'plugins.no_such_package'"),
        (MigrationSet("wraps", "core.settings"), "is a module, not a package"),
    ],
)
async def test_hook_register_migrations_refuses_malformed_sets(runtime: Runtime, value: object, problem: str) -> None:
    with (
        inline_plugin(runtime.host, _plugin(value), name="inline-bad-migrations"),
        pytest.raises(PluginError) as refused,
    ):
        _ = runtime.host.migrations
    assert "'inline-bad-migrations' registered an invalid migrations" in str(refused.value)
    assert problem in str(refused.value)


async def test_hook_register_migrations_refuses_a_set_name_taken(runtime: Runtime) -> None:
    with (
        inline_plugin(runtime.host, GiftWrapPlugin(), name="inline-wraps-a"),
        inline_plugin(runtime.host, _plugin(MigrationSet("gift_wrap", [])), name="inline-wraps-b"),
        pytest.raises(PluginError) as refused,
    ):
        _ = runtime.host.migrations
    message = str(refused.value)
    assert "'inline-wraps-a'" in message and "'inline-wraps-b'" in message and "'gift_wrap'" in message


def test_core_migrations_are_read_in_version_order() -> None:
    found = migrations.available()
    assert [m.version for m in found] == sorted({m.version for m in found})
    assert {"0007_foreign_keys", "0008_plugin_migrations"} <= {m.label for m in found}
