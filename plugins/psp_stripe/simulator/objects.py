"""The simulator's in-memory Stripe objects and their JSON renderings (API version 2024-06-20).

Records hold only what the simulator decides; `to_wire()` fills in the many fields Stripe always
sends (mostly null here) so clients that read them find them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from plugins.psp_stripe.simulator.cards import TestCard
from plugins.psp_stripe.simulator.wire import WireObject, new_id, now

_EMPTY_ADDRESS: WireObject = {
    "city": None,
    "country": None,
    "line1": None,
    "line2": None,
    "postal_code": None,
    "state": None,
}


def _billing_details() -> WireObject:
    return {"address": dict(_EMPTY_ADDRESS), "email": None, "name": None, "phone": None}


@dataclass(slots=True)
class PaymentMethodRecord:
    """A card PaymentMethod; `pm_card_*` tokens mint a fresh one on every use, as in Stripe."""

    card: TestCard
    exp_month: int
    exp_year: int
    customer: str | None = None
    id: str = field(default_factory=lambda: new_id("pm"))
    created: int = field(default_factory=now)

    def to_wire(self) -> WireObject:
        card = self.card
        return {
            "id": self.id,
            "object": "payment_method",
            "allow_redisplay": "unspecified",
            "billing_details": _billing_details(),
            "card": {
                "brand": card.brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "unchecked",
                },
                "country": card.country,
                "display_brand": card.brand,
                "exp_month": self.exp_month,
                "exp_year": self.exp_year,
                "fingerprint": card.fingerprint,
                "funding": card.funding,
                "generated_from": None,
                "last4": card.last4,
                "networks": {"available": [card.brand], "preferred": None},
                "three_d_secure_usage": {"supported": True},
                "wallet": None,
            },
            "created": self.created,
            "customer": self.customer,
            "livemode": False,
            "metadata": {},
            "type": "card",
        }


@dataclass(slots=True)
class ChargeRecord:
    """The charge behind one confirmation attempt; failed attempts keep their failed charge."""

    payment_intent: str
    payment_method: PaymentMethodRecord
    amount: int
    currency: str
    status: str  # succeeded | failed
    captured: bool = False
    amount_captured: int = 0
    # Includes amounts Stripe releases (uncaptured remainder, canceled authorisation), not only
    # Refund objects: that is how Stripe reports a partial capture on the charge.
    amount_refunded: int = 0
    failure_code: str | None = None
    failure_message: str | None = None
    three_d_secure: bool = False
    description: str | None = None
    customer: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: new_id("ch"))
    created: int = field(default_factory=now)
    balance_transaction: str | None = None

    def outcome(self) -> WireObject:
        card = self.payment_method.card
        if self.status == "succeeded":
            return {
                "network_status": "approved_by_network",
                "reason": None,
                "risk_level": "normal",
                "risk_score": 32,
                "seller_message": "Payment complete.",
                "type": "authorized",
            }
        return {
            "network_status": "declined_by_network",
            "reason": card.decline_code,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": f"The bank returned the decline code `{card.decline_code}`.",
            "type": "issuer_declined",
        }

    def to_wire(self) -> WireObject:
        card = self.payment_method.card
        return {
            "id": self.id,
            "object": "charge",
            "amount": self.amount,
            "amount_captured": self.amount_captured,
            "amount_refunded": self.amount_refunded,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": self.balance_transaction,
            "billing_details": _billing_details(),
            "calculated_statement_descriptor": "EMPORIO",
            "captured": self.captured,
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "description": self.description,
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": self.failure_code,
            "failure_message": self.failure_message,
            "fraud_details": {},
            "livemode": False,
            "metadata": dict(self.metadata),
            "on_behalf_of": None,
            "outcome": self.outcome(),
            "paid": self.status == "succeeded",
            "payment_intent": self.payment_intent,
            "payment_method": self.payment_method.id,
            "payment_method_details": {
                "card": {
                    "amount_authorized": self.amount if self.status == "succeeded" else None,
                    "brand": card.brand,
                    "checks": {
                        "address_line1_check": None,
                        "address_postal_code_check": None,
                        "cvc_check": "fail" if card.error_code == "incorrect_cvc" else "pass",
                    },
                    "country": card.country,
                    "exp_month": self.payment_method.exp_month,
                    "exp_year": self.payment_method.exp_year,
                    "fingerprint": card.fingerprint,
                    "funding": card.funding,
                    "installments": None,
                    "last4": card.last4,
                    "mandate": None,
                    "network": card.brand,
                    "three_d_secure": (
                        {
                            "authentication_flow": "challenge",
                            "result": "authenticated",
                            "version": "2.2.0",
                        }
                        if self.three_d_secure
                        else None
                    ),
                    "wallet": None,
                },
                "type": "card",
            },
            "receipt_email": None,
            "receipt_number": None,
            "receipt_url": f"https://pay.stripe.com/receipts/payment/{self.id}",
            "refunded": self.amount_refunded >= self.amount and self.status == "succeeded",
            "review": None,
            "shipping": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": self.status,
            "transfer_data": None,
            "transfer_group": None,
        }


@dataclass(slots=True)
class RefundRecord:
    """A Refund object; pending/failed statuses are driven by the test through the simulator."""

    amount: int
    charge: str
    payment_intent: str
    currency: str
    status: str
    reason: str | None
    metadata: dict[str, str]
    request_id: str
    idempotency_key: str | None
    failure_reason: str | None = None
    id: str = field(default_factory=lambda: new_id("re"))
    created: int = field(default_factory=now)
    balance_transaction: str = field(default_factory=lambda: new_id("txn"))

    def to_wire(self) -> WireObject:
        wire: WireObject = {
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "balance_transaction": self.balance_transaction,
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "destination_details": {
                "card": {"reference_status": "pending", "type": "refund"},
                "type": "card",
            },
            "metadata": dict(self.metadata),
            "payment_intent": self.payment_intent,
            "reason": self.reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": self.status,
            "transfer_reversal": None,
        }
        if self.status == "failed":
            wire["failure_reason"] = self.failure_reason
        return wire


@dataclass(frozen=True, slots=True)
class CaptureRecord:
    """One successful capture, kept so tests can assert "exactly one capture per payment"."""

    amount: int
    at: int
    request_id: str
    idempotency_key: str | None


@dataclass(slots=True)
class PaymentIntentRecord:
    """A PaymentIntent and the bookkeeping the simulator reports about it."""

    amount: int
    currency: str
    capture_method: str
    payment_method_types: list[str]
    automatic_payment_methods: bool
    allowed_payment_method_types: list[str] | None = None
    excluded_payment_method_types: list[str] | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    customer: str | None = None
    receipt_email: str | None = None
    statement_descriptor: str | None = None
    statement_descriptor_suffix: str | None = None
    setup_future_usage: str | None = None
    status: str = "requires_payment_method"
    payment_method: PaymentMethodRecord | None = None
    latest_charge: ChargeRecord | None = None
    last_payment_error: WireObject | None = None
    next_action: WireObject | None = None
    amount_capturable: int = 0
    amount_received: int = 0
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    charges: list[ChargeRecord] = field(default_factory=list)
    captures: list[CaptureRecord] = field(default_factory=list)
    refunds: list[RefundRecord] = field(default_factory=list)
    id: str = field(default_factory=lambda: new_id("pi"))
    secret: str = field(default_factory=lambda: new_id("secret"))
    created: int = field(default_factory=now)

    def to_wire(self, expand: frozenset[str] = frozenset()) -> WireObject:
        charge: Any = self.latest_charge.id if self.latest_charge else None
        if self.latest_charge and "latest_charge" in expand:
            charge = self.latest_charge.to_wire()
        method: Any = self.payment_method.id if self.payment_method else None
        if self.payment_method and "payment_method" in expand:
            method = self.payment_method.to_wire()
        return {
            "id": self.id,
            "object": "payment_intent",
            "allowed_payment_method_types": self.allowed_payment_method_types,
            "amount": self.amount,
            "amount_capturable": self.amount_capturable,
            "amount_details": {"tip": {}},
            "amount_received": self.amount_received,
            "application": None,
            "application_fee_amount": None,
            "automatic_payment_methods": (
                {"allow_redirects": "always", "enabled": True} if self.automatic_payment_methods else None
            ),
            "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": self.capture_method,
            "client_secret": f"{self.id}_{self.secret}",
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "description": self.description,
            "excluded_payment_method_types": self.excluded_payment_method_types,
            "invoice": None,
            "last_payment_error": self.last_payment_error,
            "latest_charge": charge,
            "livemode": False,
            "metadata": dict(self.metadata),
            "next_action": self.next_action,
            "on_behalf_of": None,
            "payment_method": method,
            "payment_method_configuration_details": None,
            "payment_method_options": {
                "card": {
                    "installments": None,
                    "mandate_options": None,
                    "network": None,
                    "request_three_d_secure": "automatic",
                }
            },
            "payment_method_types": list(self.payment_method_types),
            "processing": None,
            "receipt_email": self.receipt_email,
            "review": None,
            "setup_future_usage": self.setup_future_usage,
            "shipping": None,
            "source": None,
            "statement_descriptor": self.statement_descriptor,
            "statement_descriptor_suffix": self.statement_descriptor_suffix,
            "status": self.status,
            "transfer_data": None,
            "transfer_group": None,
        }

    def report(self) -> WireObject:
        """The simulator's bookkeeping view, served at `GET /_simulator/payment_intents`."""
        return {
            "id": self.id,
            "status": self.status,
            "amount": self.amount,
            "currency": self.currency,
            "capture_method": self.capture_method,
            "amount_capturable": self.amount_capturable,
            "amount_received": self.amount_received,
            "metadata": dict(self.metadata),
            "charges": [c.id for c in self.charges],
            "captures": [
                {
                    "amount": c.amount,
                    "at": c.at,
                    "request_id": c.request_id,
                    "idempotency_key": c.idempotency_key,
                }
                for c in self.captures
            ],
            "refunds": [
                {
                    "id": r.id,
                    "amount": r.amount,
                    "status": r.status,
                    "reason": r.reason,
                    "request_id": r.request_id,
                    "idempotency_key": r.idempotency_key,
                }
                for r in self.refunds
            ],
        }
