"""The chat channel as a plugin: its table and migrations, routes (sessions, the WebSocket, the
widget, agent presence) and the contact channel that pushes agents' replies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, post
from piccolo.table import Table

from api.auth import AGENT, principal_of
from api.deps import runtime_of
from core.db.migrations import MigrationSet
from core.hookspecs import hookimpl
from core.hookspecs.contact import ContactChannel
from core.service import agents
from plugins.contact_chat import fanout
from plugins.contact_chat.channel import ChatChannel
from plugins.contact_chat.routes import HANDLERS
from plugins.contact_chat.tables import TABLES


@post("/v1/chat/presence", guards=[AGENT], tags=["chat"], status_code=200, summary="An agent is online (heartbeat)")
async def presence(request: Request[Any, Any, Any]) -> dict[str, Any]:
    async with runtime_of(request).unit_of_work():
        agent_id = await agents.agent_for(principal_of(request))
    await fanout.mark_agent_online(agent_id)
    return {"agent_id": agent_id, "online_for_s": fanout.PRESENCE_TTL_S}


@hookimpl
def register_routes(register: Callable[[Any], None]) -> None:
    for handler in (*HANDLERS, presence):
        register(handler)


@hookimpl
def register_tables(register: Callable[[type[Table]], None]) -> None:
    for table in TABLES:
        register(table)


@hookimpl
def register_migrations(register: Callable[[MigrationSet], None]) -> None:
    register(MigrationSet("contact_chat", "plugins.contact_chat.migrations"))


@hookimpl
def register_contact_channels(register: Callable[[ContactChannel], None]) -> None:
    register(ChatChannel())
