"""Counter payments as the engine loads them: cash and card-present, for store (POS) orders."""

from __future__ import annotations

from collections.abc import Callable

from core.hookspecs import hookimpl
from core.hookspecs.payments import PaymentProcessor
from plugins.psp_counter.processor import CounterPayment

METHODS = ("cash", "card_present")


@hookimpl
def register_payment_processors(register: Callable[[PaymentProcessor], None]) -> None:
    for name in METHODS:
        register(CounterPayment(name))
