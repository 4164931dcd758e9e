"""The Meta channel as a plugin: its settings, tables and migrations, the webhook routes, the
`social` contact channel, and forgetting page-scoped ids when a customer is erased."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from piccolo.table import Table

from core.db.migrations import MigrationSet
from core.domain.events import CustomerErased, DomainEvent
from core.hookspecs import hookimpl
from core.hookspecs.app import EventContext
from core.hookspecs.contact import ContactChannel
from core.settings import SettingSpec
from plugins.social_meta import inbound
from plugins.social_meta.channel import MetaChannel
from plugins.social_meta.routes import HANDLERS
from plugins.social_meta.settings import SETTINGS
from plugins.social_meta.tables import TABLES


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    for spec in SETTINGS:
        register(spec)


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in HANDLERS:
        register(handler)


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)


@hookimpl
def register_migrations(register: Callable[[MigrationSet], None]) -> None:
    register(MigrationSet("social_meta", "plugins.social_meta.migrations"))


@hookimpl
def register_contact_channels(register: Callable[[ContactChannel], None]) -> None:
    register(MetaChannel())


@hookimpl
async def on_event(event: DomainEvent, context: EventContext) -> None:
    if isinstance(event.data, CustomerErased) and event.customer_id:
        async with context.unit_of_work():  # idempotent: an erased id is not erased again
            await inbound.forget(event.customer_id)
