"""Customer facts: what is true of a customer now (a detractor, a failed delivery, a return not
received), read by the next-best-action rules of the `actions` policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from core.hookspecs import hookspec

FactLoader = Callable[[str], Awaitable[set[str]]]
SectionLoader = Callable[[str, int], Awaitable[list[dict[str, Any]]]]


class CustomerFactSource(msgspec.Struct, frozen=True, kw_only=True):
    """`load(customer_id)` returns the facts it knows, as short names (`detractor`)."""

    name: str
    load: FactLoader
    plugin: str = ""


@hookspec
def register_customer_facts(register: Callable[[CustomerFactSource], None]) -> None:
    """Contribute facts about a customer that next-best-action rules can name.

    When it is called:
        Once per process, the first time the customer 360 (`GET /v1/customers/{id}/context`,
        every case view) suggests next best actions.

    Args:
        register: call it with a `CustomerFactSource` — a unique `name` and an async
            `load(customer_id) -> set[str]` of fact names. The core contributes `failed_delivery`,
            `return_not_received_14d`, `open_case` and `segment:<id>`; the feedback plugin adds
            `detractor`. Keep `load` to one or two indexed queries: it runs on every case view.

    Returns:
        Nothing; all sources are collected and their facts united. A duplicate name is refused.

    Example:
        ```python
        async def loyalty_facts(customer_id):
            return {"gold_card"} if await loyalty.is_gold(customer_id) else set()


        @hookimpl
        def register_customer_facts(register):
            register(CustomerFactSource(name="loyalty", load=loyalty_facts))
        ```
    """


class CustomerSection(msgspec.Struct, frozen=True, kw_only=True):
    """A list of the customer 360 kept by a plugin: `load(customer_id, limit)` returns at most
    `limit` items, newest first, as JSON-ready dicts (datetimes as ISO 8601 strings)."""

    name: str
    load: SectionLoader
    plugin: str = ""


@hookspec
def register_customer_sections(register: Callable[[CustomerSection], None]) -> None:
    """Fill a list of the customer 360 that the core does not keep itself.

    When it is called:
        Once per process, the first time a customer 360 (`GET /v1/customers/{id}/context`, the
        case view, the caller lookup) is built.

    Args:
        register: call it with a `CustomerSection` — its `name` is the key it fills in the 360:
            `surveys` (declared by the contract, empty until a plugin fills it; the feedback
            plugin does) or a new lower-case key of the plugin's own. The core's own lists
            (`orders`, `cases`…) cannot be claimed. `load` runs on every case view: keep it to
            one indexed query, bounded by `limit`.

    Returns:
        Nothing. A name registered twice, or one the core keeps, is refused when collected.

    Example:
        ```python
        async def loyalty_cards(customer_id, limit):
            return [{"card": c.number, "tier": c.tier} for c in await cards.of(customer_id, limit)]


        @hookimpl
        def register_customer_sections(register):
            register(CustomerSection(name="loyalty_cards", load=loyalty_cards))
        ```
    """
