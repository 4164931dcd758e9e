"""Inserts: what goes in the parcel with the items — the thank-you note of the customer's
segment, the seasonal edition's card, a gift by order value, the return-the-box notice — each
with the reason it was (or was not) chosen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from core.hookspecs.packaging import BoxChoice, Insert, PackagingRequest
from plugins.packaging_default.policy import (
    FALLBACK_LOCALES,
    CustomerSegment,
    GiftProgramme,
    PackagingPolicy,
)

THANK_YOU_NOTE = "thank_you_note"
SEASONAL = "seasonal"
GIFT = "gift"
REUSABLE_PACKAGING_NOTICE = "reusable_packaging_notice"

_ZERO_DECIMAL_CURRENCIES = frozenset({"CLP", "ISK", "JPY", "KRW", "VND"})


def choose_inserts(
    request: PackagingRequest, policy: PackagingPolicy, boxes: Sequence[BoxChoice]
) -> tuple[tuple[Insert, ...], tuple[str, ...]]:
    """The inserts of a shipment, in packing order (note, seasonal card, gifts, notice), and why."""
    inserts: list[Insert] = []
    reasons: list[str] = []
    for insert, reason in (
        thank_you_note(policy, request.customer_segment, request.locale),
        seasonal_card(policy, request.on_date, request.locale),
        *gifts(policy, request.order_value, request.currency, request.on_date, request.locale),
        reusable_packaging_notice(policy, boxes, request.locale),
    ):
        if insert is not None:
            inserts.append(insert)
        if reason:
            reasons.append(reason)
    return tuple(inserts), tuple(reasons)


def language_of(locale: str) -> str:
    """`el-GR`, `el_GR` and `EL` are all `el`."""
    return locale.replace("_", "-").split("-", 1)[0].strip().lower()


def text_for(texts: Mapping[str, str] | None, locale: str) -> tuple[str, str] | None:
    """The text in the customer's language, else in Greek, else in English: (language, text)."""
    if not texts:
        return None
    for language in (language_of(locale), *FALLBACK_LOCALES):
        if language in texts:
            return language, texts[language]
    return None


def _in(language: str, locale: str) -> str:
    wanted = language_of(locale)
    return f"in {language}" if language == wanted else f"in {language} (no {wanted or 'requested'} text)"


def thank_you_note(policy: PackagingPolicy, segment: str, locale: str) -> tuple[Insert | None, str]:
    known = [s.value for s in CustomerSegment]
    if segment not in known:
        return None, f"no thank-you note: customer segment {segment!r} is not one of {', '.join(known)}"
    note = next((n for n in policy.thank_you_notes if n.segment.value == segment), None)
    if note is None:
        return None, f"no thank-you note: the policy has none for {segment} customers"
    found = text_for(note.texts, locale)
    if found is None:
        wanted = ", ".join(dict.fromkeys((language_of(locale), *FALLBACK_LOCALES)))
        return None, f"no thank-you note: {note.code} has no text in {wanted}"
    language, text = found
    return (
        Insert(kind=THANK_YOU_NOTE, code=note.code, text=text),
        f"thank-you note {note.code} for a {segment} customer, {_in(language, locale)}",
    )


def seasonal_card(policy: PackagingPolicy, on_date: date, locale: str) -> tuple[Insert | None, str | None]:
    edition = policy.edition_on(on_date)
    if edition is None:
        return None, (f"no seasonal edition on {on_date.isoformat()}" if policy.seasonal_editions else None)
    found = text_for(edition.texts, locale)
    card = f", with its card {_in(found[0], locale)}" if found else ""
    return (
        Insert(kind=SEASONAL, code=edition.packaging_code, text=found[1] if found else None),
        f"seasonal edition {edition.name!r} ({edition.starts_on} to {edition.ends_on}) on "
        f"{on_date.isoformat()}: pack in {edition.packaging_code}{card}",
    )


def gifts(
    policy: PackagingPolicy, order_value: int, currency: str, on_date: date, locale: str
) -> list[tuple[Insert | None, str]]:
    """One gift per programme that applies: the tier with the highest threshold the order reaches."""
    return [_gift(p, order_value, currency, on_date, locale, policy) for p in policy.gifts]


def _gift(
    programme: GiftProgramme, order_value: int, currency: str, on_date: date, locale: str, policy: PackagingPolicy
) -> tuple[Insert | None, str]:
    name = programme.code
    if programme.during_edition is not None:
        edition = policy.edition_on(on_date)
        if edition is None or edition.code != programme.during_edition:
            return None, f"no {name} gift: it runs only during the {programme.during_edition} edition"
    if currency.upper() != programme.currency:
        return None, (
            f"no {name} gift: the order is in {currency}, but the programme's thresholds are in {programme.currency}"
        )
    tiers = sorted(programme.tiers, key=lambda t: t.min_order_value)
    reached = [t for t in tiers if t.min_order_value <= order_value]
    value = money(order_value, programme.currency)
    if not reached:
        lowest = money(tiers[0].min_order_value, programme.currency)
        return None, f"no {name} gift: the order's {value} is below the lowest threshold, {lowest}"
    tier = reached[-1]
    higher = tiers[len(reached)] if len(reached) < len(tiers) else None
    below = f", below {higher.code} from {money(higher.min_order_value, programme.currency)}" if higher else ""
    found = text_for(tier.texts, locale)
    card = f", card {_in(found[0], locale)}" if found else ""
    return (
        Insert(kind=GIFT, code=tier.code, text=found[1] if found else None),
        f"gift {tier.code} ({name}): the order's {value} is at least "
        f"{money(tier.min_order_value, programme.currency)}{below}{card}",
    )


def reusable_packaging_notice(
    policy: PackagingPolicy, boxes: Sequence[BoxChoice], locale: str
) -> tuple[Insert | None, str | None]:
    reusable = sorted({b.box for b in boxes if b.reusable})
    if not reusable:
        return None, None
    notice = policy.reusable
    found = text_for(notice.texts, locale)
    what = "box" if len(reusable) == 1 else "boxes"
    language = f" {_in(found[0], locale)}" if found else ""
    return (
        Insert(kind=REUSABLE_PACKAGING_NOTICE, code=notice.notice_code, text=found[1] if found else None),
        f"return-the-box notice {notice.notice_code}{language}: reusable {what} {', '.join(reusable)}",
    )


def money(amount: int, currency: str) -> str:
    """`5000, "EUR"` → `50.00 EUR` (minor units; a few currencies have none)."""
    if currency.upper() in _ZERO_DECIMAL_CURRENCIES:
        return f"{amount} {currency}"
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    return f"{sign}{whole}.{cents:02d} {currency}"
