"""What an article's text becomes: Markdown rendered to sanitised HTML, slugs transliterated from
Greek titles, and the plain document two versions are diffed as. Pure functions, no I/O."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Mapping

import nh3
from markdown_it import MarkdownIt

# Raw HTML in the Markdown is shown as text, never passed through; nh3 then keeps only safe tags
# and URL schemes (no script, no event attributes, no javascript: links), whatever the renderer did.
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])
_ALLOWED_SCHEMES = {"http", "https", "mailto", "tel"}

MAX_SLUG_CHARS = 80
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SLUG = re.compile(SLUG_PATTERN)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_DIAERESIS = "\u0308"

# ELOT 743 (the Greek standard for Latin transliteration), simplified where it depends on sound.
_GREEK_PAIRS = {
    "ου": "ou", "αυ": "av", "ευ": "ev", "ηυ": "iv", "γγ": "ng", "γκ": "gk", "γξ": "nx", "γχ": "nch",
    "μπ": "mp", "ντ": "nt", "τσ": "ts", "τζ": "tz",
}  # fmt: skip
_GREEK_LETTERS = dict(
    zip(
        "αβγδεζηθικλμνξοπρσςτυφχψω",
        "a v g d e z i th i k l m n x o p r s s t y f ch ps o".split(),  # noqa: SIM905
        strict=True,
    )
)


def render_markdown(markdown: str) -> str:
    """The article body as HTML safe to put in any page (CommonMark, tables, strikethrough)."""
    return nh3.clean(_MARKDOWN.render(markdown), url_schemes=_ALLOWED_SCHEMES)


def transliterate(text: str) -> str:
    """Greek letters written in Latin (ELOT 743, simplified): `Πολιτική επιστροφών` → `Politiki epistrofon`.
    A diaeresis keeps two vowels apart (`αϋ` → `ay`, not `av`); everything else is left as it is."""
    letters: list[tuple[str, bool, bool]] = []  # (lower-case base letter, had a diaeresis, was upper case)
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char):
            if char == _DIAERESIS and letters:
                base, _, upper = letters[-1]
                letters[-1] = (base, True, upper)
            continue
        letters.append((char.lower(), False, char != char.lower()))
    out: list[str] = []
    i = 0
    while i < len(letters):
        base, _, upper = letters[i]
        pair = base + letters[i + 1][0] if i + 1 < len(letters) and not letters[i + 1][1] else ""
        size = 2 if pair in _GREEK_PAIRS else 1
        latin = _GREEK_PAIRS[pair] if size == 2 else _GREEK_LETTERS.get(base, base)
        # Upper case followed by upper case is a word in capitals: ΘΕΜΑ → THEMA, not ThEMA.
        shouting = upper and i + size < len(letters) and letters[i + size][2]
        out.append(latin.upper() if shouting else latin.capitalize() if upper else latin)
        i += size
    return "".join(out)


def slugify(title: str) -> str:
    """A URL slug for a title: transliterated, lower case, words joined by hyphens ("" when none)."""
    latin = unicodedata.normalize("NFKD", transliterate(title))
    ascii_only = latin.encode("ascii", "ignore").decode().lower()
    slug = _NOT_SLUG.sub("-", ascii_only).strip("-")
    return slug[:MAX_SLUG_CHARS].rstrip("-")


def is_slug(value: str) -> bool:
    return len(value) <= MAX_SLUG_CHARS and bool(_SLUG.match(value))


def numbered_slug(base: str, n: int) -> str:
    """The n-th alternative of a slug already taken: `returns`, `returns-2`, `returns-3`…"""
    if n <= 1:
        return base
    suffix = f"-{n}"
    return base[: MAX_SLUG_CHARS - len(suffix)].rstrip("-") + suffix


def version_document(
    slug: str, category: str | None, visibility: str, translations: Mapping[str, Mapping[str, str]]
) -> str:
    """An article version as one plain text, the way two versions are compared: its settings, then
    each translation's title and body, locales in order."""
    lines = [f"slug: {slug}", f"category: {category or ''}", f"visibility: {visibility}"]
    for locale in sorted(translations):
        translation = translations[locale]
        lines += ["", f"title[{locale}]: {translation['title']}", f"body[{locale}]:", *translation["body"].splitlines()]
    return "\n".join(lines) + "\n"


def unified_diff(before: str, after: str, *, from_label: str, to_label: str) -> str:
    """The unified diff of two version documents ("" when they are the same)."""
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=from_label, tofile=to_label
        )
    )
