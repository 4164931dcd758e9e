"""Decoding bytes whose charset is declared, undeclared or mislabelled.

The declared charset is tried first; then UTF-8; then a guess among the encodings Greek, Chinese and
Japanese mail is really sent in, each decoding scored for plausibility (letters of one script, no C1
control characters, no symbols glued to letters); Latin-1 is the last resort and never fails.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass

_SAMPLE_BYTES = 32 * 1024

# Labels seen in real mail that Python does not know, or knows under a narrower codec than the senders use.
_ALIASES: dict[str, str] = {
    "gb2312": "gb18030",
    "gb_2312-80": "gb18030",
    "gb_2312": "gb18030",
    "euc-cn": "gb18030",
    "x-euc-cn": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "windows-936": "gb18030",
    "chinese": "gb18030",
    "csgb2312": "gb18030",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "x-sjis": "cp932",
    "sjis": "cp932",
    "ms_kanji": "cp932",
    "csshiftjis": "cp932",
    "windows-31j": "cp932",
    "iso-2022-jp": "iso2022_jp_2",
    "csiso2022jp": "iso2022_jp_2",
    "iso-2022-jp-1": "iso2022_jp_2",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "euc-kr": "cp949",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "iso-8859-8-i": "iso8859_8",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
    "x-mac-greek": "mac_greek",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
    "tis-620": "cp874",
    "windows-874": "cp874",
    "el_gr": "iso8859_7",
    "greek": "iso8859_7",
    "elot_928": "iso8859_7",
}
# Labels that say "I don't know": treated as undeclared.
_UNKNOWN_LABELS = frozenset(
    {"unknown-8bit", "x-unknown", "unknown", "x-user-defined", "default", "charset", "8bit", ""}
)

# Names shown in notes (Python's codec names are not the ones mail people know).
_PRETTY: dict[str, str] = {
    "cp1253": "windows-1253",
    "cp1252": "windows-1252",
    "cp1251": "windows-1251",
    "iso8859-7": "iso-8859-7",
    "iso8859-1": "iso-8859-1",
    "latin-1": "iso-8859-1",
    "cp932": "shift_jis",
    "euc_jp": "euc-jp",
    "iso2022_jp_2": "iso-2022-jp",
    "iso2022_jp": "iso-2022-jp",
    "iso2022_jp_ext": "iso-2022-jp",
    "cp949": "euc-kr",
    "big5hkscs": "big5",
    "utf-8": "utf-8",
    "ascii": "us-ascii",
}

_WESTERN = frozenset({"cp1252", "iso8859-1", "latin-1", "ascii", "iso8859-15"})
_GREEK = ("cp1253", "iso8859-7")
_JAPANESE = frozenset({"cp932", "euc_jp", "iso2022_jp_2", "iso2022_jp", "iso2022_jp_ext"})
# Guessing order when nothing trustworthy is declared; earlier wins a tie.
_GUESSES = ("cp1253", "iso8859-7", "gb18030", "cp932", "euc_jp", "cp1252")
_JIS_ESCAPES = (b"\x1b$B", b"\x1b$@", b"\x1b(J", b"\x1b(I", b"\x1b$(D")


@dataclass(frozen=True, slots=True)
class Decoded:
    """A decoding: the text, the codec used, and why it is not the declared one (None when it is)."""

    text: str
    used: str
    reason: str | None = None


def pretty(codec: str) -> str:
    """The usual mail label of a Python codec name."""
    return _PRETTY.get(codec, codec)


def canonical(label: str | None) -> str | None:
    """Python codec name for a charset label from a mail, or None when unknown, empty or not a text codec."""
    if label is None:
        return None
    name = label.strip().strip("\"'").strip().lower()
    if "*" in name:  # RFC 2231 language suffix: utf-8*el
        name = name.split("*", 1)[0]
    if name in _UNKNOWN_LABELS:
        return None
    name = _ALIASES.get(name, name)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True):  # base64, rot13, zlib… are not charsets
        return None
    found = info.name
    return _ALIASES.get(found, found) if found in {"iso8859-1", "latin-1"} else found


def _is_greek_letter(ch: str) -> bool:
    return "\u0386" <= ch <= "\u03ce" and ch != "\u0387"


def _is_ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _cjk_level(ch: str, *, chinese: bool, japanese: bool) -> int:
    """0 for a common ideograph of the codec's repertoire, 1 for a rarer one, 2 for one outside it."""
    table = "gb2312" if chinese or not japanese else "shift_jis"
    try:
        lead = ch.encode(table)[0]
    except UnicodeEncodeError:
        return 2
    if table == "gb2312":
        return 0 if 0xB0 <= lead <= 0xD7 else 1
    return 0 if 0x88 <= lead <= 0x98 else 1


def score(text: str, codec: str) -> float:
    """How plausible a decoding looks: positive for letters of one script, negative for mojibake signs."""
    if codec == "utf-8":
        return _score_utf8(text)
    total = 0.0
    japanese = codec in _JAPANESE
    chinese = codec == "gb18030"
    greek_run = 0
    n = len(text)
    for i, ch in enumerate(text):
        o = ord(ch)
        prev = text[i - 1] if i else " "
        nxt = text[i + 1] if i + 1 < n else " "
        if _is_greek_letter(ch):
            greek_run += 1
            total += 1.0
            if greek_run > 20:
                total -= 1.5
            if ch == "ς" and _is_greek_letter(nxt):
                total -= 4.0
            if ch.isupper() and _is_greek_letter(prev) and prev.islower():
                total -= 2.0
            if ("a" <= prev.lower() <= "z") or ("a" <= nxt.lower() <= "z"):
                total -= 2.0
            continue
        greek_run = 0
        if o < 0x80:
            if o < 0x20 and ch not in "\t\n\r\f\x1b":
                total -= 1.0
        elif o < 0xA0:
            total -= 5.0
        elif o < 0x100:
            if ch.isalpha():
                ascii_neighbour = (prev.isascii() and prev.isalpha()) or (nxt.isascii() and nxt.isalpha())
                total += 0.25 if ascii_neighbour else -0.5
            else:
                total -= 0.5
                if _is_greek_letter(prev) or _is_greek_letter(nxt):
                    total -= 3.0
        elif ch in "\u0384\u0385":  # tonos / dialytika tonos standing alone
            total -= 0.5
            if _is_greek_letter(prev) or _is_greek_letter(nxt):
                total -= 3.0
        elif ch == "\u2019" and not prev.isalpha() and _is_greek_letter(nxt):
            total -= 3.0  # windows-1253 Ά read as iso-8859-7
        elif 0x2000 <= o <= 0x206F or ch in "€™":
            total += 0.0
        elif 0x3041 <= o <= 0x30FF:
            total += 2.0 if japanese else 0.0
        elif 0x4E00 <= o <= 0x9FFF:
            level = _cjk_level(ch, chinese=chinese, japanese=japanese)
            total += (1.6, 0.8, -0.5)[level]
            if level and _is_ascii_letter(prev) and _is_ascii_letter(nxt):
                total -= 2.0  # a rare ideograph inside a Latin word: Western bytes read as CJK
        elif 0x3000 <= o <= 0x303F or 0xFF01 <= o <= 0xFF5E:
            total += 1.0
        elif 0xFF61 <= o <= 0xFF9F or 0x3400 <= o <= 0x4DBF:
            total -= 1.0
        elif 0xE000 <= o <= 0xF8FF or ch == "\ufffd":
            total -= 5.0
        elif unicodedata.category(ch).startswith("L"):
            total -= 0.5
        else:
            total -= 1.0
    return total


def _score_utf8(text: str) -> float:
    """Valid UTF-8 is the likeliest reading of any bytes that form it: every multi-byte character counts."""
    total = 0.0
    for ch in text:
        o = ord(ch)
        if o < 0x80:
            continue
        if o < 0xA0 or 0xE000 <= o <= 0xF8FF or ch == "\ufffd":
            total -= 5.0
        else:
            total += 2.0
    return total


def _sample(data: bytes) -> bytes:
    if len(data) <= _SAMPLE_BYTES:
        return data
    cut = data.rfind(b"\n", 0, _SAMPLE_BYTES)
    return data[: cut + 1] if cut > 0 else data[:_SAMPLE_BYTES]


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _utf8(data: bytes) -> str | None:
    return _try(data, "utf-8")


def _utf8_wins(utf8: str, rival: tuple[str, float] | None) -> bool:
    """Valid UTF-8 with several multi-byte sequences is UTF-8: legacy Greek, Western or CJK text almost
    never forms them. A short string (a name, a subject word) is compared with the best other reading."""
    if rival is None or sum(1 for ch in utf8 if ord(ch) > 0x7F) >= 4:
        return True
    return score(utf8, "utf-8") >= rival[1]


def _best_guess(data: bytes, first: tuple[str, ...], guesses: tuple[str, ...] = _GUESSES) -> tuple[str, float] | None:
    """Best-scoring codec among ``first`` then ``guesses``, judged on a sample of the data."""
    sample = _sample(data)
    best: tuple[str, float] | None = None
    seen: set[str] = set()
    for codec in (*first, *guesses):
        if codec in seen:
            continue
        seen.add(codec)
        text = _try(sample, codec)
        if text is None:
            continue
        value = score(text, codec)
        if best is None or value > best[1]:
            best = (codec, value)
    return best


def _full(data: bytes, codec: str, reason: str | None) -> Decoded:
    """Decode everything with the codec chosen on a sample; undecodable bytes past the sample are replaced."""
    text = _try(data, codec)
    if text is not None:
        return Decoded(text, codec, reason)
    text = data.decode(codec, errors="replace")
    extra = "some bytes could not be decoded and were replaced"
    return Decoded(text, codec, f"{reason}; {extra}" if reason else extra)


def decode_bytes(data: bytes, declared: str | None, *, hint: str | None = None) -> Decoded:
    """Decode ``data`` labelled ``declared`` (a raw label from the mail, or None); never raises.

    ``hint`` is a charset seen elsewhere in the same mail (used for raw 8-bit headers).
    """
    codec = canonical(declared)
    label = declared.strip().strip("\"'").lower() if declared else None
    if not data:
        return Decoded("", codec or "utf-8")
    if data.isascii():
        return _decode_ascii(data, codec, label)
    hint_codec = canonical(hint)
    if codec is not None:
        text = _try(_sample(data), codec)
        if text is None and codec == "cp1252":  # iso-8859-1 read as windows-1252 (as browsers do), else as itself
            text = _sample(data).decode("latin-1")
        if text is not None:
            return _check_declared(data, codec, text, label, hint_codec)
        reason = f"declared {label} does not decode"
    elif label and label not in _UNKNOWN_LABELS:
        reason = f"unknown charset {label}"
    else:
        reason = "no charset declared" if not label else f"charset {label}"
    first = (hint_codec,) if hint_codec and hint_codec != codec else ()
    guess = _best_guess(data, first)
    utf8 = _utf8(data)
    if utf8 is not None and _utf8_wins(utf8, guess):
        return Decoded(utf8, "utf-8", reason)
    if guess is not None and guess[1] > 0:
        return _full(data, guess[0], reason)
    replaced = data.decode("utf-8", errors="replace")
    if replaced.count("\ufffd") * 50 < len(replaced):
        return Decoded(replaced, "utf-8", f"{reason}; mostly utf-8, undecodable bytes replaced")
    if guess is not None:
        return _full(data, guess[0], reason)
    return Decoded(data.decode("latin-1"), "latin-1", f"{reason}; read as latin-1")


def _decode_ascii(data: bytes, codec: str | None, label: str | None) -> Decoded:
    if b"\x1b" in data and any(e in data for e in _JIS_ESCAPES):
        for jis in ("iso2022_jp_2", "iso2022_jp_ext"):
            text = _try(data, jis)
            if text is not None:
                reason = None if codec in _JAPANESE else f"declared {label or 'nothing'}, ISO-2022-JP escapes found"
                return Decoded(text, jis, reason)
    if codec is not None and codec not in _WESTERN and codec != "utf-8":
        text = _try(data, codec)
        if text is not None:
            return Decoded(text, codec)
    return Decoded(data.decode("ascii"), codec or "ascii")


def _check_declared(data: bytes, codec: str, text: str, label: str | None, hint: str | None) -> Decoded:
    """The declared codec decodes; see whether the bytes are in fact something else (mislabelled)."""
    if codec == "utf-8":
        return _full(data, codec, None)
    utf8 = None if codec.startswith(("utf", "iso2022")) else _utf8(data)
    if utf8 is not None and _utf8_wins(utf8, (codec, score(text, codec))):
        return Decoded(utf8, "utf-8", f"declared {label} but the bytes are utf-8")
    if codec in _GREEK:
        other = _GREEK[1] if codec == _GREEK[0] else _GREEK[0]
        mine = score(text, codec)
        theirs_text = _try(_sample(data), other)
        if theirs_text is not None and score(theirs_text, other) > mine:
            return _full(data, other, f"declared {label}, bytes fit {pretty(other)}")
        return _full(data, codec, None)
    if codec in _WESTERN:
        # What is really sent under a Western label: Greek (windows-1253 most often), or the mail's other charset.
        mine = score(text, codec)
        guess = _best_guess(data, (hint,) if hint and hint not in _WESTERN else (), _GREEK)
        if guess is not None and guess[0] != codec and guess[1] > max(mine, 0.0) + 2.0:
            return _full(data, guess[0], f"declared {label}, bytes fit {pretty(guess[0])}")
        if codec == "cp1252" and _try(data, "cp1252") is None:
            return Decoded(data.decode("latin-1"), "latin-1")
        return _full(data, codec, None)
    return _full(data, codec, None)
