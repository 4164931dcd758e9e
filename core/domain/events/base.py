"""What every domain event shares: its type (one `EventType` member per kind of change), the
kind of thing it is about, and the frozen payload Struct its type is recorded with."""

from __future__ import annotations

import builtins
import enum
from datetime import datetime
from typing import ClassVar, TypeVar

import msgspec


class EventType(enum.StrEnum):
    """Every kind of change the engine records. The values are the strings stored in the outbox
    and shown in timelines, so they never change once released."""

    # catalogue and stock
    PRODUCT_CREATED = "product.created"
    LOCATION_CREATED = "location.created"
    INVENTORY_ADJUSTED = "inventory.adjusted"
    INVENTORY_SHORTFALL = "inventory.shortfall"
    # customers and checkouts
    CUSTOMER_CREATED = "customer.created"
    CUSTOMER_ERASED = "customer.erased"
    CHECKOUT_STARTED = "checkout.started"
    CHECKOUT_COMPLETED = "checkout.completed"
    # orders
    ORDER_PLACED = "order.placed"
    ORDER_CONFIRMED = "order.confirmed"
    ORDER_CANCELLED = "order.cancelled"
    ORDER_ROUTED = "order.routed"
    ORDER_REROUTED = "order.rerouted"
    ORDER_PARTIALLY_SHIPPED = "order.partially_shipped"
    ORDER_SHIPPED = "order.shipped"
    ORDER_DELIVERED = "order.delivered"
    ORDER_RETURNED_TO_SENDER = "order.returned_to_sender"
    ORDER_HELD = "order.held"
    ORDER_SHIPPING_ADDRESS_CHANGED = "order.shipping_address_changed"
    # payments
    PAYMENT_STARTED = "payment.started"
    PAYMENT_LINK_CREATED = "payment.link_created"
    PAYMENT_LINK_EXPIRED = "payment.link_expired"
    PAYMENT_ATTEMPT_SUCCEEDED = "payment.attempt_succeeded"
    PAYMENT_ATTEMPT_FAILED = "payment.attempt_failed"
    PAYMENT_AUTHORIZED = "payment.authorized"
    PAYMENT_CAPTURED = "payment.captured"
    PAYMENT_REFUNDED = "payment.refunded"
    PAYMENT_CANCELED = "payment.canceled"
    PAYMENT_CAPTURE_REQUESTED = "payment.capture_requested"
    PAYMENT_CAPTURE_SUCCEEDED = "payment.capture_succeeded"
    PAYMENT_CAPTURE_FAILED = "payment.capture_failed"
    PAYMENT_CAPTURE_DEAD_LETTERED = "payment.capture_dead_lettered"
    PAYMENT_REFUND_REQUESTED = "payment.refund_requested"
    PAYMENT_REFUND_SUCCEEDED = "payment.refund_succeeded"
    PAYMENT_REFUND_FAILED = "payment.refund_failed"
    PAYMENT_REFUND_DEAD_LETTERED = "payment.refund_dead_lettered"
    PAYMENT_CANCEL_REQUESTED = "payment.cancel_requested"
    PAYMENT_CANCEL_SUCCEEDED = "payment.cancel_succeeded"
    PAYMENT_CANCEL_FAILED = "payment.cancel_failed"
    PAYMENT_CANCEL_DEAD_LETTERED = "payment.cancel_dead_lettered"
    PAYMENT_COD_MISMATCH = "payment.cod_mismatch"
    PSP_WEBHOOK_RECEIVED = "psp.webhook_received"
    # fulfilment
    SHIPMENT_CREATED = "shipment.created"
    SHIPMENT_CANCELLED = "shipment.cancelled"
    SHIPMENT_PICKED = "shipment.picked"
    SHIPMENT_PACKED = "shipment.packed"
    SHIPMENT_LABEL_CREATED = "shipment.label_created"
    SHIPMENT_VOUCHER_REJECTED = "shipment.voucher_rejected"
    SHIPMENT_VOUCHER_DEAD_LETTERED = "shipment.voucher_dead_lettered"
    SHIPMENT_SHIPPED = "shipment.shipped"
    SHIPMENT_IN_TRANSIT = "shipment.in_transit"
    SHIPMENT_OUT_FOR_DELIVERY = "shipment.out_for_delivery"
    SHIPMENT_DELIVERY_FAILED = "shipment.delivery_failed"
    SHIPMENT_REATTEMPT_SCHEDULED = "shipment.reattempt_scheduled"
    SHIPMENT_DELIVERED = "shipment.delivered"
    SHIPMENT_RETURN_TO_SENDER_DECIDED = "shipment.return_to_sender_decided"
    SHIPMENT_RETURNING_TO_SENDER = "shipment.returning_to_sender"
    SHIPMENT_RETURNED_TO_SENDER = "shipment.returned_to_sender"
    SHIPMENT_LOST = "shipment.lost"
    SHIPMENT_PACK_UNDONE = "shipment.pack_undone"
    TASK_CREATED = "task.created"
    TASK_CLOSED = "task.closed"
    # returns
    RETURN_REQUESTED = "return.requested"
    RETURN_APPROVED = "return.approved"
    RETURN_DECLINED = "return.declined"
    RETURN_LABEL_REQUESTED = "return.label_requested"
    RETURN_IN_TRANSIT = "return.in_transit"
    RETURN_RECEIVED = "return.received"
    RETURN_RESOLUTION_PENDING = "return.resolution_pending"
    RETURN_COMPLETED = "return.completed"
    # service desk
    CASE_CREATED = "case.created"
    CASE_MESSAGE_RECEIVED = "case.message_received"
    CASE_REPLIED = "case.replied"
    CASE_NOTE_ADDED = "case.note_added"
    CASE_ASSIGNED = "case.assigned"
    CASE_RESOLVED = "case.resolved"
    CASE_REOPENED = "case.reopened"
    CASE_CLOSED = "case.closed"
    CASE_MERGED = "case.merged"
    CASE_CHANNEL_SWITCHED = "case.channel_switched"
    CASE_ESCALATED = "case.escalated"
    CASE_WORKLOGGED = "case.worklogged"
    # sales channels (marketplace orders: the shop's answer and "ready for the courier")
    CHANNEL_ORDER_ACCEPTED = "channel_order.accepted"
    CHANNEL_ORDER_REJECTED = "channel_order.rejected"
    CHANNEL_ORDER_REFUSED = "channel_order.refused"
    CHANNEL_ORDER_READY = "channel_order.ready"
    # knowledge base
    KB_ARTICLE_CREATED = "kb.article_created"
    KB_ARTICLE_UPDATED = "kb.article_updated"
    KB_ARTICLE_SCHEDULED = "kb.article_scheduled"
    KB_ARTICLE_PUBLISHED = "kb.article_published"
    KB_ARTICLE_ARCHIVED = "kb.article_archived"
    # voice of the customer (surveys and reviews)
    SURVEY_SENT = "survey.sent"
    SURVEY_SUPPRESSED = "survey.suppressed"
    SURVEY_ANSWERED = "survey.answered"
    REVIEW_SUBMITTED = "review.submitted"
    REVIEW_MODERATED = "review.moderated"
    REVIEW_REPLIED = "review.replied"


class SubjectType(enum.StrEnum):
    """What an event is about; with the subject id it names the row that changed."""

    PRODUCT = "product"
    LOCATION = "location"
    INVENTORY = "inventory"  # subject id "<location>|<sku>"
    CUSTOMER = "customer"
    CHECKOUT = "checkout"
    ORDER = "order"
    PAYMENT = "payment"
    PSP_WEBHOOK = "psp_webhook"
    SHIPMENT = "shipment"
    TASK = "task"
    RETURN = "return"
    CASE = "case"
    CHANNEL_ORDER = "channel_order"  # subject id "<channel>:<marketplace order code>"
    KB_ARTICLE = "kb_article"
    SURVEY = "survey"
    REVIEW = "review"


class EventPayload(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every event's payload. Each subclass declares the one `event_type` it is recorded
    as and the `subject` it is about; `record` reads both from the class, so a payload cannot be
    written under another type's name.

    Unknown fields are ignored when decoding, so a row written by a newer release still reads;
    fields added later carry a default so rows written before them still read."""

    event_type: ClassVar[EventType]
    subject: ClassVar[SubjectType]
    # A use case records each change once. Types whose subject can change twice in one unit of
    # work for two distinct reasons (two money movements of one payment) say so here.
    repeatable: ClassVar[bool] = False


P = TypeVar("P", bound=EventPayload)


class DomainEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded event as readers (on_event, timelines) get it, its payload decoded and
    validated into the Struct of its type."""

    id: str
    type: EventType
    occurred_at: datetime
    order_id: str | None = None
    customer_id: str | None = None
    subject_type: SubjectType | None = None
    subject_id: str | None = None
    data: EventPayload

    def data_as(self, kind: builtins.type[P]) -> P:
        """The payload as `kind`, for a reader that already checked the type; a mismatch is a
        bug in that reader, so it raises instead of returning something half-right."""
        if not isinstance(self.data, kind):
            raise TypeError(f"event {self.id} is {self.type}, its payload is not a {kind.__name__}")
        return self.data


__all__ = ["DomainEvent", "EventPayload", "EventType", "SubjectType"]
