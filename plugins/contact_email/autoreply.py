"""Recognising mail that no person wrote: bounces (delivery-status reports) and automatic replies
(out-of-office, autoresponders, bulk mail, read receipts). The desk stores them but never answers them,
starts no SLA clock and sends no survey, so no mail loop can start."""

from __future__ import annotations

import re
import unicodedata

from plugins.contact_email.model import AutoKind

_DAEMONS = frozenset({"mailer-daemon", "mailerdaemon", "mail-daemon", "postmaster", "mail delivery subsystem"})
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliverable|undelivered mail|delivery status notification|delivery failure|delivery has failed"
    r"|mail delivery failed|mail delivery failure|returned mail|failure notice|mail system error|non remis"
    r"|μη παραδοσ|μη παραδοθεν|αδυναμια παραδοσησ|δεν ηταν δυνατη η παραδοση|αποτυχια παραδοσησ)",
    re.IGNORECASE,
)
_AUTO_SUBJECT = re.compile(
    r"^\s*\[?\s*(?:automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|autoresponse|automatische antwort"
    r"|out of (?:the )?office|ooo\b|réponse automatique|respuesta automatica|risposta automatica"
    r"|αυτοματη απαντηση|αυτοματη αποκριση|αυτοματο μηνυμα|εκτοσ γραφειου)"
    r"|out of (?:the )?office|αυτοματη απαντηση|εκτοσ γραφειου",
    re.IGNORECASE,
)
_AUTO_PRECEDENCE = frozenset({"auto_reply", "bulk", "junk"})
_NO = frozenset({"", "no", "false", "0", "off"})


def fold(text: str) -> str:
    """Lower-case without accents (τόνος, διαλυτικά) for matching Greek and English phrases."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ς", "σ")


def _first(headers: dict[str, list[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0].strip() if values else None


def _token(value: str | None) -> str:
    if value is None:
        return ""
    value = re.sub(r"\([^)]*\)", " ", value)
    return value.split(";", 1)[0].strip().strip("\"'").lower()


def classify(
    headers: dict[str, list[str]],
    *,
    content_types: list[str],
    report_type: str | None,
    from_address: str | None,
    from_name: str | None,
    subject: str,
) -> tuple[AutoKind | None, str | None]:
    """``(kind, reason)``: ``("bounce", …)``, ``("auto_reply", …)`` or ``(None, None)`` for a person's mail.

    ``headers`` maps lower-case header names to their raw values.
    """
    report = (report_type or "").lower()
    local = (from_address or "").split("@", 1)[0].lower()
    name = (from_name or "").lower()
    auto_submitted = _token(_first(headers, "auto-submitted"))
    return_path = _first(headers, "return-path")
    null_sender = return_path is not None and return_path.strip().strip("<>").strip() == ""
    subject_folded = fold(subject)

    if report == "delivery-status" or "message/delivery-status" in content_types:
        return "bounce", "delivery-status report"
    if local in _DAEMONS or name in _DAEMONS:
        return "bounce", f"sent by {local or name}"
    if "x-failed-recipients" in headers:
        return "bounce", "X-Failed-Recipients"
    if _BOUNCE_SUBJECT.match(subject_folded) and (null_sender or auto_submitted not in _NO):
        return "bounce", "delivery failure subject from the null sender"
    if report == "disposition-notification" or "message/disposition-notification" in content_types:
        return "auto_reply", "read receipt (disposition notification)"
    if auto_submitted not in _NO:
        return "auto_reply", f"Auto-Submitted: {auto_submitted}"
    for header in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autoreply-from"):
        value = _first(headers, header)
        if value is not None and _token(value) not in _NO - {""}:
            return "auto_reply", header
    for header in ("precedence", "x-precedence"):
        value = _token(_first(headers, header))
        if value in _AUTO_PRECEDENCE:
            return "auto_reply", f"{header}: {value}"
    if _AUTO_SUBJECT.search(subject_folded):
        return "auto_reply", "out-of-office subject"
    return None, None
