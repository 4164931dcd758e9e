"""Money: integer minor units with an ISO 4217 currency. Never floats."""

from __future__ import annotations

import msgspec


class Money(msgspec.Struct, frozen=True):
    amount: int
    currency: str

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def times(self, qty: int) -> Money:
        return Money(self.amount * qty, self.currency)
