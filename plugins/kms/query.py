"""A search query as the index asks it: words, each with alternative index terms, resolved against
the vocabulary (exact terms, stem family, one-letter typos) into weighted terms.

Terms are `(kind, term)` pairs: kind "w" is a stem (Greek or English), kind "k" a phonetic key
(see `plugins.kms.text`). Resolution is pure Python over what the database returns for the same
probes, so SQLite and PostgreSQL resolve a query identically.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Literal, NamedTuple

from plugins.kms import text

MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 12
MAX_TERMS_PER_WORD = 12
MAX_TYPO_PROBES = 8
MIN_TYPO_CHARS = 4  # shorter terms are not typo-expanded: one edit away from too many words
MIN_FAMILY_CHARS = 3
FAMILY_SPAN = 2  # a stem family: terms that extend or shorten the stem by at most this many letters

WEIGHT_KEY_GREEKLISH = 0.9  # a Latin word read as Greeklish
WEIGHT_KEY_GREEK = 0.85  # a Greek word matched by sound (η/ι, ο/ω spelling mistakes)
WEIGHT_FAMILY = 0.8
WEIGHT_TYPO = 0.7

Kind = Literal["w", "k"]
# Stored phonetic keys start with this mark, so a key never shares a lexeme with a stem and the
# PostgreSQL tsquery needs no weight labels to tell them apart (labels force a slow heap recheck).
KEY_MARK = "0"


def lexeme(kind: Kind, term: str) -> str:
    """A term as the full-text tables store it."""
    return KEY_MARK + term if kind == "k" else term


class QueryError(ValueError):
    """A query the search refuses (too long); the message says what to change."""


class Alternative(NamedTuple):
    """One index term a query word may stand for, with the weight a match on it earns."""

    kind: Kind
    term: str
    weight: float


class QueryWord(NamedTuple):
    """A query word (folded) and the index terms it may stand for, best first."""

    word: str
    alternatives: tuple[Alternative, ...]


class ResolvedTerm(NamedTuple):
    """An index term found in the vocabulary for a query word: weight and document frequency."""

    kind: Kind
    term: str
    weight: float
    df: int


class Probes(NamedTuple):
    """What to look up in the vocabulary: exact terms, and prefixes with a maximum term length."""

    exact: frozenset[tuple[Kind, str]]
    prefixes: frozenset[tuple[Kind, str, int]]


def prepare(query: str) -> str:
    """The query with control characters removed and whitespace collapsed; refuses over-long ones."""
    cleaned = " ".join(text.clean(query).split())
    if len(cleaned) > MAX_QUERY_CHARS:
        raise QueryError(f"search query is {len(cleaned)} characters long; shorten it to at most {MAX_QUERY_CHARS}")
    return cleaned


def parse(query: str) -> list[QueryWord]:
    """The distinct meaningful words of a query with their alternative terms ([] when none)."""
    words: dict[str, QueryWord] = {}
    for token in text.tokens(prepare(query)):
        if token in words or text.is_stop_word(token):
            continue
        if text.is_greek(token):
            stemmed = text.stem(token)
            alternatives = [
                Alternative("w", stemmed, 1.0),
                Alternative("k", text.phonetic_key(stemmed), WEIGHT_KEY_GREEK),
            ]
        elif token.isdigit():
            alternatives = [Alternative("w", token, 1.0)]
        elif text.is_greeklish_stop_word(token):
            continue
        else:
            alternatives = [Alternative("w", text.stem(token), 1.0)]
            alternatives += [Alternative("k", key, WEIGHT_KEY_GREEKLISH) for key in text.greeklish_keys(token)]
        unique: dict[tuple[Kind, str], Alternative] = {}
        for alt in alternatives:
            if alt.term:
                unique.setdefault((alt.kind, alt.term), alt)
        words[token] = QueryWord(token, tuple(unique.values()))
        if len(words) == MAX_QUERY_WORDS:
            break
    return list(words.values())


def _has_family(alternative: Alternative) -> bool:
    """Whether an alternative's stem family is searched (Greek stems and keys; English stems are stable)."""
    return len(alternative.term) >= MIN_FAMILY_CHARS and (alternative.kind == "k" or text.is_greek(alternative.term))


def probes(words: Iterable[QueryWord]) -> Probes:
    """The vocabulary look-ups a query needs: each term, its shorter family and a prefix scan for longer."""
    exact: set[tuple[Kind, str]] = set()
    prefixes: set[tuple[Kind, str, int]] = set()
    for word in words:
        for alt in word.alternatives:
            exact.add((alt.kind, alt.term))
            if _has_family(alt):
                for cut in range(1, FAMILY_SPAN + 1):
                    if len(alt.term) - cut >= MIN_FAMILY_CHARS:
                        exact.add((alt.kind, alt.term[:-cut]))
                prefixes.add((alt.kind, alt.term, len(alt.term) + FAMILY_SPAN))
    return Probes(frozenset(exact), frozenset(prefixes))


def successor(prefix: str) -> str:
    """The smallest string after every string that starts with `prefix` (code point order): a prefix
    scan is `prefix <= term < successor(prefix)`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def in_family(stem: str, other: str) -> bool:
    """Whether `other` extends or shortens `stem` by one or two letters (τιμολογι ~ τιμολο)."""
    if other == stem or min(len(stem), len(other)) < MIN_FAMILY_CHARS or abs(len(stem) - len(other)) > FAMILY_SPAN:
        return False
    return other.startswith(stem) or stem.startswith(other)


def typo_probes(words: Iterable[QueryWord], known: Mapping[tuple[Kind, str], int]) -> list[tuple[Kind, str]]:
    """The terms to typo-expand: every long enough alternative of a word with no term in the vocabulary."""
    found: list[tuple[Kind, str]] = []
    for word in words:
        if _matches(word, known):
            continue
        found.extend((a.kind, a.term) for a in word.alternatives if len(a.term) >= MIN_TYPO_CHARS)
    return list(dict.fromkeys(found))[:MAX_TYPO_PROBES]


@functools.lru_cache(maxsize=10_000)
def near_stems(token: str) -> frozenset[tuple[Kind, str]]:
    """The stems of the strings one deletion or neighbour swap from a query token (instalmnets → instal).

    Catches typos the stemmer would otherwise carry into a different stem.
    """
    if token.isdigit() or len(token) <= MIN_TYPO_CHARS:
        return frozenset()
    variants = {token[:i] + token[i + 1 :] for i in range(len(token))}
    variants |= {token[:i] + token[i + 1] + token[i] + token[i + 2 :] for i in range(len(token) - 1)}
    own = text.stem(token)
    return frozenset(("w", stemmed) for stemmed in map(text.stem, variants - {token}) if stemmed != own)


def near_probes(words: Iterable[QueryWord], known: Mapping[tuple[Kind, str], int]) -> frozenset[tuple[Kind, str]]:
    """The near stems to look up for the words with no term in the vocabulary."""
    return frozenset().union(*(near_stems(word.word) for word in words if not _matches(word, known)))


def _matches(word: QueryWord, known: Mapping[tuple[Kind, str], int]) -> list[ResolvedTerm]:
    """The vocabulary terms a word's alternatives meet exactly or by stem family."""
    out: list[ResolvedTerm] = []
    for alt in word.alternatives:
        df = known.get((alt.kind, alt.term))
        if df:
            out.append(ResolvedTerm(alt.kind, alt.term, alt.weight, df))
        if _has_family(alt):
            out.extend(
                ResolvedTerm(kind, term, alt.weight * WEIGHT_FAMILY, n)
                for (kind, term), n in known.items()
                if kind == alt.kind and n and in_family(alt.term, term)
            )
    return out


def resolve(
    words: Iterable[QueryWord],
    known: Mapping[tuple[Kind, str], int],
    typos: Mapping[tuple[Kind, str], Mapping[str, int]],
) -> list[tuple[ResolvedTerm, ...]]:
    """Each word's index terms found in the vocabulary (exact, family, else typo), best weight first.

    `known` maps the vocabulary terms the probes (and the near stems) found to their document
    frequency; `typos` maps a typo probe to the vocabulary terms one edit away and their document
    frequency. Words that meet nothing are left out.
    """
    groups: list[tuple[ResolvedTerm, ...]] = []
    for word in words:
        found = _matches(word, known)
        if not found:
            for alt in word.alternatives:
                for term, df in sorted(typos.get((alt.kind, alt.term), {}).items()):
                    if df:
                        found.append(ResolvedTerm(alt.kind, term, alt.weight * WEIGHT_TYPO, df))
            for kind, term in sorted(near_stems(word.word)):
                if known.get((kind, term)):
                    found.append(ResolvedTerm(kind, term, WEIGHT_TYPO, known[(kind, term)]))
        best: dict[tuple[Kind, str], ResolvedTerm] = {}
        for resolved in sorted(found, key=lambda t: (-t.weight, t.kind, t.term)):
            best.setdefault((resolved.kind, resolved.term), resolved)
        if best:
            groups.append(tuple(best.values())[:MAX_TERMS_PER_WORD])
    return groups


def edits1(term: str) -> set[str]:
    """Every string one edit (delete, swap of neighbours, replace, insert) from `term` in its script."""
    alphabet = text.GREEK_ALPHABET if text.is_greek(term) else text.LATIN_ALPHABET
    splits = [(term[:i], term[i:]) for i in range(len(term) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in alphabet}
    out |= {a + c + b for a, b in splits for c in alphabet}
    out.discard(term)
    return out


def within_one_edit(a: str, b: str) -> bool:
    """Whether two different strings are one edit apart (optimal string alignment distance 1)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    return a[i + 1 :] == b[i + 1 :] or (
        i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    )


def trigram_threshold(term: str) -> float:
    """A pg_trgm similarity every string one edit from `term` reaches (so `%` finds them all).

    An edit changes at most 4 of a word's padded trigrams and adds at most 4, and leaves one intact.
    """
    padded = f"  {term} "
    count = len({padded[i : i + 3] for i in range(len(padded) - 2)})
    bound = max((count - 4) / (count + 4), 1 / (2 * len(term) + 3))
    return max(0.0, bound - 0.02)
