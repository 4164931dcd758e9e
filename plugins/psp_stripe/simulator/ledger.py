"""The Stripe simulator's in-memory state: PaymentIntents, charges, refunds, payment methods.

The endpoint modules (`stripe_payment_intents`, `stripe_confirmation`, `stripe_refunds`) act on
one `StripeLedger` under its lock, publish the events Stripe would send, and return JSON
objects or raise `StripeAPIError`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from plugins.psp_stripe.simulator.cards import CARDS_BY_TOKEN, card_for_number
from plugins.psp_stripe.simulator.objects import (
    ChargeRecord,
    PaymentIntentRecord,
    PaymentMethodRecord,
    RefundRecord,
)
from plugins.psp_stripe.simulator.params import (
    RETRIEVE_PARAMS,
    read_expand,
    read_hash,
    read_int,
    read_str,
    reject_unknown,
)
from plugins.psp_stripe.simulator.wire import (
    Params,
    WireObject,
    invalid_request,
    resource_missing,
)

if TYPE_CHECKING:
    from plugins.psp_stripe.simulator.checkout import CheckoutSessionRecord


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asked: carried into events (`request.id`, `request.idempotency_key`) and records."""

    request_id: str
    idempotency_key: str | None = None
    base_url: str = "http://127.0.0.1"


Publish = Callable[[str, WireObject, RequestContext | None], None]


class StripeLedger:
    """All PaymentIntents, charges, refunds, payment methods and Checkout Sessions the simulator knows."""

    def __init__(self, publish: Publish, *, refund_status: str = "succeeded") -> None:
        self.publish = publish
        self.refund_status = refund_status  # "pending" lets a test settle refunds later
        # Re-entrant: handlers run on the server's loop while tests read from their own thread.
        self.lock = threading.RLock()
        self.payment_intents: dict[str, PaymentIntentRecord] = {}
        self.charges: dict[str, ChargeRecord] = {}
        self.refunds: dict[str, RefundRecord] = {}
        self.payment_methods: dict[str, PaymentMethodRecord] = {}
        self.checkout_sessions: dict[str, CheckoutSessionRecord] = {}

    # -- lookups ---------------------------------------------------------------------------

    def payment_intent(self, pi_id: str, *, param: str = "id") -> PaymentIntentRecord:
        pi = self.payment_intents.get(pi_id)
        if pi is None:
            status = 404 if param == "id" else 400
            raise resource_missing("payment_intent", pi_id, param=param, status=status)
        return pi

    def charge(self, charge_id: str, *, param: str = "id") -> ChargeRecord:
        charge = self.charges.get(charge_id)
        if charge is None:
            status = 404 if param == "id" else 400
            raise resource_missing("charge", charge_id, param=param, status=status)
        return charge

    def retrieve_charge(self, charge_id: str, params: Params) -> WireObject:
        reject_unknown(params, RETRIEVE_PARAMS)
        with self.lock:
            charge = self.charge(charge_id).to_wire()
            if "payment_intent" in read_expand(params):
                charge["payment_intent"] = self.payment_intent(charge["payment_intent"]).to_wire()
            return charge

    def retrieve_payment_method(self, pm_id: str, params: Params) -> WireObject:
        reject_unknown(params, RETRIEVE_PARAMS)
        with self.lock:
            method = self.payment_methods.get(pm_id)
            if method is None:
                raise resource_missing("payment_method", pm_id)
            return method.to_wire()

    def report(self) -> list[WireObject]:
        """Every PaymentIntent with its captures and refunds, for test assertions."""
        with self.lock:
            return [pi.report() for pi in self.payment_intents.values()]

    # -- payment methods -------------------------------------------------------------------

    def resolve_payment_method(self, params: Params, customer: str | None) -> PaymentMethodRecord | None:
        next_year = date.today().year + 1
        token = read_str(params, "payment_method")
        data = read_hash(params, "payment_method_data")
        if token is not None:
            if token in self.payment_methods:
                return self.payment_methods[token]
            card = CARDS_BY_TOKEN.get(token)
            if card is None:
                raise resource_missing("PaymentMethod", token, param="payment_method", status=400)
            method = PaymentMethodRecord(card, exp_month=12, exp_year=next_year, customer=customer)
        elif data is not None:
            card_data = read_hash(data, "card")
            if read_str(data, "type") != "card" or card_data is None:
                raise invalid_request(
                    "The simulator supports only payment_method_data[type]=card with card details.",
                    param="payment_method_data[type]",
                )
            card = card_for_number(read_str(card_data, "number", required=True) or "")
            method = PaymentMethodRecord(
                card,
                exp_month=read_int(card_data, "exp_month") or 12,
                exp_year=read_int(card_data, "exp_year") or next_year,
                customer=customer,
            )
        else:
            return None
        self.payment_methods[method.id] = method
        return method

    def new_charge(self, pi: PaymentIntentRecord, status: str) -> ChargeRecord:
        assert pi.payment_method is not None
        charge = ChargeRecord(
            payment_intent=pi.id,
            payment_method=pi.payment_method,
            amount=pi.amount,
            currency=pi.currency,
            status=status,
            description=pi.description,
            customer=pi.customer,
            metadata=dict(pi.metadata),
        )
        self.charges[charge.id] = charge
        pi.charges.append(charge)
        pi.latest_charge = charge
        return charge


def wire_list(url: str, data: list[WireObject], limit: int) -> WireObject:
    """Stripe's list envelope, newest first, cut at `limit`."""
    return {"object": "list", "data": data[:limit], "has_more": len(data) > limit, "url": url}
