"""PaymentIntent endpoints of the Stripe simulator: create, read, list, update, capture, cancel.

Status rules follow Stripe: capture only from `requires_capture` and never more than
`amount_capturable` (the rest is released), cancel only before success.
"""

from __future__ import annotations

from plugins.psp_stripe.simulator.confirmation import (
    CAPTURE_METHODS,
    CONFIRMABLE,
    confirm,
    require_return_url,
    unexpected_state,
)
from plugins.psp_stripe.simulator.ledger import RequestContext, StripeLedger, wire_list
from plugins.psp_stripe.simulator.objects import CaptureRecord, PaymentIntentRecord
from plugins.psp_stripe.simulator.params import (
    CANCEL_PARAMS,
    CAPTURE_PARAMS,
    CONFIRM_PARAMS,
    CREATE_PARAMS,
    RETRIEVE_PARAMS,
    UPDATE_PARAMS,
    apply_metadata,
    read_bool,
    read_choice,
    read_expand,
    read_hash,
    read_int,
    read_str,
    read_str_list,
    reject_unknown,
)
from plugins.psp_stripe.simulator.wire import (
    Params,
    WireObject,
    format_money,
    invalid_request,
    new_id,
    now,
)

_CANCEL_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
_CANCELABLE = (
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
)
# Stripe's minimum charge amounts for the currencies a European shop meets most.
_MINIMUM_AMOUNT = {"eur": 50, "usd": 50, "gbp": 30, "chf": 50, "dkk": 250, "sek": 300, "pln": 200}


def create_payment_intent(ledger: StripeLedger, params: Params, ctx: RequestContext) -> WireObject:
    reject_unknown(params, CREATE_PARAMS)
    with ledger.lock:
        amount = read_int(params, "amount", required=True, minimum=1) or 0
        currency = (read_str(params, "currency", required=True) or "").lower()
        _check_amount(amount, currency)
        types = read_str_list(params, "payment_method_types")
        allowed = read_str_list(params, "allowed_payment_method_types")
        automatic = read_hash(params, "automatic_payment_methods") or {}
        pi = PaymentIntentRecord(
            amount=amount,
            currency=currency,
            capture_method=read_choice(params, "capture_method", CAPTURE_METHODS) or "automatic",
            payment_method_types=types or allowed or ["card"],
            allowed_payment_method_types=allowed,
            excluded_payment_method_types=read_str_list(params, "excluded_payment_method_types"),
            # Since API version 2023-08-16 Stripe turns automatic payment methods on by
            # default, and then insists on a return_url for server-side confirmation.
            automatic_payment_methods=types is None
            and allowed is None
            and read_bool(automatic, "enabled") is not False
            and read_str(automatic, "allow_redirects") != "never",
            metadata=apply_metadata({}, params),
            description=read_str(params, "description"),
            customer=read_str(params, "customer"),
            receipt_email=read_str(params, "receipt_email"),
            statement_descriptor=read_str(params, "statement_descriptor"),
            statement_descriptor_suffix=read_str(params, "statement_descriptor_suffix"),
            setup_future_usage=read_str(params, "setup_future_usage"),
        )
        confirm_now = read_bool(params, "confirm")
        if confirm_now:
            require_return_url(pi, params)  # refused before the PaymentIntent exists
        method = ledger.resolve_payment_method(params, pi.customer)
        if method is not None:
            pi.payment_method = method
            pi.status = "requires_confirmation"
        ledger.payment_intents[pi.id] = pi
        ledger.publish("payment_intent.created", pi.to_wire(), ctx)
        if confirm_now:
            return confirm(ledger, pi, params, ctx)
        return pi.to_wire(read_expand(params))


def _check_amount(amount: int, currency: str) -> None:
    if len(currency) != 3 or not currency.isalpha():
        raise invalid_request(f"Invalid currency: {currency}.", param="currency")
    minimum = _MINIMUM_AMOUNT.get(currency)
    if minimum is not None and amount < minimum:
        raise invalid_request(
            f"Amount must be at least {format_money(minimum, currency)} {currency}",
            param="amount",
            code="amount_too_small",
        )


def retrieve_payment_intent(ledger: StripeLedger, pi_id: str, params: Params) -> WireObject:
    reject_unknown(params, RETRIEVE_PARAMS | {"client_secret"})
    with ledger.lock:
        return ledger.payment_intent(pi_id).to_wire(read_expand(params))


def list_payment_intents(ledger: StripeLedger, params: Params) -> WireObject:
    with ledger.lock:
        limit = read_int(params, "limit", minimum=1) or 10
        customer = read_str(params, "customer")
        found = [pi.to_wire() for pi in reversed(ledger.payment_intents.values()) if customer in (None, pi.customer)]
        return wire_list("/v1/payment_intents", found, limit)


def update_payment_intent(ledger: StripeLedger, pi_id: str, params: Params, ctx: RequestContext) -> WireObject:
    reject_unknown(params, UPDATE_PARAMS)
    with ledger.lock:
        pi = ledger.payment_intent(pi_id)
        amount = read_int(params, "amount", minimum=1)
        if amount is not None and amount != pi.amount:
            if pi.status not in CONFIRMABLE:
                raise invalid_request(
                    "This PaymentIntent's amount could not be updated because it has a status "
                    f"of {pi.status}. You may only update the amount of a PaymentIntent with "
                    f"one of the following statuses: {', '.join(CONFIRMABLE)}.",
                    code="payment_intent_unexpected_state",
                    saved=True,
                    extra={"payment_intent": pi.to_wire()},
                )
            _check_amount(amount, pi.currency)
            pi.amount = amount
        pi.metadata = apply_metadata(pi.metadata, params)
        pi.description = read_str(params, "description") or pi.description
        pi.customer = read_str(params, "customer") or pi.customer
        pi.receipt_email = read_str(params, "receipt_email") or pi.receipt_email
        pi.capture_method = read_choice(params, "capture_method", CAPTURE_METHODS) or pi.capture_method
        method = ledger.resolve_payment_method(params, pi.customer)
        if method is not None:
            pi.payment_method = method
            if pi.status == "requires_payment_method":
                pi.status = "requires_confirmation"
        return pi.to_wire(read_expand(params))


def confirm_payment_intent(ledger: StripeLedger, pi_id: str, params: Params, ctx: RequestContext) -> WireObject:
    reject_unknown(params, CONFIRM_PARAMS | {"client_secret"})
    with ledger.lock:
        return confirm(ledger, ledger.payment_intent(pi_id), params, ctx)


def capture_payment_intent(ledger: StripeLedger, pi_id: str, params: Params, ctx: RequestContext) -> WireObject:
    reject_unknown(params, CAPTURE_PARAMS)
    with ledger.lock:
        pi = ledger.payment_intent(pi_id)
        if pi.status != "requires_capture":
            raise unexpected_state(pi, "capture", ("requires_capture",))
        amount = read_int(params, "amount_to_capture", minimum=1)
        if amount is None:
            amount = pi.amount_capturable
        if amount > pi.amount_capturable:
            raise invalid_request(
                f"The amount_to_capture ({amount}) must be less than or equal to the "
                f"PaymentIntent's amount_capturable ({pi.amount_capturable}).",
                param="amount_to_capture",
                code="amount_too_large",
                saved=True,
            )
        charge = pi.latest_charge
        assert charge is not None
        pi.metadata = apply_metadata(pi.metadata, params)
        pi.status = "succeeded"
        pi.amount_received = amount
        pi.amount_capturable = 0
        charge.captured = True
        charge.amount_captured = amount
        charge.amount_refunded += charge.amount - amount  # Stripe releases the remainder
        charge.balance_transaction = new_id("txn")
        pi.captures.append(CaptureRecord(amount, now(), ctx.request_id, ctx.idempotency_key))
        ledger.publish("charge.captured", charge.to_wire(), ctx)
        ledger.publish("payment_intent.succeeded", pi.to_wire(), ctx)
        return pi.to_wire(read_expand(params))


def cancel_payment_intent(ledger: StripeLedger, pi_id: str, params: Params, ctx: RequestContext) -> WireObject:
    reject_unknown(params, CANCEL_PARAMS)
    with ledger.lock:
        pi = ledger.payment_intent(pi_id)
        reason = read_choice(params, "cancellation_reason", _CANCEL_REASONS)
        if pi.status not in _CANCELABLE:
            raise unexpected_state(pi, "cancel", _CANCELABLE)
        if pi.status == "requires_capture" and pi.latest_charge is not None:
            pi.latest_charge.amount_refunded = pi.latest_charge.amount  # hold released
        pi.status = "canceled"
        pi.amount_capturable = 0
        pi.next_action = None
        pi.canceled_at = now()
        pi.cancellation_reason = reason
        ledger.publish("payment_intent.canceled", pi.to_wire(), ctx)
        return pi.to_wire(read_expand(params))
