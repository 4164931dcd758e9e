"""Payment processors (PSPs): Stripe, cash on delivery, Viva Wallet, Everypay, Cardlink…

A PSP plugin registers an object satisfying `PaymentProcessor`. The core owns the money ledger
and the state machine; the processor only speaks to its provider. Every call carries an
idempotency key derived from ours, so a retry can never charge twice.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

import msgspec

from core.hookspecs import hookspec


class PaymentFlow(enum.StrEnum):
    """How the customer completes the payment on the storefront."""

    CLIENT_SECRET = "client_secret"  # card form confirms in the browser (Stripe Elements)
    REDIRECT = "redirect"  # hosted payment page (Viva Wallet, Cardlink)
    NONE = "none"  # nothing to do now (cash on delivery, bank transfer)
    COUNTER = "counter"  # paid at the shop's counter (cash, a card terminal): captured as the order is placed


class CaptureMoment(enum.StrEnum):
    """When the core captures an authorized payment by default. `ON_DELIVERY` also means the
    courier collects the money at the door: the core puts the shipped lines' value on the voucher
    (`VoucherRequest.cod_amount`) and captures when the parcel is delivered."""

    ON_SHIPMENT = "on_shipment"  # cards: capture when the order ships
    ON_DELIVERY = "on_delivery"  # cash on delivery: the courier collects at the door


class AttemptStatus(enum.StrEnum):
    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    AUTHORIZED = "authorized"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class StartPayment(msgspec.Struct, frozen=True, kw_only=True):
    """Ask the provider to start collecting `amount` for an order."""

    payment_id: str
    order_id: str
    amount: int
    currency: str
    idempotency_key: str
    capture_at_authorization: bool
    customer_email: str | None = None
    channel: str | None = None
    metadata: Mapping[str, str] = msgspec.field(default_factory=dict)


class PaymentStarted(msgspec.Struct, frozen=True, kw_only=True):
    psp_reference: str
    status: AttemptStatus
    flow: PaymentFlow
    client_secret: str | None = None
    redirect_url: str | None = None


class PaymentLinkLine(msgspec.Struct, frozen=True, kw_only=True):
    """One order line as the hosted page shows it; `unit_amount` in minor units."""

    sku: str
    name: str
    qty: int
    unit_amount: int


class PaymentLinkRequest(msgspec.Struct, frozen=True, kw_only=True):
    """Ask the provider for a hosted payment page collecting `amount` for an order (a phone
    order the customer pays later). `payment_id` is ours: the provider must echo it back on the
    payment's webhooks (metadata), so the core finds the payment before it knows the provider's
    reference. `lines` add up to `amount`."""

    payment_id: str
    order_id: str
    amount: int
    currency: str
    lines: list[PaymentLinkLine]
    idempotency_key: str
    capture_at_authorization: bool
    success_url: str
    cancel_url: str
    customer_email: str | None = None
    metadata: Mapping[str, str] = msgspec.field(default_factory=dict)


class PaymentLink(msgspec.Struct, frozen=True, kw_only=True):
    """The hosted page: where to send the customer, until when, and the provider's id for it."""

    url: str
    expires_at: datetime
    provider_ref: str


class MoneyMovement(msgspec.Struct, frozen=True, kw_only=True):
    """A capture, refund or cancel request. `amount` is always explicit (minor units)."""

    payment_id: str
    psp_reference: str
    amount: int
    currency: str
    idempotency_key: str
    reason: str | None = None


class MovementResult(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of a capture, refund or cancel. `payment`, when the provider returns it, is
    the payment's state right after the movement."""

    status: AttemptStatus
    amount: int
    provider_reference: str | None = None
    payment: ProviderPayment | None = None


class AttemptInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One try at paying (a card authorisation, a redirect that came back). `reference` is the
    provider's id for that try (Stripe's charge id) and deduplicates it."""

    reference: str
    status: AttemptStatus
    amount: int
    method: str | None = None
    card_brand: str | None = None
    funding: str | None = None
    issuer_bank: str | None = None
    decline_code: str | None = None


class ProviderPayment(msgspec.Struct, frozen=True, kw_only=True):
    """The provider's view of a payment: cumulative totals (minor units), never deltas, so the
    core can merge snapshots that arrive twice or out of order by taking the maximum."""

    psp_reference: str
    status: AttemptStatus
    authorized: int = 0
    captured: int = 0
    refunded: int = 0
    canceled: int = 0
    latest_attempt: AttemptInfo | None = None


class ProviderEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A verified inbound webhook, normalised. `event_id` deduplicates redeliveries."""

    event_id: str
    event_type: str
    psp_reference: str | None
    occurred_at: datetime
    merchant_reference: str | None = None  # our payment id, when the provider echoes it back
    attempt: AttemptInfo | None = None


class PaymentDeclined(Exception):
    """Final: the issuer said no. Recorded with its decline code, never retried."""

    def __init__(self, message: str, *, decline_code: str | None, psp_reference: str | None = None):
        super().__init__(message)
        self.decline_code = decline_code
        self.psp_reference = psp_reference


class ProviderUnavailable(Exception):
    """Transient (timeout, 5xx, 429): the worker retries with backoff, then dead-letters."""


class ProviderRejected(Exception):
    """Permanent misuse (bad request, wrong state): not retried; shown to ops as is."""


class WebhookSignatureInvalid(Exception):
    """The inbound webhook's signature or timestamp did not verify: answered with 401."""


class WebhookPayloadUnreadable(Exception):
    """The signature verified, but the event is not one the plugin can read (a field missing, a
    wrong type, an object it does not know). The core stores it, answers 200 so the provider
    stops redelivering it, and dead-letters it with `reason`; it is never processed."""

    def __init__(self, reason: str, *, event_id: str | None = None, event_type: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id  # deduplicates redeliveries when the plugin could read it
        self.event_type = event_type


@runtime_checkable
class PaymentProcessor(Protocol):
    """What a PSP plugin provides. All amounts are integer minor units.

    Errors: raise `PaymentDeclined` (final), `ProviderUnavailable` (retry) or
    `ProviderRejected` (permanent). Every method must be safe to call twice with the same
    idempotency key: the second call returns the first call's result.
    """

    name: str
    flow: PaymentFlow
    capture_moment: CaptureMoment

    async def start(self, request: StartPayment) -> PaymentStarted: ...

    async def retrieve(self, psp_reference: str) -> ProviderPayment:
        """The provider's current state of the payment (used after webhooks and timeouts)."""
        ...

    async def confirm(self, psp_reference: str, payment_method: str, idempotency_key: str) -> ProviderPayment:
        """Confirm server-side (call centre, MOTO, tests). Raise ProviderRejected if unsupported."""
        ...

    async def capture(self, movement: MoneyMovement) -> MovementResult: ...

    async def refund(self, movement: MoneyMovement) -> MovementResult: ...

    async def cancel(self, movement: MoneyMovement) -> MovementResult: ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, now: datetime) -> ProviderEvent:
        """Verify and parse; raise `WebhookSignatureInvalid` when it does not verify, and
        `WebhookPayloadUnreadable` when it verifies but cannot be read."""
        ...


@runtime_checkable
class PaymentLinks(Protocol):
    """An optional capability of a `PaymentProcessor`: hosted payment pages sent to the customer
    (`POST /v1/orders/{id}/payment-link`). A processor without it is refused with 422.

    The payment completes at the provider; the core hears of it through the processor's
    webhooks (`verify_webhook`), which must name our `payment_id` as `merchant_reference` and
    the provider's payment as `psp_reference`."""

    name: str

    async def create_payment_link(self, request: PaymentLinkRequest) -> PaymentLink:
        """Create the hosted page; safe to call twice with the same idempotency key."""
        ...


class LinkOutcome(enum.StrEnum):
    """What became of a payment link the core asked the provider to expire."""

    EXPIRED = "expired"  # no longer payable: expired now, or it already was
    COMPLETED = "completed"  # the customer paid it first: the money comes through the webhooks


@runtime_checkable
class ExpiringPaymentLinks(PaymentLinks, Protocol):
    """The optional part of `PaymentLinks`: closing a hosted page before its time (the order was
    cancelled). Without it the core marks the link expired on its side only; a payment that still
    comes through is released or refunded by the core (the order is cancelled)."""

    async def expire_payment_link(self, provider_ref: str) -> LinkOutcome:
        """Make the page `provider_ref` unpayable. Idempotent: a link already expired answers
        `EXPIRED`, one the customer already paid answers `COMPLETED` (never an error). Raise
        `ProviderUnavailable` to be retried, `ProviderRejected` when the provider refuses."""
        ...


# ---------------------------------------------------------------------------------------------
# Hooks
# ---------------------------------------------------------------------------------------------


@hookspec
def register_payment_processors(register: Callable[[PaymentProcessor], None]) -> None:
    """Contribute payment processors (one per provider name: "stripe", "cod", "viva"…).

    When it is called:
        Once, when the payment registry is first built (API start, worker start).

    Args:
        register: call it with an object satisfying `PaymentProcessor`. The host checks the
            protocol, stamps the plugin's name and refuses a second processor with the same
            `name` (naming both plugins).

    Returns:
        Nothing; all registrations are collected into `core.plugins.PluginHost.payment_processors`.

    Example:
        ```python
        @hookimpl
        def register_payment_processors(register):
            register(VivaWallet(client_id=settings.viva_client_id, ...))
        ```
    """
