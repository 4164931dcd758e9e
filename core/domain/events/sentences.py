"""Timeline sentences: each event about a customer's orders, payments, parcels and returns told
in Greek and in English, for the agent reading a timeline and for the customer shown their own.

Pure: `describe` takes the stored type, the payload as timelines read it (plain JSON values) and
whether a shipment event is about a return parcel (it travels the other way, so it reads
differently). A type without a sentence here (another domain's) reads as "recorded: <type>".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

Payload = Mapping[str, Any]
Sentence = tuple[str, str]  # (Greek, English)


class Text(msgspec.Struct, frozen=True, kw_only=True):
    el: str
    en: str


def _money(amount: Any, currency: Any = "EUR") -> tuple[str, str]:
    """Minor units as people read them: ("12,90 €", "€12.90") for euros."""
    if not isinstance(amount, int):
        return "—", "—"
    whole, cents = divmod(abs(amount), 100)
    sign = "-" if amount < 0 else ""
    if (currency or "EUR") == "EUR":
        return f"{sign}{whole},{cents:02d} €", f"{sign}€{whole}.{cents:02d}"
    return f"{sign}{whole},{cents:02d} {currency}", f"{sign}{whole}.{cents:02d} {currency}"


def _amount(p: Payload) -> tuple[str, str]:
    return _money(p.get("amount"), p.get("currency"))


def _link_expired(p: Payload) -> tuple[str, str]:
    provider, error = p.get("provider"), p.get("error") or "—"
    return {
        "expired": (
            f"Ο σύνδεσμος πληρωμής έκλεισε ({provider}): η παραγγελία ακυρώθηκε",
            f"Payment link closed ({provider}): the order was cancelled",
        ),
        "completed": (
            f"Ο σύνδεσμος πληρωμής είχε ήδη πληρωθεί ({provider}): η πληρωμή επιστρέφεται",
            f"Payment link was paid before it closed ({provider}): the payment is given back",
        ),
        "not_supported": (
            f"Ο σύνδεσμος πληρωμής έκλεισε μόνο στο κατάστημα ({provider})",
            f"Payment link closed on our side only ({provider})",
        ),
    }.get(
        str(p.get("outcome")),
        (
            f"Ο σύνδεσμος πληρωμής δεν έκλεισε ({provider}): {error}",
            f"Payment link could not be closed ({provider}): {error}",
        ),
    )


def _units(lines: Any) -> str:
    return ", ".join(f"{qty} × {sku}" for sku, qty in sorted((lines or {}).items())) or "—"


_REASONS_EL = {
    "recipient_absent": "απών παραλήπτης",
    "address_problem": "πρόβλημα διεύθυνσης",
    "refused": "άρνηση παραλαβής",
    "cannot_pay": "αδυναμία πληρωμής",
    "held_at_office": "παραμένει στο κατάστημα του courier",
    "force_majeure": "ανωτέρα βία",
    "missing_documents": "ελλιπή δικαιολογητικά",
    "rescheduled_by_recipient": "νέα ημερομηνία από τον παραλήπτη",
}


def _reason(value: Any) -> tuple[str, str]:
    text = str(value or "other")
    return _REASONS_EL.get(text, text.replace("_", " ")), text.replace("_", " ")


def _movement(verb_el: str, verb_en: str) -> Callable[[Payload], Sentence]:
    def told(p: Payload) -> Sentence:
        el, en = _amount(p)
        return f"{verb_el}: {el}", f"{verb_en}: {en}"

    return told


def _failed(verb_el: str, verb_en: str) -> Callable[[Payload], Sentence]:
    def told(p: Payload) -> Sentence:
        el, en = _amount(p)
        why = p.get("error") or p.get("reason") or ""
        return (
            f"{verb_el} ({el}) απέτυχε{': ' + why if why else ''}",
            f"{verb_en} ({en}) failed{': ' + why if why else ''}",
        )

    return told


def _placed(p: Payload) -> Sentence:
    el, en = _money(p.get("total"), p.get("currency"))
    return f"Η παραγγελία καταχωρήθηκε ({el}, κανάλι {p.get('channel')})", f"Order placed ({en}, {p.get('channel')})"


def _delivery_failed(p: Payload) -> Sentence:
    el, en = _reason(p.get("reason"))
    return (
        f"Η {p.get('attempt')}η προσπάθεια παράδοσης απέτυχε ({el})",
        f"Delivery attempt {p.get('attempt')} failed ({en}); next: {str(p.get('action', '')).replace('_', ' ')}",
    )


def _resolved(done: bool) -> Callable[[Payload], Sentence]:
    def told(p: Payload) -> Sentence:
        refund_el, refund_en = _money(p.get("refund"))
        credit_el, credit_en = _money(p.get("store_credit"))
        if done:
            return (
                f"Η επιστροφή ολοκληρώθηκε: επιστροφή χρημάτων {refund_el}, πίστωση {credit_el}",
                f"Return completed: {refund_en} refunded, {credit_en} store credit",
            )
        return "Η επιστροφή περιμένει μέρος της λύσης της", "Part of the return's resolution is still pending"

    return told


def _requested(p: Payload) -> Sentence:
    verdict = {"approved": ("εγκρίθηκε", "approved"), "pending_review": ("προς έλεγχο", "pending review")}
    el, en = verdict.get(str(p.get("verdict")), (str(p.get("verdict")), str(p.get("verdict"))))
    return f"Ο πελάτης ζήτησε επιστροφή ({el})", f"The customer asked for a return ({en})"


# Outbound parcels and return parcels read differently for the same shipment event.
_RETURN_PARCEL: dict[str, Callable[[Payload], Sentence]] = {
    "shipment.created": lambda p: ("Δημιουργήθηκε δέμα επιστροφής", "A return parcel was created"),
    "shipment.label_created": lambda p: (
        f"Εκδόθηκε η ετικέτα επιστροφής ({p.get('courier')} {p.get('tracking_number')}): ο πελάτης την εκτυπώνει",
        f"Return label issued ({p.get('courier')} {p.get('tracking_number')}): the customer prints it",
    ),
    "shipment.shipped": lambda p: (
        "Ο courier παρέλαβε το δέμα επιστροφής από τον πελάτη",
        "The courier picked up the return parcel from the customer",
    ),
    "shipment.in_transit": lambda p: (
        "Το δέμα επιστροφής ταξιδεύει προς το κατάστημα",
        "The return parcel is on its way to the shop",
    ),
    "shipment.out_for_delivery": lambda p: (
        "Το δέμα επιστροφής παραδίδεται σήμερα στο κατάστημα",
        "The return parcel is out for delivery to the shop",
    ),
    "shipment.delivered": lambda p: ("Το δέμα επιστροφής έφτασε στο κατάστημα", "The return parcel reached the shop"),
}

_SENTENCES: dict[str, Callable[[Payload], Sentence]] = {
    # customers, checkouts, stock about an order
    "customer.created": lambda p: ("Δημιουργήθηκε ο λογαριασμός πελάτη", "Customer record created"),
    "customer.erased": lambda p: ("Τα στοιχεία του πελάτη διαγράφηκαν", "The customer's personal data was erased"),
    "checkout.started": lambda p: ("Ο πελάτης ξεκίνησε την ολοκλήρωση αγοράς", "The customer started checkout"),
    "checkout.completed": lambda p: ("Η ολοκλήρωση αγοράς έγινε παραγγελία", "Checkout completed as an order"),
    "inventory.shortfall": lambda p: (
        f"Έλειπαν {p.get('shortfall')} τεμ. {p.get('sku')} στο {p.get('location')}: η παραγγελία δρομολογείται ξανά",
        f"{p.get('shortfall')} × {p.get('sku')} missing at {p.get('location')}: the order is routed again",
    ),
    # orders
    "order.placed": _placed,
    "order.confirmed": lambda p: ("Η παραγγελία επιβεβαιώθηκε", "Order confirmed"),
    "order.cancelled": lambda p: (
        f"Η παραγγελία ακυρώθηκε{': ' + p['reason'] if p.get('reason') else ''}",
        f"Order cancelled{': ' + p['reason'] if p.get('reason') else ''}",
    ),
    "order.routed": lambda p: (
        "Η παραγγελία ανατέθηκε σε " + ", ".join(str(x.get("location")) for x in p.get("plan") or []),
        "Order routed to " + ", ".join(str(x.get("location")) for x in p.get("plan") or []),
    ),
    "order.rerouted": lambda p: (
        "Η παραγγελία ανατέθηκε ξανά σε " + ", ".join(str(x.get("location")) for x in p.get("plan") or []),
        "Order routed again to " + ", ".join(str(x.get("location")) for x in p.get("plan") or []),
    ),
    "order.partially_shipped": lambda p: ("Μέρος της παραγγελίας στάλθηκε", "Part of the order shipped"),
    "order.shipped": lambda p: ("Η παραγγελία στάλθηκε", "Order shipped"),
    "order.delivered": lambda p: ("Η παραγγελία παραδόθηκε", "Order delivered"),
    "order.returned_to_sender": lambda p: (
        f"Η παραγγελία γύρισε στο κατάστημα ({p.get('reason')})",
        f"Order returned to the shop ({p.get('reason')})",
    ),
    "order.held": lambda p: (
        "Η παραγγελία κρατήθηκε: κανένας courier δεν εξυπηρετεί τη διεύθυνση (εργασία για διόρθωση)",
        f"Order held: {p.get('reason')} (a task asks to correct the address)",
    ),
    "order.shipping_address_changed": lambda p: (
        f"Η διεύθυνση αποστολής διορθώθηκε από {p.get('by')} ({', '.join(p.get('fields') or [])})",
        f"Shipping address corrected by {p.get('by')} ({', '.join(p.get('fields') or [])})",
    ),
    # payments
    "payment.started": lambda p: (
        f"Ξεκίνησε πληρωμή {_amount(p)[0]} ({p.get('provider')})",
        f"Payment of {_amount(p)[1]} started ({p.get('provider')})",
    ),
    "payment.link_created": lambda p: (
        f"Στάλθηκε σύνδεσμος πληρωμής ({p.get('provider')}) από {p.get('by') or '—'}",
        f"Payment link made ({p.get('provider')}) by {p.get('by') or '—'}",
    ),
    "payment.link_expired": lambda p: _link_expired(p),
    "payment.attempt_succeeded": lambda p: (
        f"Η κάρτα έγινε δεκτή ({p.get('card_brand') or '—'})",
        f"Card accepted ({p.get('card_brand') or '—'})",
    ),
    "payment.attempt_failed": lambda p: (
        f"Η κάρτα απορρίφθηκε ({p.get('decline_code') or '—'})",
        f"Card declined ({p.get('decline_code') or '—'})",
    ),
    "payment.authorized": _movement("Εγκρίθηκε το ποσό", "Payment authorised"),
    "payment.captured": _movement("Χρεώθηκε το ποσό", "Payment captured"),
    "payment.refunded": _movement("Επιστράφηκαν χρήματα", "Refunded"),
    "payment.canceled": _movement("Αποδεσμεύτηκε το ποσό", "Authorisation released"),
    "payment.capture_requested": _movement("Ζητήθηκε χρέωση", "Capture requested"),
    "payment.capture_succeeded": _movement("Η χρέωση έγινε", "Capture succeeded"),
    "payment.capture_failed": _failed("Η χρέωση", "Capture"),
    "payment.capture_dead_lettered": _failed(
        "Η χρέωση (μετά από επανειλημμένες προσπάθειες)", "Capture (after retries)"
    ),
    "payment.refund_requested": _movement("Ζητήθηκε επιστροφή χρημάτων", "Refund requested"),
    "payment.refund_succeeded": _movement("Η επιστροφή χρημάτων έγινε", "Refund succeeded"),
    "payment.refund_failed": _failed("Η επιστροφή χρημάτων", "Refund"),
    "payment.refund_dead_lettered": _failed("Η επιστροφή χρημάτων (μετά από προσπάθειες)", "Refund (after retries)"),
    "payment.cancel_requested": _movement("Ζητήθηκε αποδέσμευση", "Release requested"),
    "payment.cancel_succeeded": _movement("Η αποδέσμευση έγινε", "Release succeeded"),
    "payment.cancel_failed": _failed("Η αποδέσμευση", "Release"),
    "payment.cancel_dead_lettered": _failed("Η αποδέσμευση (μετά από προσπάθειες)", "Release (after retries)"),
    "payment.cod_mismatch": lambda p: (
        f"Η αντικαταβολή δεν συμφωνεί: εισπράχθηκαν {_money(p.get('remitted'))[0]}, "
        f"αναμένονταν {_money(p.get('expected'))[0]}",
        f"Cash on delivery mismatch: {_money(p.get('remitted'))[1]} remitted, {_money(p.get('expected'))[1]} expected",
    ),
    "psp.webhook_received": lambda p: (
        f"Ειδοποίηση από {p.get('provider')}: {p.get('provider_event_type')}",
        f"Notice from {p.get('provider')}: {p.get('provider_event_type')}",
    ),
    # parcels
    "shipment.created": lambda p: (
        f"Ετοιμάζεται δέμα από {p.get('location')}: {_units(p.get('lines'))}",
        f"Parcel to be prepared at {p.get('location')}: {_units(p.get('lines'))}",
    ),
    "shipment.cancelled": lambda p: (f"Το δέμα ακυρώθηκε ({p.get('reason')})", f"Parcel cancelled ({p.get('reason')})"),
    "shipment.picked": lambda p: (
        "Τα προϊόντα συλλέχθηκαν" + (f"· λείπουν {_units(p.get('short'))}" if p.get("short") else ""),
        "Items picked" + (f"; missing {_units(p.get('short'))}" if p.get("short") else ""),
    ),
    "shipment.packed": lambda p: ("Το δέμα συσκευάστηκε", "Parcel packed"),
    "shipment.label_created": lambda p: (
        f"Εκδόθηκε ετικέτα {p.get('courier')} ({p.get('tracking_number')})",
        f"{p.get('courier')} label issued ({p.get('tracking_number')})",
    ),
    "shipment.voucher_rejected": lambda p: (
        f"Ο courier {p.get('courier')} απέρριψε την ετικέτα: {p.get('reason')}",
        f"{p.get('courier')} refused the label: {p.get('reason')}",
    ),
    "shipment.voucher_dead_lettered": lambda p: (
        f"Ο courier {p.get('courier')} δεν απαντά· η ετικέτα δεν εκδόθηκε",
        f"{p.get('courier')} unreachable after {p.get('tries')} tries; no label",
    ),
    "shipment.shipped": lambda p: (
        f"Το δέμα παραδόθηκε στον courier ({p.get('courier') or 'κατάστημα'})",
        f"Parcel handed to the courier ({p.get('courier') or 'store'})",
    ),
    "shipment.in_transit": lambda p: ("Το δέμα ταξιδεύει", "Parcel in transit"),
    "shipment.out_for_delivery": lambda p: ("Το δέμα βγήκε για παράδοση", "Parcel out for delivery"),
    "shipment.delivery_failed": _delivery_failed,
    "shipment.reattempt_scheduled": lambda p: (
        f"Νέα προσπάθεια παράδοσης στις {str(p.get('next_attempt_on', ''))[:10]}",
        f"Delivery to be attempted again on {str(p.get('next_attempt_on', ''))[:10]}",
    ),
    "shipment.delivered": lambda p: ("Το δέμα παραδόθηκε", "Parcel delivered"),
    "shipment.return_to_sender_decided": lambda p: (
        f"Το δέμα επιστρέφει στο κατάστημα ({p.get('why')})",
        f"The parcel goes back to the shop ({p.get('why')})",
    ),
    "shipment.returning_to_sender": lambda p: ("Το δέμα επιστρέφει στο κατάστημα", "Parcel returning to the shop"),
    "shipment.returned_to_sender": lambda p: ("Το δέμα γύρισε στο κατάστημα", "Parcel back at the shop"),
    "shipment.lost": lambda p: ("Ο courier δήλωσε το δέμα χαμένο", "The courier declared the parcel lost"),
    "shipment.pack_undone": lambda p: (
        f"Η συσκευασία αναιρέθηκε: ρύθμιση {p.get('setting')} του {p.get('courier')}",
        f"Packing undone: {p.get('courier')} setting {p.get('setting')} must be fixed",
    ),
    "task.created": lambda p: (f"Ανοίχτηκε εργασία ({p.get('kind')})", f"Task opened ({p.get('kind')})"),
    "task.closed": lambda p: (
        f"Η εργασία ({p.get('kind')}) έκλεισε από {p.get('closed_by')}",
        f"Task ({p.get('kind')}) closed by {p.get('closed_by')}" + (f": {p['note']}" if p.get("note") else ""),
    ),
    # returns
    "return.requested": _requested,
    "return.approved": lambda p: ("Η επιστροφή εγκρίθηκε", "Return approved"),
    "return.declined": lambda p: (
        f"Η επιστροφή απορρίφθηκε{': ' + p['reason'] if p.get('reason') else ''}",
        f"Return declined{': ' + p['reason'] if p.get('reason') else ''}",
    ),
    "return.label_requested": lambda p: ("Ζητήθηκε ετικέτα επιστροφής", "Return label requested"),
    "return.in_transit": lambda p: ("Η επιστροφή είναι καθ' οδόν", "The return is on its way back"),
    "return.received": lambda p: (
        f"Η επιστροφή παραλήφθηκε και ελέγχθηκε: {_units(p.get('lines'))}",
        f"Return received and inspected: {_units(p.get('lines'))}",
    ),
    "return.resolution_pending": _resolved(done=False),
    "return.completed": _resolved(done=True),
}


def describe(event_type: str, payload: Payload, *, return_parcel: bool = False) -> Text:
    """The event in one Greek and one English sentence."""
    told = (_RETURN_PARCEL.get(event_type) if return_parcel else None) or _SENTENCES.get(event_type)
    if told is None:
        return Text(el=f"Καταγράφηκε: {event_type}", en=f"Recorded: {event_type}")
    el, en = told(payload)
    return Text(el=el, en=en)


def has_sentence(event_type: str) -> bool:
    return event_type in _SENTENCES


__all__ = ["Text", "describe", "has_sentence"]
