"""Checkouts, payments (the ledger), captures, refunds, and inbound PSP webhooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody

from api.auth import AGENT_OR_OPS, OPS, STOREFRONT, STOREFRONT_OR_OPS, principal_of
from api.deps import runtime_of
from api.problems import problem
from core.domain.ids import new_id
from core.domain.orders import OrderOut
from core.domain.payments import CaptureIn, ConfirmIn, MovementKind, PaymentOut, RefundIn, StartPaymentIn
from core.hookspecs import hookimpl
from core.hookspecs.app import RouteContribution
from core.hookspecs.payments import WebhookSignatureInvalid
from core.orders import views
from core.payments import checkouts, links, payments, psp_webhooks
from core.payments.checkouts import CheckoutIn, CheckoutOut, CompleteCheckout


def _key(request: Request[Any, Any, Any], action: str) -> str:
    """The movement's idempotency key: the request's Idempotency-Key, else a fresh one."""
    given = request.headers.get("idempotency-key")
    return f"api:{given}" if given else f"api:{action}:{new_id('req')}"


async def start_payment_for(request: Request[Any, Any, Any], order: OrderOut, provider: str | None) -> OrderOut:
    """Start the payment named in an order body. A provider outage does not lose the order:
    it is returned pending, and `POST /v1/orders/{id}/payments` starts the payment later."""
    if provider is None:
        return order
    try:
        await payments.start_payment(runtime_of(request), order.id, provider)
    except payments.ProviderDown:
        return order
    return await views.get_order(order.id)


@post("/v1/checkouts", guards=[STOREFRONT], tags=["payments"], summary="Start a checkout (for abandonment KPIs)")
async def start_checkout(request: Request[Any, Any, Any], data: JSONBody[CheckoutIn]) -> CheckoutOut:
    async with runtime_of(request).unit_of_work():
        return await checkouts.start_checkout(data)


@get("/v1/checkouts/{checkout_id:str}", guards=[STOREFRONT_OR_OPS], tags=["payments"], summary="Read a checkout")
async def get_checkout(checkout_id: FromPath[str]) -> CheckoutOut:
    return await checkouts.get_checkout(checkout_id)


@post(
    "/v1/checkouts/{checkout_id:str}/complete",
    guards=[STOREFRONT],
    tags=["payments"],
    summary="Turn a checkout into an order (body as POST /v1/orders minus lines)",
)
async def complete_checkout(
    request: Request[Any, Any, Any], checkout_id: FromPath[str], data: JSONBody[CompleteCheckout]
) -> OrderOut:
    runtime = runtime_of(request)
    async with runtime.unit_of_work():
        order = await checkouts.complete_checkout(runtime, checkout_id, data)
    return await start_payment_for(request, order, data.payment.provider if data.payment else None)


@post(
    "/v1/orders/{order_id:str}/payments",
    guards=[STOREFRONT],
    tags=["payments"],
    summary="Start (201) or resume (200) the order's payment with a provider → client_secret, redirect_url…",
)
async def start_payment(
    request: Request[Any, Any, Any], order_id: FromPath[str], data: JSONBody[StartPaymentIn]
) -> Response[PaymentOut]:
    """Safe to call again: while the order has an active payment with that provider, the same
    payment comes back (200) with its `client_secret`, so a storefront that lost it can finish
    paying; an active payment with another provider is a 409 naming it."""
    payment, created = await payments.start_or_resume_payment(runtime_of(request), order_id, data.provider)
    return Response(payment, status_code=201 if created else 200)


@post(
    "/v1/orders/{order_id:str}/payment-link",
    guards=[AGENT_OR_OPS],
    tags=["payments"],
    summary="A payment link (the PSP's hosted page) for an order awaiting payment: 201 new, 200 the open one",
    description="For an order taken without payment (a phone order): the customer pays on the PSP's page "
    "and the order is confirmed and routed when the PSP's webhook says so. Asked again while the link is "
    "open, the same link (200); after it expired, a new one. 409 when the order is paid already, is not "
    "awaiting payment, or has a payment the storefront started; 422 when the provider makes no links.",
)
async def payment_link(
    request: Request[Any, Any, Any], order_id: FromPath[str], data: JSONBody[links.PaymentLinkIn]
) -> Response[links.PaymentLinkOut]:
    link, created = await links.payment_link(runtime_of(request), order_id, data.provider, principal_of(request).name)
    return Response(link, status_code=201 if created else 200)


@get("/v1/payments/{payment_id:str}", guards=[OPS], tags=["payments"], summary="The payment's ledger and attempts")
async def get_payment(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> PaymentOut:
    return await payments.get_payment(runtime_of(request).db, payment_id)


@post(
    "/v1/payments/{payment_id:str}/confirm",
    guards=[STOREFRONT],
    tags=["payments"],
    status_code=200,
    summary="Confirm server-side with a payment method (call centre, MOTO); 402 when declined",
)
async def confirm_payment(
    request: Request[Any, Any, Any], payment_id: FromPath[str], data: JSONBody[ConfirmIn]
) -> PaymentOut:
    return await payments.confirm_payment(runtime_of(request), payment_id, data.payment_method)


@post(
    "/v1/payments/{payment_id:str}/capture",
    guards=[OPS],
    tags=["payments"],
    status_code=200,
    summary="Capture (all that is capturable, or `amount`)",
)
async def capture(
    request: Request[Any, Any, Any], payment_id: FromPath[str], data: JSONBody[CaptureIn | None] = None
) -> PaymentOut:
    amount = data.amount if data else None
    return await payments.move_money(
        runtime_of(request), payment_id, MovementKind.CAPTURE, amount, _key(request, "capture")
    )


@post(
    "/v1/payments/{payment_id:str}/refund",
    guards=[OPS],
    tags=["payments"],
    status_code=200,
    summary="Refund `amount` (never more than captured)",
)
async def refund(request: Request[Any, Any, Any], payment_id: FromPath[str], data: JSONBody[RefundIn]) -> PaymentOut:
    return await payments.move_money(
        runtime_of(request), payment_id, MovementKind.REFUND, data.amount, _key(request, "refund"), data.reason
    )


@post(
    "/v1/payments/{payment_id:str}/cancel",
    guards=[OPS],
    tags=["payments"],
    status_code=200,
    summary="Release what is authorized and not captured",
)
async def cancel(request: Request[Any, Any, Any], payment_id: FromPath[str]) -> PaymentOut:
    return await payments.move_money(
        runtime_of(request), payment_id, MovementKind.CANCEL, None, _key(request, "cancel")
    )


@post(
    "/v1/webhooks/psp/{provider:str}",
    opt={"exclude_from_auth": True},
    tags=["webhooks"],
    status_code=200,
    summary="Inbound PSP webhook: verified by the provider's signature, stored, processed by the worker",
)
async def psp_webhook(request: Request[Any, Any, Any], provider: FromPath[str]) -> Response[Any]:
    runtime = runtime_of(request)
    if provider not in runtime.host.payment_processors:
        return problem(404, f"no payment provider {provider} is installed")
    body = await request.body()
    try:
        new = await psp_webhooks.receive(runtime, provider, dict(request.headers), body)
    except WebhookSignatureInvalid as exc:
        return problem(401, f"webhook signature rejected: {exc}", slug="webhook-signature")
    return Response({"received": True, "duplicate": not new})


@hookimpl
def register_routes(register: Callable[[RouteContribution], None]) -> None:
    for handler in (
        start_checkout,
        get_checkout,
        complete_checkout,
        start_payment,
        payment_link,
        get_payment,
        confirm_payment,
        capture,
        refund,
        cancel,
        psp_webhook,
    ):
        register(handler)
