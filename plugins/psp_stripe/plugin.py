"""Registers the Stripe processor when an API key is configured."""

from __future__ import annotations

import os
from collections.abc import Callable

from core.hookspecs import hookimpl
from core.hookspecs.payments import PaymentProcessor
from core.settings import load_settings
from plugins.psp_stripe.processor import StripeProcessor


@hookimpl
def register_payment_processors(register: Callable[[PaymentProcessor], None]) -> None:
    settings = load_settings()
    if not settings.stripe_api_key:
        return
    register(
        StripeProcessor(
            api_key=settings.stripe_api_key,
            webhook_secret=settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
            timeout_s=float(os.environ.get("EMPORIO_STRIPE_TIMEOUT_S", "15")),
        )
    )
