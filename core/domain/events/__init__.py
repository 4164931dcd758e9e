"""The event catalogue: every kind of change the engine records (`EventType`) and the frozen
payload Struct each is recorded with. Use cases record payloads (`core.jobs.outbox.record`);
`on_event` plugins, timelines and webhooks read the same Structs back, validated.

The reference, docs/events.md, is generated from these Structs:
`python -m core.domain.events.reference > docs/events.md`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

import msgspec

from core.domain.events import (
    addresses,
    catalogue,
    channels,
    customers,
    feedback,
    fulfilment,
    kms,
    orders,
    payments,
    returns,
    service,
)
from core.domain.events.addresses import *  # noqa: F403
from core.domain.events.base import DomainEvent, EventPayload, EventType, SubjectType
from core.domain.events.catalogue import *  # noqa: F403 - the catalogue's public names, re-exported
from core.domain.events.channels import *  # noqa: F403
from core.domain.events.customers import *  # noqa: F403
from core.domain.events.feedback import *  # noqa: F403
from core.domain.events.fulfilment import *  # noqa: F403
from core.domain.events.kms import *  # noqa: F403
from core.domain.events.orders import *  # noqa: F403
from core.domain.events.payments import *  # noqa: F403
from core.domain.events.returns import *  # noqa: F403
from core.domain.events.service import *  # noqa: F403


class UnknownEventType(ValueError):
    """A stored event whose type this release does not know (written by a newer release?)."""


# One module per domain, each listing its payload Structs in PAYLOADS (and the reference's order).
MODULES: tuple[ModuleType, ...] = (
    catalogue,
    customers,
    orders,
    addresses,
    payments,
    fulfilment,
    returns,
    service,
    kms,
    feedback,
    channels,
)


def _catalogue() -> dict[EventType, type[EventPayload]]:
    found: dict[EventType, type[EventPayload]] = {}
    for module in MODULES:
        for kind in module.PAYLOADS:
            if kind.event_type in found:
                raise TypeError(f"{kind.__name__} and {found[kind.event_type].__name__} both claim {kind.event_type}")
            found[kind.event_type] = kind
    missing = sorted(set(EventType) - set(found))
    if missing:
        raise TypeError(f"event types without a payload Struct: {', '.join(missing)}")
    return found


# EventType → its payload Struct; built at import, so a type without a Struct fails at once.
CATALOGUE: Mapping[EventType, type[EventPayload]] = _catalogue()
_PAYLOAD_TYPES = frozenset(CATALOGUE.values())


def payload_type(event_type: str) -> type[EventPayload]:
    try:
        return CATALOGUE[EventType(event_type)]
    except ValueError:
        raise UnknownEventType(f"{event_type!r} is not in the event catalogue (core.domain.events)") from None


def encode_payload(payload: EventPayload) -> str:
    """The JSON stored in the outbox's payload column."""
    if type(payload) not in _PAYLOAD_TYPES:  # a base Struct, or one missing from its module's PAYLOADS
        raise TypeError(f"{type(payload).__name__} is not a payload of the event catalogue")
    return msgspec.json.encode(payload).decode()


def decode_payload(event_type: str, stored: str | bytes | Mapping[str, Any] | None) -> EventPayload:
    """The stored payload (JSON text, or already decoded by the driver) as its type's Struct;
    raises msgspec.ValidationError when it does not fit."""
    kind = payload_type(event_type)
    if stored is None:
        return msgspec.convert({}, kind)
    if isinstance(stored, str | bytes):
        return msgspec.json.decode(stored, type=kind)
    return msgspec.convert(stored, kind)


__all__ = [
    "CATALOGUE",
    "MODULES",
    "DomainEvent",
    "EventPayload",
    "EventType",
    "SubjectType",
    "UnknownEventType",
    "decode_payload",
    "encode_payload",
    "payload_type",
]
__all__ += catalogue.__all__
__all__ += orders.__all__
__all__ += payments.__all__
__all__ += fulfilment.__all__
__all__ += returns.__all__
__all__ += service.__all__
__all__ += customers.__all__
__all__ += addresses.__all__
__all__ += kms.__all__
__all__ += feedback.__all__
__all__ += channels.__all__
