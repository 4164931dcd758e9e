"""The packaging policy document ops edit (`/v1/policies/packaging`): boxes, thank-you notes,
seasonal editions, value-threshold gifts and reusable packaging, and the shipped default.

Single-field bounds are `msgspec.Meta` constraints, so a refusal names the exact field
(`$.boxes[0].length_mm`); rules across fields raise `ValueError` from `__post_init__`, which
msgspec reports as a ValidationError at the enclosing object, so those messages name the field.
Every part is frozen and refuses unknown fields, so a typo never silently does nothing.
"""

from __future__ import annotations

import calendar
import enum
from datetime import date
from typing import Annotated

import msgspec
from msgspec import Meta

OVERSIZE = "OVERSIZE"
"""The pseudo-box of units that fit no box of the catalogue; reserved, no box may use it."""

FALLBACK_LOCALES = ("el", "en")
"""Locales tried, in order, when a text is missing in the customer's own locale."""

Code = Annotated[
    str,
    Meta(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$",
        description="A short identifier printed for the packer: letters, digits and _ . + -",
    ),
]
Locale = Annotated[str, Meta(pattern=r"^[a-z]{2}$", description="An ISO 639-1 language code, e.g. `el`, `en`")]
Text = Annotated[str, Meta(min_length=1, max_length=2000, description="Text printed for the customer")]
Texts = Annotated[
    dict[Locale, Text],
    Meta(min_length=1, description="The same text in each language, by locale; `el` then `en` are fallbacks"),
]
MonthDay = Annotated[str, Meta(pattern=r"^[0-9]{2}-[0-9]{2}$", description="A day of the year, `MM-DD`")]
Millimetres = Annotated[int, Meta(gt=0, le=10_000, description="Inner size in millimetres, 1 to 10 000")]
Grams = Annotated[int, Meta(ge=0, description="Weight in grams, >= 0")]
MinorUnits = Annotated[int, Meta(ge=0, description="An amount in minor units (cents), >= 0")]
Currency = Annotated[str, Meta(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code, e.g. `EUR`")]


class CustomerSegment(enum.StrEnum):
    """Who the customer is to the shop, as `PackagingRequest.customer_segment` says."""

    FIRST_ORDER = "first_order"
    RETURNING = "returning"
    REACTIVATED = "reactivated"  # ordering again after a long time


class Box(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A box or envelope the warehouse stocks."""

    code: Annotated[Code, Meta(description="The box's code, as printed on the shelf, e.g. `M`")]
    length_mm: Annotated[Millimetres, Meta(description="Inner length in mm")]
    width_mm: Annotated[Millimetres, Meta(description="Inner width in mm")]
    height_mm: Annotated[Millimetres, Meta(description="Inner height in mm")]
    max_weight_g: Annotated[int, Meta(gt=0, description="Heaviest contents it carries, in grams (box excluded)")]
    own_weight_g: Annotated[Grams, Meta(description="Weight of the empty box, added to the parcel's weight")] = 0
    reusable: Annotated[bool, Meta(description="Made to be returned and used again")] = False
    cost: Annotated[MinorUnits | None, Meta(description="What one box costs, in minor units; breaks ties")] = None

    @property
    def volume_mm3(self) -> int:
        return self.length_mm * self.width_mm * self.height_mm

    def __post_init__(self) -> None:
        if self.code.upper() == OVERSIZE:
            raise ValueError(f"boxes: code {OVERSIZE!r} is reserved for units that fit no box; rename the box")


class ThankYouNote(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The note packed for one customer segment."""

    segment: Annotated[CustomerSegment, Meta(description="`first_order`, `returning` or `reactivated`")]
    code: Annotated[Code, Meta(description="The note's card code, e.g. `THANKS-FIRST`")]
    texts: Annotated[Texts, Meta(description="The note's text by locale")]


def _parse_month_day(value: str, field: str, edition: str) -> tuple[int, int]:
    month, day = int(value[:2]), int(value[3:])
    # 2000 is a leap year, so 02-29 is a valid bound (it is simply skipped in other years).
    if not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000, month)[1]:
        raise ValueError(f"seasonal_editions: {field} {value!r} of edition {edition!r} is not a day of the year")
    return month, day


_LEAP_YEAR_DAYS = tuple(
    f"{month:02d}-{day:02d}" for month in range(1, 13) for day in range(1, calendar.monthrange(2000, month)[1] + 1)
)


class SeasonalEdition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A limited-edition packaging used every year between two days (both included)."""

    code: Annotated[Code, Meta(description="The edition's code, e.g. `valentines`")]
    name: Annotated[str, Meta(min_length=1, max_length=120, description="Its name for ops")]
    starts_on: Annotated[MonthDay, Meta(description="First day, `MM-DD`")]
    ends_on: Annotated[
        MonthDay, Meta(description="Last day, `MM-DD`; earlier than `starts_on` means the range wraps the year")
    ]
    packaging_code: Annotated[Code, Meta(description="The special packaging the packer uses, e.g. `VALENTINE-WRAP`")]
    texts: Annotated[Texts | None, Meta(description="A card packed with the edition, by locale")] = None

    def __post_init__(self) -> None:
        _parse_month_day(self.starts_on, "starts_on", self.code)
        _parse_month_day(self.ends_on, "ends_on", self.code)

    @property
    def wraps_year(self) -> bool:
        return self.ends_on < self.starts_on

    def is_on(self, day: date) -> bool:
        """Whether `day` falls in the edition (compared as month-day, so it repeats every year)."""
        today = f"{day.month:02d}-{day.day:02d}"
        if self.wraps_year:
            return today >= self.starts_on or today <= self.ends_on
        return self.starts_on <= today <= self.ends_on

    def days(self) -> frozenset[str]:
        """Every `MM-DD` of the edition, in a leap year."""
        return frozenset(d for d in _LEAP_YEAR_DAYS if self.is_on(date(2000, int(d[:2]), int(d[3:]))))


class GiftTier(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A gift for orders worth at least `min_order_value`."""

    code: Annotated[Code, Meta(description="The gift's code, e.g. `CINEMA-1+1`")]
    min_order_value: Annotated[MinorUnits, Meta(description="Order value (minor units) from which it applies")]
    texts: Annotated[Texts | None, Meta(description="A card describing the gift, by locale")] = None


class GiftProgramme(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Gifts by order value: the tier with the highest threshold the order reaches wins."""

    code: Annotated[Code, Meta(description="The programme's code, e.g. `plus-one`")]
    currency: Annotated[Currency, Meta(description="The currency of the thresholds; other orders get no gift")]
    tiers: Annotated[tuple[GiftTier, ...], Meta(min_length=1, description="The gifts and their thresholds")]
    during_edition: Annotated[
        Code | None, Meta(description="Only while this seasonal edition runs; null means all year")
    ] = None

    def __post_init__(self) -> None:
        seen: set[int] = set()
        for tier in self.tiers:
            if tier.min_order_value in seen:
                raise ValueError(
                    f"gifts: programme {self.code!r} has two tiers with min_order_value {tier.min_order_value}; "
                    "each threshold must be different"
                )
            seen.add(tier.min_order_value)


def _default_reusable_texts() -> dict[str, str]:
    return {
        "el": (
            "Αυτό το κουτί είναι φτιαγμένο για να ξαναχρησιμοποιηθεί. Όταν το αδειάσετε, διπλώστε το "
            "και επιστρέψτε το σε εμάς — θα βρείτε τις οδηγίες στο email της παραγγελίας σας. "
            "Σας ευχαριστούμε που μας βοηθάτε να μειώσουμε τα απορρίμματα!"
        ),
        "en": (
            "This box is made to be used again. Once it is empty, fold it flat and send it back to us — "
            "you will find the instructions in your order email. Thank you for helping us cut down on waste!"
        ),
    }


class ReusablePackaging(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Reusable boxes: whether to prefer them, and the return-the-box notice packed with them."""

    prefer_reusable: Annotated[
        bool, Meta(description="Among plans with the fewest boxes, prefer reusable boxes to smaller ones")
    ] = False
    notice_code: Annotated[Code, Meta(description="The return-the-box card's code")] = "RETURN-THE-BOX"
    texts: Annotated[Texts, Meta(description="The return-the-box notice, by locale")] = msgspec.field(
        default_factory=_default_reusable_texts
    )


class PackagingPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole packaging policy of a shop."""

    boxes: Annotated[tuple[Box, ...], Meta(min_length=1, description="The box catalogue")]
    fill_factor: Annotated[
        float, Meta(gt=0, le=1, description="Share of a box's volume items may fill (room for padding)")
    ] = 0.9
    thank_you_notes: Annotated[tuple[ThankYouNote, ...], Meta(description="At most one note per segment")] = ()
    seasonal_editions: Annotated[
        tuple[SeasonalEdition, ...], Meta(description="Seasonal packaging; editions may not overlap")
    ] = ()
    gifts: Annotated[tuple[GiftProgramme, ...], Meta(description="Gift programmes by order value")] = ()
    reusable: Annotated[ReusablePackaging, Meta(description="Reusable packaging")] = msgspec.field(
        default_factory=ReusablePackaging
    )

    def __post_init__(self) -> None:
        _unique("boxes", "code", [b.code for b in self.boxes])
        _unique("thank_you_notes", "segment", [n.segment.value for n in self.thank_you_notes])
        _unique("seasonal_editions", "code", [e.code for e in self.seasonal_editions])
        _unique("gifts", "code", [g.code for g in self.gifts])
        days = [(e, e.days()) for e in self.seasonal_editions]
        for i, (first, first_days) in enumerate(days):
            for second, second_days in days[i + 1 :]:
                shared = first_days & second_days
                if shared:
                    raise ValueError(
                        f"seasonal_editions: {first.code!r} and {second.code!r} overlap on {min(shared)}; "
                        "at most one edition may run on any day"
                    )
        editions = {e.code for e in self.seasonal_editions}
        for programme in self.gifts:
            if programme.during_edition is not None and programme.during_edition not in editions:
                raise ValueError(
                    f"gifts: during_edition {programme.during_edition!r} of programme {programme.code!r} "
                    f"is not a seasonal edition (known: {', '.join(sorted(editions)) or 'none'})"
                )

    def edition_on(self, day: date) -> SeasonalEdition | None:
        return next((e for e in self.seasonal_editions if e.is_on(day)), None)


def _unique(section: str, field: str, values: list[str]) -> None:
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        if value in seen:
            raise ValueError(
                f"{section}[{i}].{field}: {value!r} is already used by {section}[{seen[value]}]; "
                f"each {field} must be unique"
            )
        seen[value] = i


DEFAULT_POLICY = PackagingPolicy(
    boxes=(
        Box(code="ENVELOPE", length_mm=350, width_mm=250, height_mm=30, max_weight_g=1_000, own_weight_g=30, cost=25),
        Box(code="S", length_mm=250, width_mm=180, height_mm=100, max_weight_g=5_000, own_weight_g=150, cost=40),
        Box(code="M", length_mm=350, width_mm=250, height_mm=150, max_weight_g=10_000, own_weight_g=250, cost=60),
        Box(code="L", length_mm=450, width_mm=350, height_mm=250, max_weight_g=20_000, own_weight_g=400, cost=90),
        Box(code="XL", length_mm=600, width_mm=400, height_mm=400, max_weight_g=30_000, own_weight_g=650, cost=140),
    ),
    thank_you_notes=(
        ThankYouNote(
            segment=CustomerSegment.FIRST_ORDER,
            code="THANKS-FIRST",
            texts={
                "el": (
                    "Σας ευχαριστούμε θερμά για την πρώτη σας παραγγελία! Ετοιμάσαμε το δέμα σας με ιδιαίτερη "
                    "φροντίδα και ελπίζουμε να σας χαρίσει ένα χαμόγελο. Θα χαρούμε πολύ να μας γράψετε τη "
                    "γνώμη σας σε μια σύντομη αξιολόγηση — κάθε σχόλιο μάς βοηθά να γινόμαστε καλύτεροι. "
                    "Καλώς ήρθατε στην παρέα μας!"
                ),
                "en": (
                    "Thank you so much for your first order with us! We packed it with extra care and hope it "
                    "brings a smile to your face. We would love to hear what you think — a short review helps "
                    "us get better with every parcel. Welcome aboard!"
                ),
            },
        ),
        ThankYouNote(
            segment=CustomerSegment.RETURNING,
            code="THANKS-AGAIN",
            texts={
                "el": (
                    "Χαιρόμαστε τόσο που μας προτιμήσατε ξανά! Η εμπιστοσύνη σας σημαίνει πολλά για εμάς. "
                    "Θα μας πείτε πώς τα πήγαμε αυτή τη φορά; Η σύντομη έρευνα ικανοποίησης που θα λάβετε "
                    "με email θέλει μόνο ένα λεπτό. Σας ευχαριστούμε που είστε μαζί μας!"
                ),
                "en": (
                    "How lovely to see you again! Thank you for choosing us once more — your trust means a lot "
                    "to us. Would you tell us how we did this time? The short satisfaction survey we will "
                    "email you takes just a minute. Thank you for being with us!"
                ),
            },
        ),
        ThankYouNote(
            segment=CustomerSegment.REACTIVATED,
            code="THANKS-WELCOME-BACK",
            texts={
                "el": (
                    "Μας λείψατε! Σας ευχαριστούμε που επιστρέψατε ύστερα από καιρό — χαιρόμαστε αληθινά που "
                    "σας ξαναβλέπουμε. Θα θέλαμε πολύ να μάθουμε πώς σας φάνηκε αυτή η παραγγελία: μια "
                    "σύντομη αξιολόγηση μάς δείχνει τι να κρατήσουμε και τι να βελτιώσουμε. Καλή αντάμωση!"
                ),
                "en": (
                    "We missed you! Thank you for coming back after a while — it is a real joy to see you "
                    "again. We would love to know how this order felt to you: a short review tells us what to "
                    "keep and what to improve. Welcome back!"
                ),
            },
        ),
    ),
    seasonal_editions=(
        SeasonalEdition(
            code="valentines",
            name="Valentine's Day",
            starts_on="02-01",
            ends_on="02-14",
            packaging_code="VALENTINE-WRAP",
            texts={
                "el": (
                    "Χρόνια πολλά στους ερωτευμένους! Αυτόν τον Φεβρουάριο η παραγγελία σας ταξιδεύει σε "
                    "ειδική, περιορισμένη συσκευασία — για εσάς και τον άνθρωπό σας."
                ),
                "en": (
                    "Happy Valentine's! This February your order travels in our limited-edition packaging — "
                    "for you and your special someone."
                ),
            },
        ),
    ),
    gifts=(
        GiftProgramme(
            code="plus-one",
            currency="EUR",
            tiers=(
                GiftTier(
                    code="COFFEE-1+1",
                    min_order_value=0,
                    texts={
                        "el": "Ένα μικρό δώρο για δύο: κουπόνι καφέ 1+1. Κεράστε έναν καφέ σε κάποιον που αγαπάτε!",
                        "en": "A little gift for two: a 1+1 coffee coupon. Treat someone you love to a coffee!",
                    },
                ),
                GiftTier(
                    code="CINEMA-1+1",
                    min_order_value=5_000,
                    texts={
                        "el": "Ένα δώρο για δύο: κουπόνι σινεμά 1+1. Καλή προβολή με τον άνθρωπό σας!",
                        "en": "A gift for two: a 1+1 cinema coupon. Enjoy the film with your favourite person!",
                    },
                ),
            ),
        ),
    ),
)
"""A Greek e-shop's starting point: four boxes and a padded envelope, a note per segment, a
Valentine's edition (1–14 February), and a 1+1 cinema coupon from 50.00 EUR, 1+1 coffee below."""
