"""Events of the catalogue and stock: products, locations, inventory levels."""

from __future__ import annotations

from core.domain.events.base import EventPayload, EventType, SubjectType


class ProductCreated(EventPayload, frozen=True, kw_only=True):
    """A product was added to the catalogue (subject id: its SKU)."""

    event_type = EventType.PRODUCT_CREATED
    subject = SubjectType.PRODUCT


class LocationCreated(EventPayload, frozen=True, kw_only=True):
    """A warehouse or store was added (subject id: its code)."""

    event_type = EventType.LOCATION_CREATED
    subject = SubjectType.LOCATION


class InventoryAdjusted(EventPayload, frozen=True, kw_only=True):
    """Ops set the units on hand of a SKU at a location (a stock take, a delivery, a cycle count)."""

    event_type = EventType.INVENTORY_ADJUSTED
    subject = SubjectType.INVENTORY
    location: str
    sku: str
    on_hand: int
    delta: int  # the change in units on hand


class InventoryShortfall(EventPayload, frozen=True, kw_only=True):
    """Fewer units were found than the system held: on a short pick (`shipment_id`) or a cycle
    count (`count_id`)."""

    event_type = EventType.INVENTORY_SHORTFALL
    subject = SubjectType.INVENTORY
    location: str
    sku: str
    shortfall: int
    shipment_id: str | None = None
    count_id: str | None = None


PAYLOADS: tuple[type[EventPayload], ...] = (ProductCreated, LocationCreated, InventoryAdjusted, InventoryShortfall)

__all__ = ["InventoryAdjusted", "InventoryShortfall", "LocationCreated", "ProductCreated"]
