"""Hostile and odd input, on both databases: queries never raise except `QueryError` for over-long
ones; documents with NUL bytes, HTML and Markdown are stored and shown safely."""

from __future__ import annotations

import pytest

from plugins.kms.search import IndexDoc, IndexedSearch, QueryError

ODD_QUERIES = [
    "",
    "   ",
    "\x00",
    "κάρτα\x00κάρτα",
    "\x00' OR 1=1 --",
    "' OR 1=1 --",
    "'; DROP TABLE kms_search_docs; --",
    '"foo" NEAR bar*',
    "NEAR(κάρτα πληρωμή, 2)",
    "title: κάρτα",
    "{title body}: κάρτα",
    "κάρτα AND OR NOT",
    "^κάρτα",
    "κάρτα*",
    '"',
    "'",
    "\\",
    "κάρτα & !πληρωμή | (δόσεις",
    "κάρτα:* <-> πληρωμή:AB",
    "%_%",
    "🙂🙂🙂",
    "ÆØÅ ß ı ﬁ",
    "x" * 41,
    "κάρτα " * 80,
    "a b c d e f g h i j k l m n o p q r s t u v w x y z",
]


@pytest.mark.parametrize("raw", ODD_QUERIES)
async def test_odd_queries_never_raise(corpus_index: IndexedSearch, raw: str) -> None:
    hits = await corpus_index.search(raw)
    assert isinstance(hits, list)
    for hit in hits:
        assert hit.score > 0


async def test_syntax_is_searched_as_words(corpus_index: IndexedSearch) -> None:
    plain = await corpus_index.search("κάρτα πληρωμή", locale="el")
    dressed = await corpus_index.search('"κάρτα" NEAR πληρωμή*', locale="el")
    assert [h.article_id for h in dressed] == [h.article_id for h in plain]
    # What is left of SQL is words: here the number 1 ("1 πόντο για κάθε 1 €").
    assert await corpus_index.search("' OR 1=1 --") == await corpus_index.search("1")


@pytest.mark.parametrize("length", [501, 5_000])
async def test_over_long_queries_are_refused(corpus_index: IndexedSearch, length: int) -> None:
    with pytest.raises(QueryError, match="shorten it to at most 500"):
        await corpus_index.search("α" * length)


async def test_long_query_within_the_limit(corpus_index: IndexedSearch) -> None:
    hits = await corpus_index.search(("αντικαταβολή " * 50)[:500])
    assert hits[0].article_id == "cod"
    assert await corpus_index.search("   " + "κάρτα" + " " * 4_000) != []  # trimmed first


async def test_unknown_visibility_finds_nothing(corpus_index: IndexedSearch) -> None:
    assert await corpus_index.search("κάρτα", visibility=()) == []
    assert await corpus_index.search("κάρτα", visibility=("secret",)) == []  # type: ignore[arg-type]


async def test_hostile_documents(empty_index: IndexedSearch) -> None:
    await empty_index.index(
        IndexDoc(
            article_id="x\x00",
            locale="el",
            title="Κάρτα\x00 <script>alert(1)</script>",
            body='Πληρωμή με **κάρτα** & <img src=x onerror=alert(1)> \x00 \' OR 1=1 -- "NEAR"',
        )
    )
    hits = await empty_index.search("κάρτα")
    assert [h.article_id for h in hits] == ["x"]
    snippet = hits[0].snippet
    assert "<mark>κάρτα</mark>" in snippet
    assert "<img" not in snippet and "onerror" not in snippet and "<script" not in snippet  # raw HTML is not text
    assert "&amp;" in snippet and "&#x27; OR 1=1" in snippet
    assert "\x00" not in snippet


async def test_empty_index(empty_index: IndexedSearch) -> None:
    assert await empty_index.search("κάρτα") == []
    await empty_index.remove("nothing")


async def test_documents_need_an_id_and_a_locale(empty_index: IndexedSearch) -> None:
    with pytest.raises(ValueError, match="article_id and a locale"):
        await empty_index.index(IndexDoc(article_id="", locale="el", title="x", body="y"))
    with pytest.raises(ValueError, match="visibility"):
        await empty_index.index(IndexDoc(article_id="a", locale="el", title="x", body="y", visibility="secret"))  # type: ignore[arg-type]


async def test_huge_document(empty_index: IndexedSearch) -> None:
    body = " ".join(f"λέξη{n % 500} κάρτα" for n in range(15_000)) + " τέλος"  # 30,001 words
    await empty_index.index(IndexDoc(article_id="huge", locale="el", title="Μεγάλο άρθρο", body=body))
    await empty_index.index(IndexDoc(article_id="small", locale="el", title="Κάρτα", body="Πληρωμή με κάρτα."))
    assert {h.article_id for h in await empty_index.search("κάρτα")} == {"huge", "small"}
    assert await empty_index.search("τέλος") == []  # past the indexed part
    assert [h.article_id for h in await empty_index.search("μεγάλο άρθρο")] == ["huge"]
