"""What the customer wrote this time: quoted history, reply headers and signatures removed.

Handles replies written above the quote (top-posting: Outlook, Gmail, Apple Mail) and below or between
quoted lines (bottom-posting, interleaved: Thunderbird, mutt, careful Gmail users), in Greek and English.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_QUOTED = re.compile(r"^[ \t]*>")
_SIGNATURE = re.compile(r"^(?:-- ?|--\u00a0)$")
# Separators after which everything is history (Outlook, Thunderbird, Apple and Gmail forwards).
_SEPARATOR = re.compile(
    r"^\s*[-_=*]{2,}\s*(?:original message|αρχικό μήνυμα|αρχικο μηνυμα|forwarded message|προωθημένο μήνυμα|"
    r"reply message|message d'origine|ursprüngliche nachricht|mensaje original|messaggio originale)"
    r"\s*[-_=*]{2,}\s*$",
    re.IGNORECASE,
)
_FORWARD_INTRO = re.compile(
    r"^\s*(?:begin forwarded message|αρχή προωθημένου μηνύματος|αρχη προωθημενου μηνυματος)\s*:\s*$", re.IGNORECASE
)
# Outlook's reply header block: From / Sent / To / Subject, in English or Greek (and the usual neighbours).
_BLOCK_FROM = re.compile(r"^\s*\*?(?:from|από|απο|de|von|da)\s*:\*?\s*\S", re.IGNORECASE)
_BLOCK_WHEN = re.compile(
    r"^\s*\*?(?:sent|date|στάλθηκε|σταλθηκε|ημερομηνία|ημερομηνια|ώρα αποστολής|envoyé|gesendet|enviado|inviato)\s*:",
    re.IGNORECASE,
)
_BLOCK_OTHER = re.compile(r"^\s*\*?(?:to|cc|προς|κοιν\.?|κοινοποίηση|à|an)\s*:", re.IGNORECASE)
_BLOCK_SUBJECT = re.compile(r"^\s*\*?(?:subject|θέμα|θεμα|objet|betreff|asunto|oggetto)\s*:", re.IGNORECASE)
# Attribution lines. Strict ones cut everything below even when the quote is not marked with ">".
_STRICT = (
    re.compile(r"^\s*on\s.{0,300}?\bwrote\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*στις\s.{0,300}?\bέγραψε\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*ο/η\s.{0,300}?\bέγραψε\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*le\s.{0,300}?\ba écrit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*am\s.{0,300}?\bschrieb\s.{0,200}:\s*$", re.IGNORECASE | re.DOTALL),
)
_STARTS = re.compile(r"^\s*(?:on|στις|ο/η|le|am)\s", re.IGNORECASE)
# Loose ones ("X wrote:") count only when quoted lines follow.
_LOOSE = re.compile(r"^.{1,200}?\b(?:wrote|writes|έγραψε|γράφει|a écrit|schrieb)\s*:\s*$", re.IGNORECASE)
_MOBILE = re.compile(
    r"^\s*(?:sent from my [\w .'-]{1,40}|sent from (?:outlook|mail|yahoo mail|gmail|samsung|huawei|xiaomi|aol)"
    r"[\w .'-]{0,40}|sent (?:via|with) [\w .'-]{1,40}|get outlook for (?:android|ios|iphone|ipad)"
    r"|στάλθηκε από (?:το |τη |την )?[\w .'-]{1,40}|σταλθηκε απο (?:το |τη |την )?[\w .'-]{1,40}"
    r"|εστάλη από [\w .'-]{1,40}|αποστολή από (?:το |τη |την )?[\w .'-]{1,40}"
    r"|λήψη του outlook για (?:android|ios))\s*(?:<[^<>\s]*>)?\s*[.!]?\s*$",
    re.IGNORECASE,
)
_TRAILING_RULE = re.compile(r"^\s*[-_=*~]{3,}\s*$")


def _outlook_block(lines: list[str], i: int) -> bool:
    """A reply header block: From, then a date line and a To or Subject line; without an address on the From
    line a Subject line is required, so "Από: Αθήνα / Προς: Πάτρα / Ημερομηνία: …" in a customer's text stays."""
    if not _BLOCK_FROM.match(lines[i]):
        return False
    when = other = subject = 0
    for line in lines[i + 1 : i + 8]:
        if _BLOCK_WHEN.match(line):
            when += 1
        elif _BLOCK_SUBJECT.match(line):
            subject += 1
        elif _BLOCK_OTHER.match(line):
            other += 1
    if "@" in lines[i]:
        return when >= 1 and other + subject >= 1
    return when >= 1 and subject >= 1


def _attribution(lines: list[str], i: int) -> tuple[int, bool] | None:
    """(lines the attribution spans, strict?) when an attribution starts at line ``i``."""
    first = lines[i]
    if not first.strip():
        return None
    if _STARTS.match(first):
        for span in (1, 2, 3):
            chunk = lines[i : i + span]
            if len(chunk) < span or (span > 1 and not all(s.strip() for s in chunk)):
                break
            if span > 1 and first.rstrip().endswith((".", "!", "?")):
                break
            joined = " ".join(s.strip() for s in chunk)
            if any(p.match(joined) for p in _STRICT):
                return span, True
    if _LOOSE.match(first):
        return 1, False
    return None


def unflow(text: str, *, delsp: bool) -> str:
    """Undo ``format=flowed`` (RFC 3676): join soft-broken lines, remove space-stuffing."""
    out: list[str] = []
    buf: str | None = None
    buf_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        if buf is not None and depth != buf_depth:
            out.append((">" * buf_depth + " " + buf) if buf_depth else buf)
            buf = None
        buf = content if buf is None else buf + content
        buf_depth = depth
        if not flowed:
            out.append((">" * depth + " " + buf) if depth else buf)
            buf = None
    if buf is not None:
        out.append((">" * buf_depth + " " + buf) if buf_depth else buf)
    return "\n".join(out)


class Reply(NamedTuple):
    """A reply split in two: what the customer wrote now, and the history it quotes or forwards."""

    new: str
    history: str


def split_reply(text: str) -> Reply:
    """Split a reply into the new text and the quoted or forwarded history. The customer's signature and
    "Sent from my phone" lines belong to neither. When stripping would leave nothing (a bare forward, an
    all-quoted mail), the new text is the whole text."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    history: list[str] = []
    i, n = 0, len(lines)
    cut = False  # past a separator: the rest is history
    signature = False  # inside the customer's signature: dropped until quoted history starts
    while i < n:
        line = lines[i]
        if cut:
            history.append(line)
            i += 1
            continue
        if _QUOTED.match(line):
            history.append(line.lstrip(" \t>").strip())
            signature = False
            i += 1
            continue
        if _SEPARATOR.match(line) or _FORWARD_INTRO.match(line) or _outlook_block(lines, i):
            cut = True
            continue
        found = _attribution(lines, i)
        if found is not None:
            span, strict = found
            j = i + span
            while j < n and not lines[j].strip():
                j += 1
            if j < n and _QUOTED.match(lines[j]):
                i = j
                continue
            if strict:
                cut = True
                i += span
                continue
        if signature or _MOBILE.match(line):
            i += 1
            continue
        if _SIGNATURE.match(line.rstrip("\t")):
            signature = True
            i += 1
            continue
        kept.append(line.rstrip())
        i += 1
    while kept and (not kept[-1].strip() or _TRAILING_RULE.match(kept[-1])):
        kept.pop()
    new = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    rest = "\n".join(history).strip("\n")
    if new.strip():
        return Reply(new, rest)
    return Reply(re.sub(r"\n{3,}", "\n\n", "\n".join(s.rstrip() for s in lines)).strip(), "")


def strip_quotes(text: str) -> str:
    """The new part of a reply (see :func:`split_reply`)."""
    return split_reply(text).new
