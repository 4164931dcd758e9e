"""Stripe's API through the official SDK (`stripe.StripeClient`, async over httpx), with our
idempotency keys, a pinned API version, and Stripe's errors mapped onto the PSP hook's errors.

Retries: the SDK makes none (`max_network_retries=0`), on purpose. Captures, refunds and cancels
are retried by the core's money-movement worker (backoff, a count of tries, the last error on
the movement, a dead letter with its reason in the order's timeline), webhook processing by the
outbox; SDK retries underneath would hide those tries from ops and multiply the time one try may
take (each retry waits out its own timeout). Starts and confirmations answer a customer who is
waiting, so a failure is reported at once. Every call carries the idempotency key the core
derived for it, the same on each of the core's retries, so Stripe replays its first answer
instead of moving money twice.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx
import msgspec
import stripe

from core.hookspecs.payments import PaymentDeclined, ProviderRejected, ProviderUnavailable

# The version the plugin's model (resources.py) is written and tested for, sent on every request.
# Keep it equal to the API version of the shop's webhook endpoint: events are rendered in the
# endpoint's version, and requests and events must describe objects the same way.
API_VERSION = "2024-06-20"
MAX_NETWORK_RETRIES = 0  # see the module docstring
MAX_IDEMPOTENCY_KEY = 255  # Stripe's limit

T = TypeVar("T")


class StripeApi:
    """One `stripe.StripeClient` speaking to `base_url` (Stripe, or the simulator in tests and the
    demo) over an httpx connection pool of its own."""

    def __init__(
        self,
        api_key: str,
        base_url: str = "https://api.stripe.com",
        timeout_s: float = 15.0,
        *,
        http_client: stripe.HTTPXClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http_client = http_client or stripe.HTTPXClient(
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))
        )
        self.sdk = stripe.StripeClient(
            api_key,
            stripe_version=API_VERSION,
            base_addresses={"api": self.base_url},
            max_network_retries=MAX_NETWORK_RETRIES,
            http_client=self.http_client,
        )

    async def aclose(self) -> None:
        await self.http_client.close_async()  # type: ignore[no-untyped-call]  # unannotated in stripe

    async def call(self, what: str, request: Awaitable[Any], into: type[T]) -> T:
        """Await one SDK call (`what` names it in errors: "POST /v1/refunds") and read its answer
        as `into`; every failure leaves as one of the PSP hook's errors."""
        try:
            answer = await request
        except stripe.StripeError as exc:
            raise error_for(exc, what) from exc
        body = answer.to_dict() if isinstance(answer, stripe.StripeObject) else answer
        try:
            return msgspec.convert(body, into)
        except msgspec.ValidationError as exc:
            raise ProviderUnavailable(f"Stripe answered {what} with an unexpected object: {exc}") from exc


def request_options(idempotency_key: str) -> stripe.RequestOptions:
    """The core's key, as is (cut to Stripe's limit): the same movement always sends the same key."""
    return {"idempotency_key": idempotency_key[:MAX_IDEMPOTENCY_KEY]}


def error_for(exc: stripe.StripeError, what: str) -> Exception:
    """Declines are final, Stripe's trouble and the network's are retried, our mistakes are not."""
    status = exc.http_status or 0
    error = _error_body(exc)
    kind, code = error.get("type"), error.get("code") or exc.code
    message = error.get("message") or exc.user_message or f"HTTP {status}"
    if isinstance(exc, stripe.CardError) or kind == "card_error":
        intent = error.get("payment_intent")
        # The failed charge names this try (the core records the decline under it): the
        # `charge.failed` webhook then merges with it, and a second decline is a second try.
        return PaymentDeclined(
            message,
            decline_code=error.get("decline_code") or code,
            psp_reference=error.get("charge") or (intent.get("id") if isinstance(intent, dict) else None),
        )
    if isinstance(exc, stripe.APIConnectionError):
        if isinstance(exc.__cause__, httpx.TimeoutException):
            return ProviderUnavailable(f"Stripe timed out on {what}")
        return ProviderUnavailable(f"Stripe unreachable on {what}: {exc.__cause__ or message}")
    if status == 429 or status >= 500:
        return ProviderUnavailable(f"Stripe answered {status} on {what}: {message}")
    if status < 400:  # a 2xx the SDK could not read (cut short, not JSON)
        return ProviderUnavailable(f"Stripe sent an unreadable body (HTTP {status}) on {what}")
    if status == 409 and kind == "idempotency_error":
        return ProviderUnavailable(f"Stripe is still processing the same request: {message}")
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return ProviderRejected(
            f"Stripe refused the API key on {what} ({status}): {message}; check EMPORIO_STRIPE_API_KEY"
        )
    detail = " ".join([str(status), "/".join(str(part) for part in (kind, code) if part)])
    param = f", parameter {error['param']}" if error.get("param") else ""
    return ProviderRejected(f"Stripe refused {what} ({detail.strip()}{param}): {message}")


def _error_body(exc: stripe.StripeError) -> dict[str, Any]:
    body = exc.json_body
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}
