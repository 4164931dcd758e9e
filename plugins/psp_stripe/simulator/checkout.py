"""Checkout Sessions in the Stripe simulator: create, retrieve, expire, and the hosted page.

Stripe's hosted page is served by the simulator at the session's `url`
(`/_simulator/checkout/{id}`): a small HTML form whose "Pay" button — or a test calling
`pay_checkout_session` — creates the session's PaymentIntent, confirms it with a test card, and
completes the session, publishing what Stripe publishes: `payment_intent.created`,
`charge.succeeded`, `payment_intent.succeeded` (or `amount_capturable_updated` with manual
capture), then `checkout.session.completed`. As in Stripe (API 2022-08-01 and later), the
PaymentIntent exists only once the customer pays.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from plugins.psp_stripe.simulator.confirmation import CAPTURE_METHODS, confirm
from plugins.psp_stripe.simulator.ledger import RequestContext, StripeLedger
from plugins.psp_stripe.simulator.objects import PaymentIntentRecord
from plugins.psp_stripe.simulator.params import (
    RETRIEVE_PARAMS,
    apply_metadata,
    read_choice,
    read_hash,
    read_int,
    read_str,
    reject_unknown,
)
from plugins.psp_stripe.simulator.wire import (
    FormValue,
    Params,
    WireObject,
    format_money,
    invalid_request,
    new_id,
    now,
    resource_missing,
)

DEFAULT_LIFETIME_S = 24 * 3600  # Stripe's default; `expires_at` may ask for 30 minutes to 24 hours
SESSION_PARAMS = frozenset(
    {
        "cancel_url",
        "client_reference_id",
        "currency",
        "customer",
        "customer_email",
        "expand",
        "expires_at",
        "line_items",
        "locale",
        "metadata",
        "mode",
        "payment_intent_data",
        "payment_method_types",
        "success_url",
    }
)
_INTENT_DATA = frozenset({"capture_method", "description", "metadata", "receipt_email", "setup_future_usage"})


@dataclass(slots=True)
class LineItem:
    name: str
    unit_amount: int
    quantity: int


@dataclass(slots=True)
class CheckoutSessionRecord:
    currency: str
    line_items: list[LineItem]
    success_url: str
    cancel_url: str | None
    expires_at: int
    capture_method: str = "automatic"
    metadata: dict[str, str] = field(default_factory=dict)
    intent_metadata: dict[str, str] = field(default_factory=dict)
    intent_description: str | None = None
    client_reference_id: str | None = None
    customer_email: str | None = None
    status: str = "open"  # open | complete | expired
    payment_status: str = "unpaid"
    payment_intent: str | None = None
    id: str = field(default_factory=lambda: "cs_test_" + new_id("x")[2:])
    created: int = field(default_factory=now)
    base_url: str = "http://127.0.0.1"

    @property
    def amount_total(self) -> int:
        return sum(line.unit_amount * line.quantity for line in self.line_items)

    @property
    def url(self) -> str | None:
        return f"{self.base_url}/_simulator/checkout/{self.id}" if self.status == "open" else None

    def to_wire(self) -> WireObject:
        return {
            "id": self.id,
            "object": "checkout.session",
            "amount_subtotal": self.amount_total,
            "amount_total": self.amount_total,
            "cancel_url": self.cancel_url,
            "client_reference_id": self.client_reference_id,
            "created": self.created,
            "currency": self.currency,
            "customer": None,
            "customer_email": self.customer_email,
            "expires_at": self.expires_at,
            "livemode": False,
            "metadata": dict(self.metadata),
            "mode": "payment",
            "payment_intent": self.payment_intent,
            "payment_method_types": ["card"],
            "payment_status": self.payment_status,
            "status": self.status,
            "success_url": self.success_url,
            "url": self.url,
        }


def _line_items(params: Params) -> tuple[str, list[LineItem]]:
    raw = params.get("line_items")
    if not isinstance(raw, list) or not raw:
        raise invalid_request("Missing required param: line_items.", param="line_items", code="parameter_missing")
    currencies: set[str] = set()
    items: list[LineItem] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise invalid_request(f"Invalid object: line_items[{i}]", param=f"line_items[{i}]")
        data = read_hash(entry, "price_data")
        if data is None:
            raise invalid_request(
                "The simulator supports only line_items with price_data.", param=f"line_items[{i}][price_data]"
            )
        product = read_hash(data, "product_data") or {}
        currencies.add((read_str(data, "currency", required=True) or "").lower())
        items.append(
            LineItem(
                name=read_str(product, "name", required=True) or "",
                unit_amount=read_int(data, "unit_amount", required=True, minimum=0) or 0,
                quantity=read_int(entry, "quantity", required=True, minimum=1) or 1,
            )
        )
    if len(currencies) != 1:
        raise invalid_request("All line_items must share one currency.", param="line_items")
    return currencies.pop(), items


def create_session(ledger: StripeLedger, params: Params, ctx: RequestContext) -> WireObject:
    reject_unknown(params, SESSION_PARAMS)
    if read_str(params, "mode", required=True) != "payment":
        raise invalid_request("The simulator supports only mode=payment.", param="mode")
    currency, items = _line_items(params)
    intent = read_hash(params, "payment_intent_data") or {}
    reject_unknown(intent, _INTENT_DATA)
    created = now()
    expires_at = read_int(params, "expires_at") or created + DEFAULT_LIFETIME_S
    if not created + 1800 <= expires_at <= created + DEFAULT_LIFETIME_S:
        raise invalid_request("expires_at must be 30 minutes to 24 hours from now.", param="expires_at")
    with ledger.lock:
        session = CheckoutSessionRecord(
            currency=currency,
            line_items=items,
            success_url=read_str(params, "success_url", required=True) or "",
            cancel_url=read_str(params, "cancel_url"),
            expires_at=expires_at,
            capture_method=read_choice(intent, "capture_method", CAPTURE_METHODS) or "automatic",
            metadata=apply_metadata({}, params),
            intent_metadata=apply_metadata({}, intent),
            intent_description=read_str(intent, "description"),
            client_reference_id=read_str(params, "client_reference_id"),
            customer_email=read_str(params, "customer_email"),
            created=created,
            base_url=ctx.base_url,
        )
        ledger.checkout_sessions[session.id] = session
        return session.to_wire()


def _session(ledger: StripeLedger, session_id: str) -> CheckoutSessionRecord:
    session = ledger.checkout_sessions.get(session_id)
    if session is None:
        raise resource_missing("checkout.session", session_id)
    return session


def retrieve_session(ledger: StripeLedger, session_id: str, params: Params) -> WireObject:
    reject_unknown(params, RETRIEVE_PARAMS)
    with ledger.lock:
        return _session(ledger, session_id).to_wire()


def expire_session(ledger: StripeLedger, session_id: str, params: Params, ctx: RequestContext | None) -> WireObject:
    """`POST /v1/checkout/sessions/{id}/expire` (and the lifetime running out, in the demo): 200
    with the session `expired`; 400 `invalid_request_error` for a session already complete or
    expired, as Stripe answers."""
    reject_unknown(params, frozenset({"expand"}))
    with ledger.lock:
        session = _session(ledger, session_id)
        if session.status != "open":  # Stripe's words; a state error is saved under the idempotency key
            raise invalid_request(
                'Only Checkout Sessions with a status in ["open"] can be expired. '
                f"This Checkout Session has a status of `{session.status}`.",
                saved=True,
            )
        session.status = "expired"
        ledger.publish("checkout.session.expired", session.to_wire(), ctx)
        return session.to_wire()


def pay_session(ledger: StripeLedger, session_id: str, card: str = "pm_card_visa") -> WireObject:
    """The customer pays on the hosted page with a test card (a `pm_card_*` token). A declined
    card leaves the session open (raises StripeAPIError, as the page would show)."""
    with ledger.lock:
        session = _session(ledger, session_id)
        if session.status != "open" or session.expires_at < now():
            raise invalid_request(f"Checkout Session {session_id} is {session.status}; it cannot be paid.")
        ctx = RequestContext(new_id("req"), None, session.base_url)
        pi = PaymentIntentRecord(
            amount=session.amount_total,
            currency=session.currency,
            capture_method=session.capture_method,
            payment_method_types=["card"],
            automatic_payment_methods=False,
            metadata=dict(session.intent_metadata),
            description=session.intent_description,
            receipt_email=session.customer_email,
        )
        ledger.payment_intents[pi.id] = pi
        ledger.publish("payment_intent.created", pi.to_wire(), ctx)
        payment: dict[str, FormValue] = {"payment_method": card}
        confirm(ledger, pi, payment, ctx)  # a decline raises: the session stays open for another card
        if pi.status not in ("succeeded", "requires_capture"):
            raise invalid_request(f"The card left PaymentIntent {pi.id} {pi.status}; the simulator cannot go on.")
        session.payment_intent = pi.id
        session.status = "complete"
        session.payment_status = "paid" if pi.status == "succeeded" else "unpaid"
        ledger.publish("checkout.session.completed", session.to_wire(), ctx)
        return session.to_wire()


def hosted_page(ledger: StripeLedger, session_id: str) -> str:
    """The hosted page: what is being paid, and a button that pays with the Visa test card."""
    with ledger.lock:
        session = _session(ledger, session_id)
        rows = "".join(
            f"<tr><td>{html.escape(line.name)}</td><td>{line.quantity}</td>"
            f"<td>{html.escape(format_money(line.unit_amount * line.quantity, session.currency))}</td></tr>"
            for line in session.line_items
        )
        total = html.escape(format_money(session.amount_total, session.currency))
        if session.status == "open":
            action = (
                f'<form method="post" action="/_simulator/checkout/{session.id}/pay">'
                '<label>Test card <select name="card"><option value="pm_card_visa">Visa 4242 (approves)</option>'
                '<option value="pm_card_chargeDeclined">4000 0000 0000 0002 (declines)</option></select></label> '
                f"<button>Pay {total}</button></form>"
            )
            if session.cancel_url:
                action += f'<p><a href="{html.escape(session.cancel_url)}">Cancel and go back</a></p>'
        else:
            action = f"<p>This session is {html.escape(session.status)}.</p>"
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Checkout (Stripe simulator)</title>'
        "</head><body><h1>Checkout</h1><p>Stripe simulator: no real money moves.</p>"
        f"<table><tr><th>Item</th><th>Qty</th><th>Amount</th></tr>{rows}</table><p>Total {total}</p>{action}"
        "</body></html>"
    )


def after_payment_url(ledger: StripeLedger, session_id: str) -> str:
    with ledger.lock:
        return _session(ledger, session_id).success_url


__all__ = [
    "CheckoutSessionRecord",
    "create_session",
    "expire_session",
    "hosted_page",
    "pay_session",
    "retrieve_session",
]
