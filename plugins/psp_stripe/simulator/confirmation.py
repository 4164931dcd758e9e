"""Confirming a PaymentIntent in the Stripe simulator: the card decides, as in test mode.

An approving card authorises (and, with automatic capture, captures); a declining one leaves a
failed charge and a 402 `card_error`; a 3-D Secure card stops at `requires_action` until the
test (or the demo's "issuer page") authenticates.
"""

from __future__ import annotations

from plugins.psp_stripe.simulator.cards import CardBehaviour
from plugins.psp_stripe.simulator.ledger import RequestContext, StripeLedger
from plugins.psp_stripe.simulator.objects import CaptureRecord, PaymentIntentRecord
from plugins.psp_stripe.simulator.params import (
    read_bool,
    read_choice,
    read_expand,
    read_str,
)
from plugins.psp_stripe.simulator.wire import (
    Params,
    StripeAPIError,
    WireObject,
    invalid_request,
    new_id,
    now,
)

CAPTURE_METHODS = ("automatic", "automatic_async", "manual")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
_AUTH_FAILED = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data "
    "or a new PaymentMethod to attempt to fulfill this PaymentIntent again."
)


def unexpected_state(pi: PaymentIntentRecord, verb: str, allowed: tuple[str, ...]) -> StripeAPIError:
    """Stripe's `payment_intent_unexpected_state`, which carries the PaymentIntent as it is."""
    message = (
        f"You cannot {verb} this PaymentIntent because it has a status of {pi.status}. Only a "
        f"PaymentIntent with one of the following statuses may be {verb}ed: {', '.join(allowed)}."
    )
    if verb == "capture":
        message = (
            f"This PaymentIntent could not be captured because it has a status of {pi.status}. "
            "Only a PaymentIntent with one of the following statuses may be captured: "
            "requires_capture."
        )
    elif verb == "confirm" and pi.status == "succeeded":
        message = (
            "You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed."
        )
    return invalid_request(
        message,
        code="payment_intent_unexpected_state",
        saved=True,
        extra={"payment_intent": pi.to_wire()},
    )


def require_return_url(pi: PaymentIntentRecord, params: Params) -> None:
    """Stripe refuses a server-side confirm that may pick a redirect method and has no return."""
    if pi.automatic_payment_methods and read_str(params, "return_url") is None:
        raise invalid_request(
            "This PaymentIntent is configured to accept payment methods enabled in your "
            "Dashboard. Because some of these payment methods might redirect your customer off "
            "of your page, you must provide a `return_url`. If you don't want to accept "
            "redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` "
            "and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup "
            "Intents and Payment Intents."
        )


def confirm(ledger: StripeLedger, pi: PaymentIntentRecord, params: Params, ctx: RequestContext) -> WireObject:
    """Confirm with the given (or attached) payment method; the caller holds the ledger lock."""
    if pi.status not in CONFIRMABLE:
        raise unexpected_state(pi, "confirm", CONFIRMABLE)
    require_return_url(pi, params)
    pi.capture_method = read_choice(params, "capture_method", CAPTURE_METHODS) or pi.capture_method
    method = ledger.resolve_payment_method(params, pi.customer) or pi.payment_method
    if method is None:
        raise invalid_request(
            "You cannot confirm this PaymentIntent because it's missing a payment method. You "
            "can either update the PaymentIntent with a payment method and then confirm it "
            "again, or confirm it again directly with a payment method.",
            code="payment_intent_unexpected_state",
            extra={"payment_intent": pi.to_wire()},
        )
    pi.payment_method = method
    pi.last_payment_error = None
    card = method.card
    # Newer API versions also spell off_session as "one_off" / "recurring".
    off_session = read_str(params, "off_session") in ("true", "one_off", "recurring") or bool(
        read_bool(params, "error_on_requires_action")
    )
    if card.behaviour is CardBehaviour.APPROVE:
        authorise(ledger, pi, ctx, three_d_secure=False)
    elif card.behaviour is CardBehaviour.AUTHENTICATE and not off_session:
        pi.status = "requires_action"
        pi.next_action = _next_action(pi, ctx, read_str(params, "return_url"))
        ledger.publish("payment_intent.requires_action", pi.to_wire(), ctx)
    elif card.behaviour is CardBehaviour.AUTHENTICATE:
        raise decline(
            ledger,
            pi,
            ctx,
            code="authentication_required",
            decline_code="authentication_required",
            message="Your card was declined. This transaction requires authentication.",
        )
    else:
        raise decline(
            ledger,
            pi,
            ctx,
            code=card.error_code or "card_declined",
            decline_code=card.decline_code,
            message=card.message or "Your card was declined.",
        )
    return pi.to_wire(read_expand(params))


def _next_action(pi: PaymentIntentRecord, ctx: RequestContext, return_url: str | None) -> WireObject:
    # The simulator serves the "issuer page": opening it completes 3-D Secure.
    url = f"{ctx.base_url}/_simulator/payment_intents/{pi.id}/authenticate?outcome=succeed"
    if return_url is not None:
        return {
            "type": "redirect_to_url",
            "redirect_to_url": {"return_url": return_url, "url": url},
        }
    return {
        "type": "use_stripe_sdk",
        "use_stripe_sdk": {
            "type": "three_d_secure_redirect",
            "stripe_js": url,
            "source": new_id("src"),
        },
    }


def authorise(
    ledger: StripeLedger,
    pi: PaymentIntentRecord,
    ctx: RequestContext | None,
    *,
    three_d_secure: bool,
) -> None:
    """The issuer approved: hold the funds (manual capture) or take them at once."""
    charge = ledger.new_charge(pi, "succeeded")
    charge.three_d_secure = three_d_secure
    pi.next_action = None
    if pi.capture_method == "manual":
        pi.status = "requires_capture"
        pi.amount_capturable = pi.amount
        ledger.publish("charge.succeeded", charge.to_wire(), ctx)
        ledger.publish("payment_intent.amount_capturable_updated", pi.to_wire(), ctx)
        return
    charge.captured = True
    charge.amount_captured = pi.amount
    charge.balance_transaction = new_id("txn")
    pi.status = "succeeded"
    pi.amount_received = pi.amount
    request_id, key = (ctx.request_id, ctx.idempotency_key) if ctx else ("", None)
    pi.captures.append(CaptureRecord(pi.amount, now(), request_id, key))
    ledger.publish("charge.succeeded", charge.to_wire(), ctx)
    ledger.publish("payment_intent.succeeded", pi.to_wire(), ctx)


def decline(
    ledger: StripeLedger,
    pi: PaymentIntentRecord,
    ctx: RequestContext | None,
    *,
    code: str,
    decline_code: str | None,
    message: str,
    error_type: str = "card_error",
) -> StripeAPIError:
    """Record a failed charge, reset the PaymentIntent, and build Stripe's error for it."""
    method = pi.payment_method
    assert method is not None
    charge = ledger.new_charge(pi, "failed")
    charge.failure_code = code
    charge.failure_message = message
    param = "cvc" if code == "incorrect_cvc" else None
    pi.last_payment_error = {
        "charge": charge.id,
        "code": code,
        "decline_code": decline_code,
        "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}",
        "message": message,
        "param": param,
        "payment_method": method.to_wire(),
        "type": error_type,
    }
    pi.status = "requires_payment_method"
    pi.payment_method = None  # Stripe detaches the failed method; it lives on in the error
    pi.next_action = None
    ledger.publish("charge.failed", charge.to_wire(), ctx)
    ledger.publish("payment_intent.payment_failed", pi.to_wire(), ctx)
    return StripeAPIError(
        402 if error_type == "card_error" else 400,
        error_type,
        message,
        code=code,
        decline_code=decline_code,
        param=param,
        extra={
            "charge": charge.id,
            "payment_intent": pi.to_wire(),
            "payment_method": method.to_wire(),
        },
    )


def authenticate(ledger: StripeLedger, pi_id: str, *, succeed: bool) -> WireObject:
    """Finish the customer's 3-D Secure step (what the browser would do in real life)."""
    with ledger.lock:
        pi = ledger.payment_intent(pi_id)
        if pi.status != "requires_action":
            raise invalid_request(
                f"PaymentIntent {pi_id} is {pi.status}; only requires_action can authenticate.",
                code="payment_intent_unexpected_state",
            )
        if succeed:
            authorise(ledger, pi, None, three_d_secure=True)
        else:
            decline(
                ledger,
                pi,
                None,
                code="payment_intent_authentication_failure",
                decline_code=None,
                message=_AUTH_FAILED,
                error_type="invalid_request_error",
            )
        return pi.to_wire()
