"""Query analysis: alternatives, stem families, one-edit neighbours; the pg_trgm threshold that lets
PostgreSQL find exactly the typo neighbours SQLite finds by listing every one-edit variant."""

from __future__ import annotations

import random
from pathlib import Path

import aiosqlite
import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.kms import query, text
from plugins.kms.search import IndexDoc
from plugins.kms.search_postgres import PostgresSearchIndex
from plugins.kms.search_sqlite import SqliteSearchIndex

greek_words = st.text(alphabet=text.GREEK_ALPHABET, min_size=1, max_size=12)
latin_words = st.text(alphabet=text.LATIN_ALPHABET, min_size=1, max_size=12)


def pg_trgm_similarity(a: str, b: str) -> float:
    """pg_trgm's similarity() for one lowercase alphanumeric word each."""

    def trigrams(word: str) -> set[str]:
        padded = f"  {word} "
        return {padded[i : i + 3] for i in range(len(padded) - 2)}

    left, right = trigrams(a), trigrams(b)
    return len(left & right) / len(left | right)


def test_parse_gives_alternatives() -> None:
    words = query.parse("Πού είναι η ΕΠΙΣΤΡΟΦΉ; refund epistrofi 14")
    assert [w.word for w in words] == ["επιστροφη", "refund", "epistrofi", "14"]
    greek, english, greeklish, number = words
    assert greek.alternatives[0] == query.Alternative("w", "επιστροφ", 1.0)
    assert greek.alternatives[1].kind == "k"
    assert english.alternatives[0] == query.Alternative("w", "refund", 1.0)
    assert ("k", "epistrof") in {(a.kind, a.term) for a in greeklish.alternatives}
    assert number.alternatives == (query.Alternative("w", "14", 1.0),)


def test_parse_drops_stop_words_and_duplicates() -> None:
    assert query.parse("πού είναι η μου pou einai i mou the of") == []
    assert len(query.parse("κάρτα ΚΑΡΤΑ καρτα")) == 1
    assert len(query.parse(" ".join(f"λέξη{n}" for n in range(40)))) <= query.MAX_QUERY_WORDS


def test_prepare_refuses_long_queries() -> None:
    assert query.prepare("  α\x00β  ") == "α β"
    query.prepare("x" * query.MAX_QUERY_CHARS)
    with pytest.raises(query.QueryError, match="at most 500"):
        query.prepare("x" * (query.MAX_QUERY_CHARS + 1))
    assert isinstance(query.QueryError("x"), ValueError)


def test_stem_family() -> None:
    assert query.in_family("τιμολογι", "τιμολο")
    assert query.in_family("κωδ", "κωδικ")
    assert not query.in_family("πληρωμ", "πληροφ")
    assert not query.in_family("καρτ", "καρτ")
    assert not query.in_family("επιστροφ", "επιστ")


def test_near_stems_catch_typos_the_stemmer_keeps() -> None:
    assert ("w", text.stem("instalments")) in query.near_stems("instalmnets")
    assert query.near_stems("abc") == frozenset()


@settings(max_examples=300, deadline=None)
@given(st.one_of(greek_words, latin_words), st.data())
def test_edits1_is_exactly_one_edit(word: str, data: st.DataObject) -> None:
    variants = query.edits1(word)
    assert word not in variants
    alphabet = text.GREEK_ALPHABET if text.is_greek(word) else text.LATIN_ALPHABET
    other = data.draw(st.text(alphabet=alphabet, min_size=max(0, len(word) - 1), max_size=len(word) + 1))
    assert (other in variants) == query.within_one_edit(word, other)
    for variant in random.Random(word).sample(sorted(variants), min(20, len(variants))):
        assert query.within_one_edit(word, variant)


@settings(max_examples=300, deadline=None)
@given(st.one_of(greek_words, latin_words).filter(lambda w: len(w) >= query.MIN_TYPO_CHARS))
def test_trigram_threshold_admits_every_one_edit_neighbour(word: str) -> None:
    threshold = query.trigram_threshold(word)
    assert 0.0 < threshold < 1.0
    assert all(pg_trgm_similarity(word, variant) > threshold for variant in query.edits1(word))


async def test_typo_neighbours_are_the_same_on_both_databases(pg_url: str, tmp_path: Path) -> None:
    rng = random.Random(7)
    alphabet = text.GREEK_ALPHABET[:8]  # a small alphabet: many words one edit apart
    vocabulary = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(4, 8))) for _ in range(400)})
    docs = [IndexDoc(article_id=f"a{i}", locale="el", title=word, body="") for i, word in enumerate(vocabulary)]
    stems = sorted({text.stem(word) for word in vocabulary})
    probes: list[tuple[query.Kind, str]] = [
        ("w", stem[: i % len(stem)] + "ζ" + stem[i % len(stem) :]) for i, stem in enumerate(stems)
    ]
    probes = [(kind, term) for kind, term in probes if len(term) >= query.MIN_TYPO_CHARS]
    async with aiosqlite.connect(tmp_path / "typos.db") as conn:
        on_sqlite = SqliteSearchIndex(conn)
        await on_sqlite.create_schema()
        await on_sqlite.index_many(docs)
        sqlite_found = await on_sqlite._typos(probes)
    pg = await asyncpg.connect(pg_url)
    try:
        await pg.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        await pg.execute("CREATE SCHEMA kms_typos")
        await pg.execute("SET search_path = kms_typos, public")
        on_postgres = PostgresSearchIndex(pg)
        await on_postgres.create_schema()
        await on_postgres.index_many(docs)
        postgres_found = await on_postgres._typos(probes)
        await pg.execute("DROP SCHEMA kms_typos CASCADE")
    finally:
        await pg.close()
    assert sum(len(found) for found in sqlite_found.values()) > len(probes)  # the test means something
    assert sqlite_found == postgres_found
