"""Stripe's documented test cards and `pm_card_*` tokens, and what each does when confirmed.

Numbers and tokens follow https://docs.stripe.com/testing; each card decides the outcome of a
confirmation (approve, decline with a code, or ask for 3-D Secure) just as in Stripe test mode.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from plugins.psp_stripe.simulator.wire import StripeAPIError


class CardBehaviour(enum.Enum):
    """What the issuer does with an authorisation on this card."""

    APPROVE = "approve"
    DECLINE = "decline"
    AUTHENTICATE = "authenticate"  # 3-D Secure is required for every one-time payment


@dataclass(frozen=True, slots=True)
class TestCard:
    """One test card: the card details Stripe reports and the outcome it forces."""

    number: str
    brand: str
    funding: str = "credit"
    country: str = "US"
    behaviour: CardBehaviour = CardBehaviour.APPROVE
    error_code: str | None = None  # `card_declined`, `expired_card`, …
    decline_code: str | None = None
    message: str | None = None

    __test__ = False  # not a pytest test class, despite the name

    @property
    def last4(self) -> str:
        return self.number[-4:]

    @property
    def fingerprint(self) -> str:
        # Stripe's fingerprint is stable per card number; a hash gives the same property.
        return hashlib.sha256(self.number.encode()).hexdigest()[:16]


_DECLINED = "Your card was declined."


def _decline(number: str, decline_code: str, message: str = _DECLINED, *, code: str = "card_declined") -> TestCard:
    return TestCard(
        number,
        "visa",
        behaviour=CardBehaviour.DECLINE,
        error_code=code,
        decline_code=decline_code,
        message=message,
    )


CARDS_BY_NUMBER: dict[str, TestCard] = {
    card.number: card
    for card in (
        TestCard("4242424242424242", "visa"),
        TestCard("4000056655665556", "visa", funding="debit"),
        TestCard("5555555555554444", "mastercard"),
        TestCard("5200828282828210", "mastercard", funding="debit"),
        TestCard("378282246310005", "amex"),
        TestCard("6011111111111117", "discover"),
        # Country cards; used for the shop's own market in KPIs.
        TestCard("4000002760000016", "visa", country="DE"),
        TestCard("4000003000000030", "visa", country="GR"),
        # Charge succeeds; in real Stripe a dispute follows, which this simulator does not model.
        TestCard("4000000000000259", "visa"),
        _decline("4000000000000002", "generic_decline"),
        _decline("4000000000009995", "insufficient_funds", "Your card has insufficient funds."),
        _decline("4000000000009987", "lost_card"),
        _decline("4000000000009979", "stolen_card"),
        _decline("4000000000000069", "expired_card", "Your card has expired.", code="expired_card"),
        _decline(
            "4000000000000127",
            "incorrect_cvc",
            "Your card's security code is incorrect.",
            code="incorrect_cvc",
        ),
        _decline(
            "4000000000000119",
            "processing_error",
            "An error occurred while processing your card. Try again in a little bit.",
            code="processing_error",
        ),
        TestCard("4000002760003184", "visa", behaviour=CardBehaviour.AUTHENTICATE),
        TestCard("4000002500003155", "visa", behaviour=CardBehaviour.AUTHENTICATE),
        TestCard("4000000000003220", "visa", behaviour=CardBehaviour.AUTHENTICATE),
    )
}

CARDS_BY_TOKEN: dict[str, TestCard] = {
    token: CARDS_BY_NUMBER[number]
    for token, number in {
        "pm_card_visa": "4242424242424242",
        "pm_card_visa_debit": "4000056655665556",
        "pm_card_mastercard": "5555555555554444",
        "pm_card_mastercard_debit": "5200828282828210",
        "pm_card_amex": "378282246310005",
        "pm_card_discover": "6011111111111117",
        "pm_card_de": "4000002760000016",
        "pm_card_gr": "4000003000000030",
        "pm_card_createDispute": "4000000000000259",
        "pm_card_chargeDeclined": "4000000000000002",
        "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
        "pm_card_chargeDeclinedLostCard": "4000000000009987",
        "pm_card_chargeDeclinedStolenCard": "4000000000009979",
        "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
        "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
        "pm_card_chargeDeclinedProcessingError": "4000000000000119",
        "pm_card_authenticationRequired": "4000002760003184",
        "pm_card_authenticationRequiredOnSetup": "4000002500003155",
        "pm_card_threeDSecure2Required": "4000000000003220",
    }.items()
}


def _luhn_ok(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def card_for_number(number: str) -> TestCard:
    """The test card for a raw number; any other valid number approves, like Stripe test mode."""
    number = number.replace(" ", "")
    known = CARDS_BY_NUMBER.get(number)
    if known is not None:
        return known
    if not (number.isdigit() and 12 <= len(number) <= 19 and _luhn_ok(number)):
        raise StripeAPIError(
            402,
            "card_error",
            "Your card number is incorrect.",
            code="incorrect_number",
            param="number",
        )
    if number.startswith(("34", "37")):
        brand = "amex"
    elif number.startswith("5") or number.startswith("2"):
        brand = "mastercard"
    elif number.startswith("6"):
        brand = "discover"
    else:
        brand = "visa"
    return TestCard(number, brand)
