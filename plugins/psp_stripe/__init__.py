"""Stripe, behind the payment-processor hooks, through the official `stripe` SDK (async over
httpx): PaymentIntents with manual capture, partial capture, refunds, cancel, Stripe idempotency
keys derived from ours, signed webhooks read into a typed model.

Settings: EMPORIO_STRIPE_API_KEY, EMPORIO_STRIPE_WEBHOOK_SECRET, EMPORIO_STRIPE_API_BASE
(default https://api.stripe.com; the simulator's address in tests and the demo),
EMPORIO_STRIPE_TIMEOUT_S (default 15). Without an API key the plugin registers nothing (an
order naming "stripe" is refused with 422).
"""

from plugins.psp_stripe.processor import StripeProcessor

__all__ = ["StripeProcessor"]
