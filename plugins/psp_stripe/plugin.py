"""Registers the Stripe processor when an API key is configured, and declares the Stripe
settings (they are the plugin's, not the core's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.hookspecs import hookimpl
from core.hookspecs.payments import PaymentProcessor
from core.settings import SettingSpec, read
from plugins.psp_stripe.processor import StripeProcessor

API_KEY: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_STRIPE_API_KEY",
    type=str,
    default=None,
    doc="Stripe secret key (`sk_…`); unset, the Stripe plugin registers nothing",
    secret=True,
)
WEBHOOK_SECRET: SettingSpec[str | None] = SettingSpec(
    name="EMPORIO_STRIPE_WEBHOOK_SECRET",
    type=str,
    default=None,
    doc="signing secret of the Stripe webhook endpoint (`whsec_…`)",
    secret=True,
)
API_BASE: SettingSpec[str] = SettingSpec(
    name="EMPORIO_STRIPE_API_BASE",
    type=str,
    default="https://api.stripe.com",
    doc="Stripe API address (the simulator's in tests and the demo)",
)
TIMEOUT_S: SettingSpec[float] = SettingSpec(
    name="EMPORIO_STRIPE_TIMEOUT_S", type=float, default=15.0, doc="seconds before a Stripe call times out"
)
SETTINGS = (API_KEY, WEBHOOK_SECRET, API_BASE, TIMEOUT_S)


@hookimpl
def register_settings(register: Callable[[SettingSpec[Any]], None]) -> None:
    for spec in SETTINGS:
        register(spec)


@hookimpl
def register_payment_processors(register: Callable[[PaymentProcessor], None]) -> None:
    api_key = read(API_KEY)
    if not api_key:
        return
    register(
        StripeProcessor(
            api_key=api_key,
            webhook_secret=read(WEBHOOK_SECRET),
            api_base=read(API_BASE),
            timeout_s=read(TIMEOUT_S),
        )
    )
