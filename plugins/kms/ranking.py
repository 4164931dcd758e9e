"""The final ranking of search candidates (BM25F over title and body, computed in Python from the
stored tokens, so both databases rank alike) and the snippets shown with the hits."""

from __future__ import annotations

import functools
import html
import math
import re
from collections import Counter
from collections.abc import Collection, Sequence
from typing import NamedTuple

from plugins.kms import text
from plugins.kms.query import Kind, ResolvedTerm, lexeme

K1 = 1.2
TITLE_WEIGHT = 3.0  # a title match counts three body matches
TITLE_B = 0.5  # length normalisation: titles are short and alike, bodies vary
BODY_B = 0.75
TITLE_COVERAGE = 0.5  # up to +50% when the query's terms cover the whole title ("πού είναι η παραγγελία μου")
SNIPPET_WORDS = 28
SNIPPET_LEAD = 4  # words of context kept before the first marked word

_RUN = re.compile(r"[^\W_]+")
_SPACE = re.compile(r"\s+")


class Stats(NamedTuple):
    """Corpus figures for BM25: documents, and their total title and body lengths in tokens."""

    docs: int
    title_tokens: int
    body_tokens: int


class Candidate(NamedTuple):
    """A document the database matched, with its stored token strings (space-separated)."""

    doc_id: int
    article_id: str
    locale: str
    title_words: str
    body_words: str
    title_keys: str
    body_keys: str
    title_len: int
    body_len: int


class Ranked(NamedTuple):
    """A candidate and its score."""

    score: float
    candidate: Candidate


def idf(df: int, docs: int) -> float:
    """Inverse document frequency, BM25's (never negative)."""
    return math.log(1.0 + (docs - df + 0.5) / (df + 0.5))


def score(groups: Sequence[tuple[ResolvedTerm, ...]], candidate: Candidate, stats: Stats) -> float:
    """BM25F of a candidate: per query word the best of its terms, summed, times the share of words met."""
    if not groups or stats.docs <= 0:
        return 0.0
    avg_title = max(stats.title_tokens / stats.docs, 1.0)
    avg_body = max(stats.body_tokens / stats.docs, 1.0)
    title_norm = 1.0 - TITLE_B + TITLE_B * candidate.title_len / avg_title
    body_norm = 1.0 - BODY_B + BODY_B * candidate.body_len / avg_body
    kinds = {term.kind for group in groups for term in group}
    empty: Counter[str] = Counter()
    counts: dict[Kind, tuple[Counter[str], Counter[str]]] = {
        "w": (Counter(candidate.title_words.split()), Counter(candidate.body_words.split())),
        "k": (Counter(candidate.title_keys.split()), Counter(candidate.body_keys.split()))
        if "k" in kinds
        else (empty, empty),
    }
    total = 0.0
    met = 0
    wanted: dict[Kind, set[str]] = {"w": set(), "k": set()}
    for group in groups:
        best = 0.0
        for term in group:
            title, body = counts[term.kind]
            stored = lexeme(term.kind, term.term)
            wanted[term.kind].add(stored)
            tf = TITLE_WEIGHT * title[stored] / title_norm + body[stored] / body_norm
            if tf > 0.0:
                best = max(best, term.weight * idf(term.df, stats.docs) * tf * (K1 + 1.0) / (tf + K1))
        if best > 0.0:
            met += 1
            total += best
    coverage = max(_covered(counts["w"][0], wanted["w"]), _covered(counts["k"][0], wanted["k"]))
    return total * met / len(groups) * (1.0 + TITLE_COVERAGE * coverage)


def _covered(title: Counter[str], terms: set[str]) -> float:
    """The share of a title's tokens that are query terms."""
    length = title.total()
    return sum(n for token, n in title.items() if token in terms) / length if length else 0.0


def rank(
    groups: Sequence[tuple[ResolvedTerm, ...]], candidates: Collection[Candidate], stats: Stats, *, per_article: bool
) -> list[Ranked]:
    """Candidates best first (ties by article id, then locale); one per article when `per_article`."""
    scored = [Ranked(score(groups, c, stats), c) for c in candidates]
    scored = [r for r in scored if r.score > 0.0]
    scored.sort(key=lambda r: (-r.score, r.candidate.article_id, r.candidate.locale))
    if not per_article:
        return scored
    seen: set[str] = set()
    unique: list[Ranked] = []
    for ranked in scored:
        if ranked.candidate.article_id not in seen:
            seen.add(ranked.candidate.article_id)
            unique.append(ranked)
    return unique


@functools.lru_cache(maxsize=100_000)
def _word_terms(word: str) -> frozenset[tuple[Kind, str]]:
    """The index terms a word of the text stands for."""
    terms: set[tuple[Kind, str]] = set()
    for token in text.tokens(word):
        found = text.index_terms(token)
        if found is not None:
            terms.add(("w", found[0]))
            if found[1]:
                terms.add(("k", found[1]))
    return frozenset(terms)


def snippet(body: str, matched: Collection[tuple[Kind, str]], *, words: int = SNIPPET_WORDS) -> str:
    """An HTML snippet of `body` around the densest run of matched words, each in `<mark>`, the rest escaped."""
    runs = list(_RUN.finditer(body))
    if not runs:
        return html.escape(" ".join(body.split())[:200])
    wanted = frozenset(matched)
    marks = [not _word_terms(run.group()).isdisjoint(wanted) for run in runs]
    start, best = 0, sum(marks[:words])
    current = best
    for i in range(1, max(1, len(runs) - words + 1)):
        current += marks[i + words - 1] - marks[i - 1]
        if current > best:
            start, best = i, current
    if best:
        first = next(i for i in range(start, len(runs)) if marks[i])
        start = max(0, min(first - SNIPPET_LEAD, len(runs) - words))
    end = min(len(runs), start + words)
    parts = ["… " if start > 0 else ""]
    for i in range(start, end):
        if i > start:
            parts.append(html.escape(_SPACE.sub(" ", body[runs[i - 1].end() : runs[i].start()])))
        word = html.escape(runs[i].group())
        parts.append(f"<mark>{word}</mark>" if marks[i] else word)
    tail = body[runs[end - 1].end() :]
    if end < len(runs):
        parts.append(" …")
    elif tail.strip():
        parts.append(html.escape(" ".join(tail.split())))
    return "".join(parts)
