"""The published content policy for product reviews: the only reasons a review may be rejected,
each a code with its explanation in Greek and English (`GET /v1/reviews/content-policy`, public).

A review is never rejected for being negative, for its rating or for criticising the shop: that
is why there is no such code, and why a rejection must name one of these."""

from __future__ import annotations

import msgspec

PRINCIPLE = {
    "el": "Δημοσιεύουμε κάθε κριτική πελάτη που παρέλαβε το προϊόν, θετική ή αρνητική. Απορρίπτουμε μόνο "
    "κριτικές που παραβιάζουν έναν από τους παρακάτω κανόνες, και λέμε ποιον.",
    "en": "We publish every review by a customer who received the product, positive or negative. We reject "
    "only reviews that break one of the rules below, and say which one.",
}


class ContentRule(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    title: dict[str, str]
    description: dict[str, str]


RULES: tuple[ContentRule, ...] = (
    ContentRule(
        code="offensive",
        title={"el": "Προσβλητικό περιεχόμενο", "en": "Offensive content"},
        description={
            "el": "Ύβρεις, απειλές, ρητορική μίσους ή παρενόχληση προς οποιονδήποτε.",
            "en": "Insults, threats, hate speech or harassment aimed at anyone.",
        },
    ),
    ContentRule(
        code="personal_data",
        title={"el": "Προσωπικά δεδομένα", "en": "Personal data"},
        description={
            "el": "Τηλέφωνα, διευθύνσεις, email ή άλλα στοιχεία που ταυτοποιούν πρόσωπα.",
            "en": "Phone numbers, addresses, email addresses or anything else identifying a person.",
        },
    ),
    ContentRule(
        code="spam",
        title={"el": "Διαφήμιση ή spam", "en": "Advertising or spam"},
        description={
            "el": "Διαφημίσεις, σύνδεσμοι προς άλλα καταστήματα, επαναλαμβανόμενο κείμενο.",
            "en": "Advertising, links to other shops, repeated text.",
        },
    ),
    ContentRule(
        code="off_topic",
        title={"el": "Εκτός θέματος", "en": "Off topic"},
        description={
            "el": "Δεν αφορά το προϊόν (π.χ. μόνο την παράδοση ή μια παραγγελία): το διαβιβάζουμε στην εξυπηρέτηση.",
            "en": "Not about the product (e.g. only about delivery or an order): we pass it on to customer service.",
        },
    ),
    ContentRule(
        code="conflict_of_interest",
        title={"el": "Σύγκρουση συμφερόντων", "en": "Conflict of interest"},
        description={
            "el": "Γραμμένο από προσωπικό, προμηθευτή ή ανταγωνιστή, ή με αντάλλαγμα.",
            "en": "Written by staff, a supplier or a competitor, or in exchange for something.",
        },
    ),
    ContentRule(
        code="illegal",
        title={"el": "Παράνομο περιεχόμενο", "en": "Illegal content"},
        description={
            "el": "Περιεχόμενο που παραβιάζει τον νόμο ή δικαιώματα τρίτων.",
            "en": "Content that breaks the law or someone else's rights.",
        },
    ),
)

CODES = frozenset(rule.code for rule in RULES)


class ContentPolicyOut(msgspec.Struct, frozen=True, kw_only=True):
    principle: dict[str, str]
    reasons: list[ContentRule]


def published() -> ContentPolicyOut:
    return ContentPolicyOut(principle=PRINCIPLE, reasons=list(RULES))
