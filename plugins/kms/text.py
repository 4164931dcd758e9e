"""Text normalisation for the knowledge-base search: folding, tokens, stop words, stems and Greeklish.

Every function here is pure and deterministic; the index and the query go through the same ones.

- `fold`: NFKD, combining marks (τόνος, διαλυτικά) dropped, case folded, final sigma ς → σ.
- `tokens`: runs of Greek letters or of Latin letters and digits (a mixed word is split between the
  scripts), at most 40 characters each.
- `stem`: the Snowball "greek" stemmer for Greek tokens, "english" for Latin ones, digits as they are.
- `phonetic_key`: a Greek stem written in a lossy Latin "sound" alphabet (η, ι, υ, ει, οι → i; ο, ω → o;
  β, μπ → v; ξ, χ → x; double letters single...). Greek words are indexed under their stem (kind "w")
  and this key (kind "k").
- `greeklish_keys`: a Latin query word read as Greeklish: spelled in Greek (ambiguous letters such as
  i → ι/η/υ/ει/οι enumerated where they matter: the ending, which drives the stemmer, and h, u), each
  spelling stemmed with the Greek stemmer and keyed. `epistrofi` → `epistrof`, the key of `επιστροφ`.
- `analyse`: a document's words (stems) and keys, stop words removed.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from typing import NamedTuple

import snowballstemmer  # type: ignore[import-untyped]
from markdown_it import MarkdownIt
from markdown_it.token import Token

MAX_TOKEN_CHARS = 40
GREEK_ALPHABET = "αβγδεζηθικλμνξοπρστυφχψω"
LATIN_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"

_TOKEN = re.compile(r"[α-ω]+|[a-z0-9]+")
_GREEK = re.compile(r"[α-ω]+")
_LATIN_WORD = re.compile(r"[a-z38]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Markdown syntax (or a line that opens a list, quote, heading or code block): plain text skips the parser.
_MARKDOWN_SYNTAX = re.compile(r"[*_\[\]<>#`\\!|~&]|^\s*(?:\d+[.)]|[-+=>]|\s{4})", re.MULTILINE)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# Combining marks dropped by `fold` (after NFKD): the blocks where Greek and Latin accents land.
_COMBINING_MARKS = {
    c: None
    for low, high in ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE20, 0xFE2F))
    for c in range(low, high + 1)
    if unicodedata.combining(chr(c))
}

# Word lists read best as text: one string per list, split once at import.
GREEK_STOP_WORDS = frozenset(
    """
    ο η το οι τα του τησ των τον την τουσ τισ ενασ ενα μια μιασ ενοσ και κι να θα με σε σ στο στη στην
    στον στα στουσ στισ στησ στου στων για απο που πωσ τι ποιοσ ποια ποιο ποιοι ποιεσ ποιον ποιου ποιασ
    ποτε οταν αν εαν ειναι ειμαι εισαι ειμαστε ειστε ηταν δεν μη μην ουτε αλλα ομωσ ωσ οτι μα μου σου μασ
    σασ εγω εσυ εμεισ εσεισ αυτοσ αυτη αυτο αυτοι αυτεσ αυτα αυτου αυτησ αυτων αυτον αυτην αυτουσ εκει εδω
    πολυ πιο ειτε μονο επισησ λοιπον καθε οποιοσ οποια οποιο οποιοι οποιου οποιασ οποιων οποιον οπωσ
    μετα πριν χωρισ κατα παρα προσ μεχρι εωσ υπο ενω αφου επειδη γιατι διοτι ωστε οσο τοσο ναι οχι κατι
    μπορω μπορει μπορουμε μπορειτε μπορουν θελω θελει θελουμε θελετε εχω εχει εχουμε εχετε εχουν
    """.split()  # noqa: SIM905
)
ENGLISH_STOP_WORDS = frozenset(
    """
    a an the and or but if of to in on at by for with from as is are was were be been being do does did
    have has had i me my we our you your it its this that these those what which who whom where when why
    how can could would should will shall may might must not no so than too very there here about into
    out up down over under again then once all any both each few more most other some such only own same
    just also am get got s t
    """.split()  # noqa: SIM905
)

_GREEK_STEMMER = snowballstemmer.stemmer("greek")
_ENGLISH_STEMMER = snowballstemmer.stemmer("english")
_MARKDOWN = MarkdownIt("commonmark")


def fold(text: str) -> str:
    """Lowercase `text` with accents and diaeresis removed and final sigma folded to σ."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", text).casefold().translate(_COMBINING_MARKS).replace("ς", "σ")


def tokens(text: str) -> list[str]:
    """The folded word tokens of `text`: Greek runs and Latin/digit runs, too-long ones dropped."""
    return [t for t in _TOKEN.findall(fold(text)) if len(t) <= MAX_TOKEN_CHARS]


def is_greek(token: str) -> bool:
    """Whether a folded token is written in Greek letters."""
    return _GREEK.fullmatch(token) is not None


def is_stop_word(token: str) -> bool:
    """Whether a folded token is a Greek or English stop word."""
    return token in GREEK_STOP_WORDS or token in ENGLISH_STOP_WORDS


@functools.lru_cache(maxsize=200_000)
def stem(token: str) -> str:
    """The Snowball stem of a folded token: Greek or English by its script, digits unchanged."""
    if token.isdigit():
        return token
    if is_greek(token):
        stemmed = str(_GREEK_STEMMER.stemWord(token))
        return stemmed if stemmed and is_greek(stemmed) else token
    stemmed = str(_ENGLISH_STEMMER.stemWord(token))
    return stemmed if stemmed and stemmed.isalnum() and stemmed.isascii() else token


_KEY_DIGRAPHS = {"ου": "u", "ει": "i", "οι": "i", "υι": "i", "αι": "e", "μπ": "v", "ντ": "d", "γκ": "g", "γγ": "g"}
_KEY_LETTERS = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i", "κ": "k", "λ": "l",
    "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s", "τ": "t", "υ": "i", "φ": "f", "χ": "x",
    "ψ": "ps", "ω": "o",
}  # fmt: skip
_VOICELESS = frozenset("θκξπστφχψ")


@functools.lru_cache(maxsize=200_000)
def phonetic_key(greek: str) -> str:
    """A folded Greek word in the Latin sound alphabet Greeklish queries are matched in."""
    out: list[str] = []
    i = 0
    while i < len(greek):
        pair = greek[i : i + 2]
        if pair in ("αυ", "ευ", "ηυ"):
            voiceless = i + 2 >= len(greek) or greek[i + 2] in _VOICELESS
            out.append(_KEY_LETTERS[pair[0]] + ("f" if voiceless else "v"))
            i += 2
        elif pair in _KEY_DIGRAPHS:
            out.append(_KEY_DIGRAPHS[pair])
            i += 2
        else:
            out.append(_KEY_LETTERS.get(greek[i], ""))
            i += 1
    return "".join(ch for ch, _ in itertools.groupby("".join(out)))


# Latin units of Greeklish, longest first, with their Greek readings (the first is the usual one).
_GREEKLISH_UNITS: dict[str, tuple[str, ...]] = {
    "th": ("θ",), "ch": ("χ",), "kh": ("χ",), "ps": ("ψ",), "ks": ("ξ",), "ph": ("φ",),
    "ou": ("ου",), "oy": ("ου",), "ei": ("ει",), "oi": ("οι", "οη"), "ai": ("αι",), "au": ("αυ",), "eu": ("ευ",),
    "mp": ("μπ",), "nt": ("ντ",), "gg": ("γγ",), "gk": ("γκ",), "ng": ("γγ",), "ts": ("τσ",), "tz": ("τζ",),
    "a": ("α",), "b": ("μπ", "β"), "c": ("κ",), "d": ("δ",), "e": ("ε", "αι"), "f": ("φ",), "g": ("γ",),
    "h": ("η", "χ"), "i": ("ι", "η", "υ", "ει", "οι"), "j": ("τζ",), "k": ("κ",), "l": ("λ",), "m": ("μ",),
    "n": ("ν",), "o": ("ο", "ω"), "p": ("π",), "q": ("κ",), "r": ("ρ",), "s": ("σ",), "t": ("τ",),
    "u": ("ου", "υ"), "v": ("β",), "w": ("ω",), "x": ("χ", "ξ"), "y": ("υ",), "z": ("ζ",), "3": ("ξ",), "8": ("θ",),
}  # fmt: skip
_VOWEL_UNITS = frozenset({"a", "e", "i", "o", "u", "y", "w", "h", "ou", "oy", "ei", "oi", "ai"})
_KEY_AMBIGUOUS = frozenset({"h", "u", "oi"})
_MAX_SPELLINGS = 128


def _greeklish_units(word: str) -> list[str]:
    """`word` cut into Greeklish units, longest match first (`nth` is n + th, not nt + h)."""
    units: list[str] = []
    i = 0
    while i < len(word):
        pair = word[i : i + 2]
        if len(pair) == 2 and pair in _GREEKLISH_UNITS and not (pair[1] in "tpkc" and word[i + 2 : i + 3] == "h"):
            units.append(pair)
            i += 2
        else:
            units.append(word[i])
            i += 1
    return units


@functools.lru_cache(maxsize=50_000)
def greeklish_spellings(word: str) -> tuple[str, ...]:
    """The Greek spellings a folded Latin word may stand for: ambiguous endings, h and u enumerated."""
    if _LATIN_WORD.fullmatch(word) is None:
        return ()
    units = _greeklish_units(word)
    vowel_positions = [i for i, u in enumerate(units) if u in _VOWEL_UNITS]
    enumerated = set(vowel_positions if len(word) <= 6 else vowel_positions[-2:])
    enumerated |= {i for i, u in enumerate(units) if u in _KEY_AMBIGUOUS}
    choices = [_GREEKLISH_UNITS[u] if i in enumerated else _GREEKLISH_UNITS[u][:1] for i, u in enumerate(units)]
    spellings = itertools.islice(itertools.product(*choices), _MAX_SPELLINGS)
    return tuple(dict.fromkeys("".join(parts) for parts in spellings))


@functools.lru_cache(maxsize=50_000)
def is_greeklish_stop_word(word: str) -> bool:
    """Whether some Greek reading of a folded Latin word is a Greek stop word (`pou`, `einai`, `tis`)."""
    return any(spelling in GREEK_STOP_WORDS for spelling in greeklish_spellings(word))


@functools.lru_cache(maxsize=50_000)
def greeklish_keys(word: str) -> tuple[str, ...]:
    """The phonetic keys of the stems of every Greek reading of a folded Latin word, sorted."""
    return tuple(sorted({phonetic_key(stem(spelling)) for spelling in greeklish_spellings(word)} - {""}))


class Analysed(NamedTuple):
    """A text as the index sees it: its stems in order, and the phonetic keys of its Greek stems."""

    words: tuple[str, ...]
    keys: tuple[str, ...]

    def truncated(self, size: int) -> Analysed:
        """At most `size` words (and keys)."""
        return Analysed(self.words[:size], self.keys[:size])


@functools.lru_cache(maxsize=200_000)
def index_terms(token: str) -> tuple[str, str] | None:
    """A folded token's stem and (for Greek) phonetic key, or None for a stop word."""
    if is_stop_word(token):
        return None
    stemmed = stem(token)
    return stemmed, phonetic_key(stemmed) if is_greek(stemmed) else ""


def analyse(text: str) -> Analysed:
    """The stems and phonetic keys of a document's text, stop words removed."""
    words: list[str] = []
    keys: list[str] = []
    for token in tokens(text):
        terms = index_terms(token)
        if terms is not None:
            words.append(terms[0])
            if terms[1]:
                keys.append(terms[1])
    return Analysed(tuple(words), tuple(keys))


def clean(text: str) -> str:
    """`text` without NUL and other control characters (newlines and tabs kept)."""
    return _CONTROL.sub(" ", text)


def _inline_text(children: list[Token]) -> list[str]:
    """The visible text of a Markdown inline run (link targets and raw HTML left out)."""
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.children:
            parts.extend(_inline_text(child.children))
    return parts


def markdown_to_text(markdown: str) -> str:
    """The plain text of a Markdown body, one line per block, whitespace collapsed."""
    source = clean(markdown)
    if _MARKDOWN_SYNTAX.search(source) is None:  # plain paragraphs: what the parser would give, faster
        blocks = _BLANK_LINE.split(source)
    else:
        blocks = []
        for token in _MARKDOWN.parse(source):
            if token.type == "inline":
                blocks.append("".join(_inline_text(token.children or [])))
            elif token.type in ("fence", "code_block"):
                blocks.append(token.content)
    return "\n".join(" ".join(block.split()) for block in blocks if block.strip())
