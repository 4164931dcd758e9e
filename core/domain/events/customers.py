"""Events of customers beyond their creation: erasure of their personal data (GDPR)."""

from __future__ import annotations

from core.domain.events.base import EventPayload, EventType, SubjectType


class CustomerErased(EventPayload, frozen=True, kw_only=True):
    """The customer's personal data was replaced everywhere; orders and payments stay countable.
    Carries who asked, never what was erased."""

    event_type = EventType.CUSTOMER_ERASED
    subject = SubjectType.CUSTOMER
    by: str


PAYLOADS: tuple[type[EventPayload], ...] = (CustomerErased,)

__all__ = ["CustomerErased"]
