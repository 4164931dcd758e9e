"""register_tables: plugins contribute the Piccolo tables they query; the engine binds them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from piccolo.columns import Text
from piccolo.table import Table

from core.db.database import Database
from core.hookspecs import hookimpl
from core.plugins import PluginError
from core.runtime import Runtime
from core.testing.fixtures import inline_plugin


class GiftWrap(Table, tablename="inline_gift_wraps"):
    id = Text(primary_key=True)
    colour = Text()


class GiftWrapPlugin:
    @hookimpl
    def register_tables(self, register: Callable[[type[Table]], None]) -> None:
        register(GiftWrap)


class ClashingOrdersPlugin:
    class Orders(Table, tablename="orders"):
        id = Text(primary_key=True)

    @hookimpl
    def register_tables(self, register: Callable[[type[Table]], None]) -> None:
        register(self.Orders)


class NotATablePlugin:
    @hookimpl
    def register_tables(self, register: Callable[[object], None]) -> None:
        register({"tablename": "loose"})


async def test_hook_register_tables(runtime: Runtime) -> None:
    assert runtime.host.tables["orders"].plugin == "core.orders.plugin"
    assert "inline_gift_wraps" not in runtime.host.tables
    with inline_plugin(runtime.host, GiftWrapPlugin(), name="inline-tables"):
        registered = runtime.host.tables["inline_gift_wraps"]
        assert registered.value is GiftWrap
        assert registered.plugin == "inline-tables"
        database = Database(runtime.settings, [registered.value])
        try:
            assert GiftWrap in database.tables
            assert GiftWrap._meta.db is database.engine
        finally:  # give the session's tables back to the session's engine
            for table in database.tables:
                table._meta.db = runtime.db.engine
    assert "inline_gift_wraps" not in runtime.host.tables


async def test_hook_register_tables_refuses_a_duplicate_name_and_a_non_table(runtime: Runtime) -> None:
    with inline_plugin(runtime.host, ClashingOrdersPlugin(), name="inline-dup-tables"):
        with pytest.raises(PluginError) as refused:
            _ = runtime.host.tables
        message = str(refused.value)
        assert "'inline-dup-tables'" in message and "'core.orders.plugin'" in message and "'orders'" in message
    with (
        inline_plugin(runtime.host, NotATablePlugin(), name="inline-loose-table"),
        pytest.raises(PluginError, match="expected a piccolo Table subclass"),
    ):
        _ = runtime.host.tables
