"""ACS tracking in Emporio's words: the status table, checkpoint actions, Athens time and money.

ACS reports a shipment with four fields of ``ACS_Trackingsummary`` (``shipment_status`` 1..5,
a Greek ``non_delivery_reason_code``, ``delivery_flag``, ``returned_flag``) and a list of
``ACS_TrackingDetails`` checkpoints in Athens local time. `snapshot_from` turns them into a
`TrackingSnapshot`; every rule is data below, so a reviewer checks one table, not a decision tree.

Precedence (first match wins):

1. ``returned_flag`` 1 → RETURNED_TO_SENDER. [I] ACS has no separate "returning" state.
2. ``delivery_flag`` 1 or ``shipment_status`` 4 → DELIVERED (``delivered_at`` from the
   ΠΑΡΑΔΟΣΗ checkpoint, else ``delivery_date`` + ``delivery_time``, else midnight Athens).
3. a reason code in `REASON_RULES` → its status and failure reason.
4. ``shipment_status`` 1/2/3 with a missing or unknown code → DELIVERY_FAILED with the
   reason the status itself names (`STATUS_FALLBACK`).
5. any other reason code (status 5) → DELIVERY_FAILED / OTHER: an unknown code is something
   ops must look at, and the raw code travels on the snapshot's last event.
6. status 5 without a code: not picked up yet (no pickup date, no checkpoint) → LABEL_CREATED;
   last checkpoint ``ΚΑΤΑΝΟΜΗ ΣΕ COURIER`` → OUT_FOR_DELIVERY; otherwise IN_TRANSIT.

Decisions marked [I]:

* ΑΔ8 "ΠΑΡΑΔΟΣΗ RECEPTION ΕΝΤ.ΑΠΟΣΤ" (hand over at a reception desk on the sender's
  instruction) is IN_TRANSIT, not DELIVERED: ACS reports it with status 5 and delivery_flag 0,
  and a false DELIVERED would capture cash on delivery and send surveys too early. When ACS
  completes the hand-over it sets delivery_flag 1, which rule 2 turns into DELIVERED.
* ΑΔ1 (hold for pickup at the ACS office) is DELIVERY_FAILED / HELD_AT_OFFICE: the parcel
  waits for the recipient, and the core's failed-delivery flow tells the customer where.
* ΠΑ4 (recipient asked for a redirect) is IN_TRANSIT: the parcel is moving to the new address.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

from core.hookspecs.couriers import FailureReason, ShipmentStatus, TrackingEvent, TrackingSnapshot

ATHENS: Final = ZoneInfo("Europe/Athens")
_CENTS_PER_EURO: Final = Decimal(100)


class ReasonRule(NamedTuple):
    """What one ACS non-delivery reason code means for the shipment."""

    status: ShipmentStatus
    failure_reason: FailureReason | None
    meaning: str


# The codes are Greek capitals on the wire ("ΑΣ1" starts with GREEK CAPITAL ALPHA).
REASON_RULES: Final[Mapping[str, ReasonRule]] = {
    # shipment_status 1: refused
    "ΑΠ1": ReasonRule(ShipmentStatus.DELIVERY_FAILED, FailureReason.REFUSED, "refuses the charge"),
    "ΑΠ2": ReasonRule(ShipmentStatus.DELIVERY_FAILED, FailureReason.CANNOT_PAY, "cannot pay"),
    "ΑΠ3": ReasonRule(ShipmentStatus.DELIVERY_FAILED, FailureReason.REFUSED, "refuses the shipment"),
    # shipment_status 2: address problem
    "ΛΣ1": ReasonRule(ShipmentStatus.DELIVERY_FAILED, FailureReason.ADDRESS_PROBLEM, "unknown recipient"),
    "ΛΣ3": ReasonRule(ShipmentStatus.DELIVERY_FAILED, FailureReason.ADDRESS_PROBLEM, "wrong or incomplete address"),
    # shipment_status 3: absent
    "ΑΣ1": ReasonRule(ShipmentStatus.DELIVERY_FAILED, FailureReason.RECIPIENT_ABSENT, "recipient absent"),
    # shipment_status 5: other / in progress
    "ΑΔ1": ReasonRule(ShipmentStatus.DELIVERY_FAILED, FailureReason.HELD_AT_OFFICE, "held for pickup at the office"),
    "ΑΔ3": ReasonRule(ShipmentStatus.DELIVERY_FAILED, FailureReason.FORCE_MAJEURE, "force majeure"),
    "ΑΔ8": ReasonRule(ShipmentStatus.IN_TRANSIT, None, "to be handed over at a reception desk (sender's order)"),
    "ΔΔ1": ReasonRule(ShipmentStatus.IN_TRANSIT, None, "en route to the delivering store"),
    "ΕΑ1": ReasonRule(ShipmentStatus.IN_TRANSIT, None, "en route to the delivering store"),
    "ΕΔ1": ReasonRule(ShipmentStatus.DELIVERY_FAILED, FailureReason.MISSING_DOCUMENTS, "missing documents"),
    "ΠΑ2": ReasonRule(
        ShipmentStatus.DELIVERY_FAILED, FailureReason.RESCHEDULED_BY_RECIPIENT, "new delivery date set by recipient"
    ),
    "ΠΑ4": ReasonRule(ShipmentStatus.IN_TRANSIT, None, "redirected on the recipient's order"),
}

# Rule 4: a failure status whose code is missing or new to us still says what kind of failure.
STATUS_FALLBACK: Final[Mapping[int, FailureReason]] = {
    1: FailureReason.REFUSED,
    2: FailureReason.ADDRESS_PROBLEM,
    3: FailureReason.RECIPIENT_ABSENT,
}

# Checkpoint actions (ACS_TrackingDetails.checkpoint_action). [V] for the first four, seen in
# ACS's manual; [I] for the rest. Matched by prefix: "ΑΝΑΧΩΡΗΣΗ ΛΑΜΙΑ" names the destination.
ACTION_OUT_FOR_DELIVERY: Final = "ΚΑΤΑΝΟΜΗ ΣΕ COURIER"
ACTION_DELIVERY: Final = "ΠΑΡΑΔΟΣΗ"
ACTION_STATUSES: Final[Sequence[tuple[str, ShipmentStatus]]] = (
    ("ΑΝΑΧΩΡΗΣΗ", ShipmentStatus.IN_TRANSIT),
    ("ΑΦΙΞΗ ΣΕ ΚΑΤΑΣΤΗΜΑ", ShipmentStatus.IN_TRANSIT),
    (ACTION_OUT_FOR_DELIVERY, ShipmentStatus.OUT_FOR_DELIVERY),
    ("ΠΑΡΑΔΟΣΗ RECEPTION", ShipmentStatus.IN_TRANSIT),  # before the plain ΠΑΡΑΔΟΣΗ prefix (ΑΔ8)
    (ACTION_DELIVERY, ShipmentStatus.DELIVERED),
    ("ΑΠΟΤΥΧΙΑ ΠΑΡΑΔΟΣΗΣ", ShipmentStatus.DELIVERY_FAILED),
    ("ΕΠΙΣΤΡΟΦΗ", ShipmentStatus.RETURNED_TO_SENDER),
    ("ΣΕ ΔΙΑΚΙΝΗΣΗ", ShipmentStatus.IN_TRANSIT),
)
# A reason code at the start of a checkpoint's notes: "ΑΣ1 - ΑΠΩΝ".
_NOTE_CODE: Final = re.compile(r"^\s*([Α-ΩA-Z]{2}\d{1,2})\b")
# Latin look-alikes some systems type into codes ("AΣ1" with a Latin A).
_LOOKALIKES: Final = str.maketrans("ABEZHIKMNOPTYX", "ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ")


def normalise_code(code: Any) -> str:
    """``" aσ1 "`` → ``"ΑΣ1"``: trimmed, upper case, Latin look-alike capitals made Greek."""
    if not isinstance(code, str):
        return ""
    return code.strip().upper().translate(_LOOKALIKES)


# --- time and money ---------------------------------------------------------------------------


def athens_to_utc(value: Any) -> datetime | None:
    """An ACS timestamp (``2019-01-11T10:15:00.000``, Athens local time without offset) in UTC.

    Also reads ``dd/mm/yyyy HH:MM[:SS]``; an explicit offset is respected. None when unreadable.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for pattern in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
            try:
                parsed = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ATHENS)
    return parsed.astimezone(UTC)


def acs_day(value: Any) -> date | None:
    """``"2019-01-11T00:00:00"`` or ``"2019-01-11"`` → a date; None when absent or unreadable."""
    if not isinstance(value, str) or len(value.strip()) < 10:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def plain_decimal(number: Decimal) -> Decimal:
    """Without trailing zeros and without an exponent: ``12.50`` → ``12.5``, ``1E+3`` → ``1000``
    (JSON allows exponents, but ACS's parser is not known to)."""
    number = number.normalize()
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def cents_to_euros(cents: int) -> Decimal:
    """Integer cents → the euro amount ACS expects (``1250`` → ``Decimal("12.5")``)."""
    return plain_decimal(Decimal(cents) / _CENTS_PER_EURO)


def euros_to_cents(amount: Any) -> int | None:
    """An ACS euro amount (a Decimal from the decoder, an int, or a numeric string) → integer
    cents, exactly; None when it is absent, not a number or has fractions of a cent."""
    if isinstance(amount, bool) or amount is None:
        return None
    try:
        euros = Decimal(amount) if isinstance(amount, Decimal | int) else Decimal(str(amount).strip())
    except ArithmeticError:
        return None
    cents = euros * _CENTS_PER_EURO
    if not cents.is_finite() or cents != cents.to_integral_value():
        return None
    return int(cents)


# --- tracking ---------------------------------------------------------------------------------


def _flag(row: Mapping[str, Any], name: str) -> bool:
    value = row.get(name)
    return str(value).strip() in {"1", "True", "true"} if value is not None else False


def _status_number(row: Mapping[str, Any]) -> int | None:
    value = row.get("shipment_status")
    try:
        return int(str(value).strip()) if value is not None else None
    except ValueError:
        return None


def status_from_summary(
    row: Mapping[str, Any], last_event: TrackingEvent | None = None
) -> tuple[ShipmentStatus, FailureReason | None]:
    """Rules 1-6 of the module docstring for one ``ACS_Trackingsummary`` row and the latest
    checkpoint (as an event)."""
    if _flag(row, "returned_flag"):
        return ShipmentStatus.RETURNED_TO_SENDER, None
    number = _status_number(row)
    if _flag(row, "delivery_flag") or number == 4:
        return ShipmentStatus.DELIVERED, None
    code = normalise_code(row.get("non_delivery_reason_code"))
    if code in REASON_RULES:
        rule = REASON_RULES[code]
        return rule.status, rule.failure_reason
    fallback = STATUS_FALLBACK.get(number) if number is not None else None
    if fallback is not None:
        return ShipmentStatus.DELIVERY_FAILED, fallback
    if code:
        return ShipmentStatus.DELIVERY_FAILED, FailureReason.OTHER
    if last_event is None and not acs_day(row.get("pickup_date")):
        return ShipmentStatus.LABEL_CREATED, None
    if last_event is not None and last_event.status is ShipmentStatus.OUT_FOR_DELIVERY:
        return ShipmentStatus.OUT_FOR_DELIVERY, None
    return ShipmentStatus.IN_TRANSIT, None


def event_from_checkpoint(row: Mapping[str, Any]) -> TrackingEvent | None:
    """One ``ACS_TrackingDetails`` row as a `TrackingEvent` (None when it has no readable time).

    ``raw_code`` keeps the reason code found at the start of the notes, else the action itself.
    """
    at = athens_to_utc(row.get("checkpoint_date_time"))
    if at is None:
        return None
    action = str(row.get("checkpoint_action") or "").strip()
    notes = str(row.get("checkpoint_notes") or "").strip()
    location = str(row.get("checkpoint_location") or "").strip() or None
    status = ShipmentStatus.IN_TRANSIT
    for prefix, mapped in ACTION_STATUSES:
        if action.upper().startswith(prefix):
            status = mapped
            break
    match = _NOTE_CODE.match(normalise_code(notes))
    code: str | None = match.group(1) if match else None
    rule = REASON_RULES.get(code) if code is not None else None
    # A reason code explains a failed or unclassified checkpoint; it never overrides a
    # delivery, a return or "out for delivery".
    if rule is not None and status in (ShipmentStatus.DELIVERY_FAILED, ShipmentStatus.IN_TRANSIT):
        status = rule.status
    failure: FailureReason | None = None
    if status is ShipmentStatus.DELIVERY_FAILED:
        failure = rule.failure_reason if rule is not None else FailureReason.OTHER
    description = f"{action} — {notes}" if notes and notes != action else action
    return TrackingEvent(
        at=at,
        status=status,
        description=description or "ACS checkpoint",
        location=location,
        failure_reason=failure,
        raw_code=code or action or None,
    )


def delivered_at(row: Mapping[str, Any], events: Sequence[TrackingEvent]) -> datetime | None:
    """When ACS says the parcel was delivered, in UTC (see rule 2 of the module docstring).

    The ΠΑΡΑΔΟΣΗ checkpoint has seconds, the summary's ``delivery_time`` only minutes."""
    for event in reversed(events):
        if event.status is ShipmentStatus.DELIVERED:
            return event.at
    day = acs_day(row.get("delivery_date"))
    hour = row.get("delivery_time")
    if day is not None and isinstance(hour, str) and re.fullmatch(r"\s*\d{1,2}:\d{2}(:\d{2})?\s*", hour):
        parts = [int(p) for p in hour.strip().split(":")]
        local = datetime.combine(day, time(parts[0], parts[1], parts[2] if len(parts) > 2 else 0), ATHENS)
        return local.astimezone(UTC)
    if day is not None:
        return datetime.combine(day, time(0, 0), ATHENS).astimezone(UTC)
    return None


def snapshot_from(
    tracking_number: str, summary: Mapping[str, Any], checkpoints: Sequence[Mapping[str, Any]]
) -> TrackingSnapshot:
    """The whole tracking picture of one voucher from ACS's two tracking calls."""
    events = sorted(
        (event for event in map(event_from_checkpoint, checkpoints) if event is not None),
        key=lambda event: event.at,
    )
    status, failure = status_from_summary(summary, events[-1] if events else None)
    return TrackingSnapshot(
        tracking_number=tracking_number,
        status=status,
        events=tuple(events),
        failure_reason=failure,
        delivered_at=delivered_at(summary, events) if status is ShipmentStatus.DELIVERED else None,
        expected_delivery=acs_day(summary.get("delivery_date_expected")),
    )
