"""Refunds in the Stripe simulator: create, read, list, and settle pending ones.

A refund can never exceed what was captured minus what was already refunded; the error texts
follow Stripe's ("Refund amount (€9.00) is greater than charge amount (€6.00)").
"""

from __future__ import annotations

from plugins.psp_stripe.simulator.ledger import RequestContext, StripeLedger, wire_list
from plugins.psp_stripe.simulator.objects import ChargeRecord, RefundRecord
from plugins.psp_stripe.simulator.params import (
    REFUND_PARAMS,
    RETRIEVE_PARAMS,
    apply_metadata,
    read_choice,
    read_expand,
    read_int,
    read_str,
    reject_unknown,
)
from plugins.psp_stripe.simulator.wire import (
    Params,
    WireObject,
    format_money,
    invalid_request,
    resource_missing,
)

_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
_SETTLED = ("succeeded", "failed", "canceled")


def create_refund(ledger: StripeLedger, params: Params, ctx: RequestContext) -> WireObject:
    reject_unknown(params, REFUND_PARAMS)
    with ledger.lock:
        charge = _refundable_charge(ledger, params)
        reason = read_choice(params, "reason", _REASONS)
        amount = read_int(params, "amount", minimum=1)
        refunded = sum(
            r.amount
            for r in ledger.refunds.values()
            if r.charge == charge.id and r.status not in ("failed", "canceled")
        )
        remaining = charge.amount_captured - refunded
        if remaining <= 0:
            raise invalid_request(
                f"Charge {charge.id} has already been refunded.",
                code="charge_already_refunded",
                saved=True,
            )
        if amount is None:
            amount = remaining
        if amount > remaining:
            limit = (
                f"charge amount ({format_money(charge.amount_captured, charge.currency)})"
                if refunded == 0
                else f"unrefunded amount on charge ({format_money(remaining, charge.currency)})"
            )
            raise invalid_request(
                f"Refund amount ({format_money(amount, charge.currency)}) is greater than {limit}",
                param="amount",
                code="amount_too_large",
                saved=True,
            )
        refund = RefundRecord(
            amount=amount,
            charge=charge.id,
            payment_intent=charge.payment_intent,
            currency=charge.currency,
            status=ledger.refund_status,
            reason=reason,
            metadata=apply_metadata({}, params),
            request_id=ctx.request_id,
            idempotency_key=ctx.idempotency_key,
        )
        ledger.refunds[refund.id] = refund
        ledger.payment_intent(charge.payment_intent).refunds.append(refund)
        charge.amount_refunded += amount
        ledger.publish("charge.refunded", charge.to_wire(), ctx)
        ledger.publish("refund.created", refund.to_wire(), ctx)
        return _render(ledger, refund, read_expand(params))


def _refundable_charge(ledger: StripeLedger, params: Params) -> ChargeRecord:
    charge_id = read_str(params, "charge")
    pi_id = read_str(params, "payment_intent")
    if charge_id is not None:
        charge = ledger.charge(charge_id, param="charge")
    elif pi_id is not None:
        pi = ledger.payment_intent(pi_id, param="payment_intent")
        if pi.latest_charge is None or pi.status != "succeeded":
            raise invalid_request(
                f"This PaymentIntent ({pi_id}) does not have a successful charge to refund.",
                param="payment_intent",
                code="charge_not_refundable",
                saved=True,
            )
        charge = pi.latest_charge
    else:
        raise invalid_request(
            "One of the following params should be provided for this request: payment_intent or charge.",
            param="payment_intent",
        )
    if not charge.captured:
        raise invalid_request(
            f"Charge {charge.id} has not been captured; cancel its PaymentIntent instead.",
            param="charge",
            code="charge_not_refundable",
            saved=True,
        )
    return charge


def _render(ledger: StripeLedger, refund: RefundRecord, expand: frozenset[str]) -> WireObject:
    wire = refund.to_wire()
    if "charge" in expand:
        wire["charge"] = ledger.charges[refund.charge].to_wire()
    if "payment_intent" in expand:
        wire["payment_intent"] = ledger.payment_intents[refund.payment_intent].to_wire()
    return wire


def _refund(ledger: StripeLedger, refund_id: str) -> RefundRecord:
    refund = ledger.refunds.get(refund_id)
    if refund is None:
        raise resource_missing("refund", refund_id)
    return refund


def retrieve_refund(ledger: StripeLedger, refund_id: str, params: Params) -> WireObject:
    reject_unknown(params, RETRIEVE_PARAMS)
    with ledger.lock:
        return _render(ledger, _refund(ledger, refund_id), read_expand(params))


def list_refunds(ledger: StripeLedger, params: Params) -> WireObject:
    with ledger.lock:
        limit = read_int(params, "limit", minimum=1) or 10
        pi_id, charge_id = read_str(params, "payment_intent"), read_str(params, "charge")
        found = [
            r.to_wire()
            for r in reversed(ledger.refunds.values())
            if pi_id in (None, r.payment_intent) and charge_id in (None, r.charge)
        ]
        return wire_list("/v1/refunds", found, limit)


def settle_refund(ledger: StripeLedger, refund_id: str, status: str, *, failure_reason: str = "unknown") -> WireObject:
    """Move a refund on to succeeded, failed or canceled, as the card network later would."""
    with ledger.lock:
        refund = _refund(ledger, refund_id)
        if status not in _SETTLED:
            raise invalid_request(f"A refund cannot move to {status!r}.", param="status")
        if refund.status == status:
            return refund.to_wire()
        if refund.status in ("failed", "canceled"):
            raise invalid_request(f"Refund {refund_id} is already {refund.status}.")
        refund.status = status
        if status != "succeeded":
            refund.failure_reason = failure_reason if status == "failed" else None
            ledger.charges[refund.charge].amount_refunded -= refund.amount  # money stays put
        ledger.publish("refund.updated", refund.to_wire(), None)
        if status == "failed":
            ledger.publish("refund.failed", refund.to_wire(), None)
        return refund.to_wire()
