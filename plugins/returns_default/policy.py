"""The return policy document ops edit (`/v1/policies/returns`): the withdrawal window, accepted
and defect reasons, per-category rules, resolutions, restocking fee, return methods, review
threshold, and the customer-facing messages in Greek and English; and the shipped default.

Single-field bounds are `msgspec.Meta` constraints, so a refusal names the exact field
(`$.restocking_fee.percent_bp`); rules across fields raise `ValueError` from `__post_init__`,
which msgspec reports at the enclosing object, so those messages start with the field's name.
Every part is frozen and refuses unknown fields, so a typo never silently does nothing.
"""

from __future__ import annotations

import enum
import string
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from msgspec import Meta

from core.domain.returns import Reason, Resolution, ReturnMethod

LEGAL_MINIMUM_WINDOW_DAYS = 14
"""The EU right of withdrawal: 14 days from delivery (Directive 2011/83/EU, art. 9)."""

REQUIRED_LOCALES = ("el", "en")
"""Every message must exist in these languages; `el` is the fallback for any other locale."""

PLACEHOLDERS = frozenset({"sku", "days", "delivered_on", "order_id"})
"""What a message may contain in braces, e.g. `{days}`; anything else is refused on save."""

Locale = Annotated[str, Meta(pattern=r"^[a-z]{2}$", description="An ISO 639-1 language code, e.g. `el`, `en`")]
Text = Annotated[str, Meta(min_length=1, max_length=1000, description="Text shown to the customer")]
MinorUnits = Annotated[int, Meta(ge=0, le=10**12, description="An amount in minor units (cents), >= 0")]
Category = Annotated[
    str, Meta(min_length=1, max_length=64, description="A product category, as in the catalogue, e.g. `hygiene`")
]


class Refusal(enum.StrEnum):
    """Why a return is refused (or sent to review); each has a message in `messages`."""

    NOT_DELIVERED = "not_delivered"
    WINDOW_EXPIRED = "window_expired"
    GUARANTEE_EXPIRED = "guarantee_expired"
    REASON_NOT_ACCEPTED = "reason_not_accepted"
    OPENED = "opened"
    OPENED_NOT_DEFECTIVE = "opened_not_defective"
    METHOD_NOT_OFFERED = "method_not_offered"
    RESOLUTION_NOT_OFFERED = "resolution_not_offered"
    REVIEW_CATEGORY = "review_category"
    REVIEW_VALUE = "review_value"


def _texts(el: str, en: str) -> dict[str, str]:
    return {"el": el, "en": en}


Texts = Annotated[
    dict[Locale, Text],
    Meta(description="The same message in each language, by locale; `el` and `en` are required"),
]


def _default(el: str, en: str) -> dict[str, str]:
    texts: dict[str, str] = msgspec.field(default_factory=lambda: _texts(el, en))
    return texts


class Messages(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the customer reads, per refusal (or review) reason. Placeholders: `{sku}`, `{days}`
    (the window that applies), `{delivered_on}` (DD/MM/YYYY), `{order_id}`."""

    not_delivered: Annotated[Texts, Meta(description="The order has not been delivered yet")] = _default(
        "Η παραγγελία {order_id} δεν έχει παραδοθεί ακόμη, οπότε δεν μπορεί να γίνει επιστροφή. "
        "Μόλις την παραλάβετε, θα μπορείτε να ζητήσετε επιστροφή από τη σελίδα της παραγγελίας.",
        "Order {order_id} has not been delivered yet, so it cannot be returned. "
        "Once it arrives, you can ask for a return from the order page.",
    )
    window_expired: Annotated[Texts, Meta(description="More than `window_days` since delivery")] = _default(
        "Η προθεσμία επιστροφής για το {sku} έχει λήξει: οι επιστροφές γίνονται δεκτές έως {days} ημέρες "
        "από την παράδοση, και η παραγγελία σας παραδόθηκε στις {delivered_on}. Αν το προϊόν είναι "
        "ελαττωματικό, επιλέξτε ως λόγο «ελαττωματικό» και θα το εξετάσουμε στο πλαίσιο της εγγύησης.",
        "The return period for {sku} has ended: returns are accepted up to {days} days after delivery, "
        "and your order was delivered on {delivered_on}. If the item is faulty, choose “defective” as "
        "the reason and we will look at it under the guarantee.",
    )
    guarantee_expired: Annotated[
        Texts, Meta(description="A defect reported more than `defect_window_days` after delivery")
    ] = _default(
        "Δυστυχώς δεν μπορούμε να δεχτούμε την επιστροφή του {sku}: τα ελαττώματα καλύπτονται έως {days} "
        "ημέρες από την παράδοση, και η παραγγελία σας παραδόθηκε στις {delivered_on}. Για επισκευή, "
        "απευθυνθείτε στο εξουσιοδοτημένο σέρβις του κατασκευαστή.",
        "We are sorry, we cannot accept the return of {sku}: defects are covered for {days} days after "
        "delivery, and your order was delivered on {delivered_on}. For a repair, please contact the "
        "manufacturer's authorised service centre.",
    )
    reason_not_accepted: Annotated[Texts, Meta(description="The reason is not in `accepted_reasons`")] = _default(
        "Ο λόγος επιστροφής που επιλέξατε για το {sku} δεν γίνεται δεκτός. Επιλέξτε έναν από τους λόγους "
        "της φόρμας επιστροφής ή επικοινωνήστε μαζί μας να βρούμε μαζί λύση.",
        "The reason you gave for returning {sku} is not one we can accept. Please choose one of the "
        "reasons on the return form, or contact us and we will find a solution together.",
    )
    opened: Annotated[Texts, Meta(description="An opened item of a category with `not_if_opened`")] = _default(
        "Το {sku} δεν μπορεί να επιστραφεί, επειδή η συσκευασία του έχει ανοιχτεί: για λόγους υγιεινής "
        "και ασφάλειας, τα προϊόντα αυτά επιστρέφονται μόνο σφραγισμένα.",
        "{sku} cannot be returned because its packaging has been opened: for health and hygiene reasons, "
        "these products can only be returned sealed.",
    )
    opened_not_defective: Annotated[
        Texts, Meta(description="An opened item of a category with `only_if_unopened_or_defect`, not defective")
    ] = _default(
        "Το {sku} έχει ανοιχτεί, οπότε μπορεί να επιστραφεί μόνο αν είναι ελαττωματικό. Αν δεν λειτουργεί "
        "σωστά, επιλέξτε ως λόγο «ελαττωματικό» και θα το ελέγξουμε.",
        "{sku} has been opened, so it can only be returned if it is faulty. If it does not work "
        "properly, choose “defective” as the reason and we will check it.",
    )
    method_not_offered: Annotated[Texts, Meta(description="The return method is not in `methods`")] = _default(
        "Ο τρόπος επιστροφής που επιλέξατε δεν είναι διαθέσιμος. Επιλέξτε έναν από τους τρόπους που "
        "προτείνονται στη φόρμα επιστροφής.",
        "The return method you chose is not available. Please choose one of the methods offered on the return form.",
    )
    resolution_not_offered: Annotated[
        Texts, Meta(description="The resolution asked for is not in `resolutions_offered`")
    ] = _default(
        "Η λύση που ζητήσατε για το {sku} δεν είναι διαθέσιμη. Επιλέξτε επιστροφή χρημάτων ή μία από τις "
        "άλλες λύσεις της φόρμας επιστροφής.",
        "The outcome you asked for {sku} is not available. Please choose a refund or one of the other "
        "options on the return form.",
    )
    review_category: Annotated[
        Texts, Meta(description="Sent to review by a category rule with `review` (not a refusal)")
    ] = _default(
        "Λάβαμε το αίτημα επιστροφής σας. Οι επιστροφές του {sku} ελέγχονται από την ομάδα μας πριν "
        "εγκριθούν· θα σας ενημερώσουμε σύντομα.",
        "We have received your return request. Returns of {sku} are checked by our team before they are "
        "approved; we will get back to you shortly.",
    )
    review_value: Annotated[
        Texts, Meta(description="Sent to review because the returned value is above `review_above` (not a refusal)")
    ] = _default(
        "Λάβαμε το αίτημα επιστροφής σας. Λόγω της αξίας της, η επιστροφή ελέγχεται από την ομάδα μας "
        "πριν εγκριθεί· θα σας ενημερώσουμε σύντομα.",
        "We have received your return request. Because of its value, the return is checked by our team "
        "before it is approved; we will get back to you shortly.",
    )

    def __post_init__(self) -> None:
        for field in self.__struct_fields__:
            texts: dict[str, str] = getattr(self, field)
            missing = [locale for locale in REQUIRED_LOCALES if locale not in texts]
            if missing:
                raise ValueError(
                    f"messages.{field}: missing the {', '.join(missing)} text; every message needs el and en"
                )
            for locale, text in texts.items():
                _check_placeholders(f"messages.{field}.{locale}", text)

    def text(self, refusal: Refusal, locale: str) -> str:
        texts: dict[str, str] = getattr(self, refusal.value)
        return texts.get(locale) or texts["el"]


def _check_placeholders(where: str, text: str) -> None:
    try:
        fields = [name for _, name, spec, conv in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise ValueError(f"{where}: {exc} (write a literal brace as {{{{ or }}}})") from None
    for name in fields:
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            raise ValueError(f"{where}: unknown placeholder {{{name}}} (known: {known})")


class CategoryRule(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Extra conditions for the products of one category (lines whose `opened` is unknown count
    as unopened: the inspection on receipt checks it)."""

    category: Annotated[Category, Meta(description="The catalogue category the rule applies to")]
    not_if_opened: Annotated[
        bool, Meta(description="Opened items are never returnable, whatever the reason (e.g. hygiene)")
    ] = False
    only_if_unopened_or_defect: Annotated[
        bool, Meta(description="Opened items are returnable only for a defect reason (e.g. electronics)")
    ] = False
    review: Annotated[
        bool, Meta(description="Requests with this category go to pending_review instead of being approved")
    ] = False

    def __post_init__(self) -> None:
        if self.not_if_opened and self.only_if_unopened_or_defect:
            raise ValueError(
                f"category_rules: category {self.category!r} sets both not_if_opened and "
                "only_if_unopened_or_defect; choose one (not_if_opened also refuses opened defective items)"
            )


class RestockingFee(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Kept from the refund for lines returned for a reason that is not a defect: a share of
    their value, plus a fixed amount once per return; never more than their value."""

    percent_bp: Annotated[int, Meta(ge=0, le=10_000, description="Share of the value in basis points (1000 = 10%)")] = 0
    fixed: Annotated[MinorUnits, Meta(description="A fixed amount per return, in minor units")] = 0


def _default_accepted() -> tuple[str, ...]:
    return ("changed_mind", "wrong_size", "defective", "wrong_item", "damaged_in_transit", "not_as_described")


def _default_defects() -> tuple[str, ...]:
    return ("defective", "wrong_item", "damaged_in_transit", "not_as_described")


def _all_resolutions() -> tuple[Resolution, ...]:
    return tuple(Resolution)


def _all_methods() -> tuple[ReturnMethod, ...]:
    return tuple(ReturnMethod)


class ReturnPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The whole return policy of a shop."""

    window_days: Annotated[
        int, Meta(le=3650, description="Days after delivery a return is accepted; at least 14 (the legal minimum)")
    ] = LEGAL_MINIMUM_WINDOW_DAYS
    defect_window_days: Annotated[
        int,
        Meta(le=3650, description="Days after delivery a defect reason is still accepted (730: the legal guarantee)"),
    ] = 730
    timezone: Annotated[
        str, Meta(min_length=1, max_length=64, description="The shop's IANA time zone; days are counted in it")
    ] = "Europe/Athens"
    accepted_reasons: Annotated[
        tuple[Reason, ...], Meta(min_length=1, description="Reasons a customer may give, e.g. `wrong_size`")
    ] = msgspec.field(default_factory=_default_accepted)
    defect_reasons: Annotated[
        tuple[Reason, ...],
        Meta(description="Accepted reasons that mean the shop is at fault: it pays the return shipping, no fee"),
    ] = msgspec.field(default_factory=_default_defects)
    category_rules: Annotated[
        tuple[CategoryRule, ...], Meta(description="Per-category conditions; at most one rule per category")
    ] = ()
    resolutions_offered: Annotated[
        tuple[Resolution, ...], Meta(min_length=1, description="`refund`, `replacement`, `repair`, `store_credit`")
    ] = msgspec.field(default_factory=_all_resolutions)
    restocking_fee: Annotated[RestockingFee, Meta(description="Fee for returns that are not the shop's fault")] = (
        msgspec.field(default_factory=RestockingFee)
    )
    methods: Annotated[
        tuple[ReturnMethod, ...], Meta(min_length=1, description="How parcels come back: `courier`, `store`")
    ] = msgspec.field(default_factory=_all_methods)
    review_above: Annotated[
        MinorUnits | None,
        Meta(description="Returned value (Σ qty × unit price, minor units) above which ops review; null = never"),
    ] = None
    messages: Annotated[Messages, Meta(description="What the customer reads, in el and en")] = msgspec.field(
        default_factory=Messages
    )

    def __post_init__(self) -> None:
        if self.window_days < LEGAL_MINIMUM_WINDOW_DAYS:
            raise ValueError(
                f"window_days is {self.window_days}; it may not be below {LEGAL_MINIMUM_WINDOW_DAYS} "
                "(the EU right of withdrawal: 14 days from delivery)"
            )
        if self.defect_window_days < self.window_days:
            raise ValueError(
                f"defect_window_days ({self.defect_window_days}) is shorter than window_days ({self.window_days}); "
                "defects must be accepted at least as long as any return"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {self.timezone!r} is not an IANA time zone (e.g. Europe/Athens)") from None
        _unique("accepted_reasons", list(self.accepted_reasons))
        _unique("defect_reasons", list(self.defect_reasons))
        _unique("category_rules", [r.category for r in self.category_rules], what="category")
        _unique("resolutions_offered", [str(r) for r in self.resolutions_offered])
        _unique("methods", [str(m) for m in self.methods])
        refused = [r for r in self.defect_reasons if r not in self.accepted_reasons]
        if refused:
            raise ValueError(
                f"defect_reasons: {', '.join(refused)} not in accepted_reasons; a defect can never be refused, "
                "so add it to accepted_reasons"
            )

    def rule_for(self, category: str | None) -> CategoryRule | None:
        return next((r for r in self.category_rules if r.category == category), None)


def _unique(section: str, values: list[str], *, what: str = "value") -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{section}: {what} {value!r} appears twice; each {what} may appear once")
        seen.add(value)


DEFAULT_POLICY = ReturnPolicy(
    category_rules=(
        CategoryRule(category="food", only_if_unopened_or_defect=True),
        CategoryRule(category="apparel"),
        CategoryRule(category="hygiene", not_if_opened=True),
        CategoryRule(category="electronics", only_if_unopened_or_defect=True),
    ),
)
"""A Greek e-shop's starting point: 14 days to change one's mind, 730 days for defects (the
shop pays their shipping), all resolutions, courier or store, no restocking fee, no review; food
and electronics come back opened only when defective, hygiene products only sealed."""
