"""Normalisation: folding (accents, diaeresis, case, final sigma), tokens, stems, stop words, Greeklish."""

from __future__ import annotations

import pytest

from plugins.kms import text


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Επιστροφή", "επιστροφη"),
        ("ΕΠΙΣΤΡΟΦΉ", "επιστροφη"),
        ("άέήίόύώ ΆΈΉΊΌΎΏ", "αεηιουω αεηιουω"),
        ("ϊ ΐ ϋ ΰ Ϊ Ϋ", "ι ι υ υ ι υ"),
        ("Προϋπόθεση, αϊτός, ρολόι", "προυποθεση, αιτοσ, ρολοι"),
        ("ΟΔΟΣ οδός Σίσυφος", "οδοσ οδοσ σισυφοσ"),
        ("Café, naïve, ﬁle", "cafe, naive, file"),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert text.fold(raw) == folded


def test_fold_makes_spellings_meet() -> None:
    spellings = ["επιστροφής", "ΕΠΙΣΤΡΟΦΗΣ", "Επιστροφης", "επιστροφήσ", "ΕΠΙΣΤΡΟΦΉΣ"]
    assert len({text.fold(s) for s in spellings}) == 1


def test_tokens_split_scripts_and_drop_noise() -> None:
    assert text.tokens("iPhone15 και Galaxy-S24!") == ["iphone15", "και", "galaxy", "s24"]
    assert text.tokens("ΑΦΜ:123456789, e-mail") == ["αφμ", "123456789", "e", "mail"]
    assert text.tokens("αβγabc") == ["αβγ", "abc"]
    assert text.tokens("\x00κάρτα\x00") == ["καρτα"]
    assert text.tokens("x" * 41 + " ok") == ["ok"]
    assert text.tokens("— … «» 🙂") == []


@pytest.mark.parametrize(
    "forms",
    [
        ["επιστροφή", "επιστροφές", "επιστροφών", "ΕΠΙΣΤΡΟΦΗΣ"],
        ["αντικαταβολή", "αντικαταβολής"],
        ["πληρωμή", "πληρωμές", "πληρωμών"],
        ["παράδοση", "παραδόσεις", "παράδοσης"],
        ["refund", "refunds", "refunded"],
        ["delivery", "deliveries"],
    ],
)
def test_stems_meet(forms: list[str]) -> None:
    assert len({text.stem(text.fold(form)) for form in forms}) == 1


def test_stems_are_stable_for_digits_and_accents() -> None:
    assert text.stem("2024") == "2024"
    assert text.stem(text.fold("Τιμολόγιο")) == text.stem("τιμολογιο")


def test_stop_words_are_removed() -> None:
    analysed = text.analyse("Πού είναι η παραγγελία μου; Where is my order?")
    assert analysed.words == (text.stem("παραγγελια"), "order")
    assert analysed.keys == (text.phonetic_key(text.stem("παραγγελια")),)


@pytest.mark.parametrize(
    ("greeklish", "greek"),
    [
        ("epistrofi", "επιστροφή"),
        ("epistrofh", "επιστροφή"),
        ("epistrofes", "επιστροφές"),
        ("xrimaton", "χρημάτων"),
        ("chrimaton", "χρημάτων"),
        ("khrimaton", "χρημάτων"),
        ("xrhmatwn", "χρημάτων"),
        ("thyrida", "θυρίδα"),
        ("8urida", "θυρίδα"),
        ("psygeio", "ψυγείο"),
        ("ksexasa", "ξέχασα"),
        ("xexasa", "ξέχασα"),
        ("3exasa", "ξέχασα"),
        ("kodikos", "κωδικός"),
        ("kwdikos", "κωδικός"),
        ("logariasmos", "λογαριασμός"),
        ("kouponi", "κουπόνι"),
        ("kuponi", "κουπόνι"),
        ("voitheia", "βοήθεια"),
        ("boitheia", "βοήθεια"),
        ("mpotes", "μπότες"),
        ("botes", "μπότες"),
        ("dorokarta", "δωροκάρτα"),
        ("ntoulapa", "ντουλάπα"),
        ("doulapa", "ντουλάπα"),
        ("paraggelia", "παραγγελία"),
        ("parangelia", "παραγγελία"),
        ("paragelia", "παραγγελία"),
        ("antikatavoli", "αντικαταβολή"),
        ("aftokinito", "αυτοκίνητο"),
        ("autokinito", "αυτοκίνητο"),
        ("eggyisi", "εγγύηση"),
        ("egguhsh", "εγγύηση"),
        ("oikonomia", "οικονομία"),
        ("ikonomia", "οικονομία"),
        ("anthropos", "άνθρωπος"),
        ("fyllo", "φύλλο"),
        ("fylo", "φύλλο"),
        ("timologio", "τιμολόγιο"),
        ("gramma", "γράμμα"),
    ],
)
def test_greeklish_meets_greek(greeklish: str, greek: str) -> None:
    key = text.phonetic_key(text.stem(text.fold(greek)))
    assert key in text.greeklish_keys(greeklish)


def test_greeklish_keys_are_few_and_sorted() -> None:
    for word in ("epistrofi", "xrimaton", "paraggelia", "eggyisi", "oikonomia"):
        keys = text.greeklish_keys(word)
        assert keys == tuple(sorted(set(keys)))
        assert 1 <= len(keys) <= 6


def test_greeklish_stop_words() -> None:
    for word in ("pou", "einai", "i", "mou", "tis", "gia", "kai", "na", "thelw", "mporo", "boro"):
        assert text.is_greeklish_stop_word(word), word
    for word in ("paraggelia", "refund", "order", "skroutz"):
        assert not text.is_greeklish_stop_word(word), word


def test_greeklish_needs_latin_letters() -> None:
    assert text.greeklish_spellings("αβγ") == ()
    assert text.greeklish_spellings("x2") == ()
    assert text.greeklish_keys("1234") == ()


@pytest.mark.parametrize(
    ("greek", "key"),
    [
        ("αυτοκινητ", "aftokinit"),
        ("αυριο", "avrio"),
        ("ευχαριστ", "efxarist"),
        ("μπορ", "vor"),
        ("ντουλαπ", "dulap"),
        ("αγγελ", "agel"),
        ("ξεχασ", "xexas"),
        ("θυριδ", "thirid"),
        ("ψυγει", "psigi"),
        ("οικονομ", "ikonom"),
    ],
)
def test_phonetic_key(greek: str, key: str) -> None:
    assert text.phonetic_key(greek) == key


def test_markdown_to_text() -> None:
    markdown = (
        "# Τίτλος\n\nΚείμενο με **έντονα**, [σύνδεσμο](https://example.gr/x) και `κώδικα`.\n\n- ένα\n- δύο\n\n<b>x</b>"
    )
    assert text.markdown_to_text(markdown) == "Τίτλος\nΚείμενο με έντονα, σύνδεσμο και κώδικα.\nένα\nδύο\nx"
    assert text.markdown_to_text("a\x00b") == "a b"


@pytest.mark.parametrize(
    "plain",
    [
        "Μία παράγραφος.",
        "Πρώτη γραμμή\nδεύτερη γραμμή της ίδιας παραγράφου.\n\nΔεύτερη παράγραφος, με 14 ημέρες.",
        "  κενά   στην αρχή \t και tabs  \n\n\n τρεις κενές γραμμές ",
        "Order 1-2 days, €3.50 (VAT incl.): yes/no? 100% sure; 'quoted' \"too\".",
    ],
)
def test_plain_text_skips_the_markdown_parser_with_the_same_result(plain: str) -> None:
    parsed = "\n".join(
        " ".join("".join(text._inline_text(t.children or [])).split())
        for t in text._MARKDOWN.parse(plain)
        if t.type == "inline"
    )
    assert text._MARKDOWN_SYNTAX.search(plain) is None
    assert text.markdown_to_text(plain) == parsed


def test_functions_are_pure() -> None:
    first = [text.analyse("Επιστροφή χρημάτων σε 14 ημέρες"), text.greeklish_keys("epistrofi")]
    second = [text.analyse("Επιστροφή χρημάτων σε 14 ημέρες"), text.greeklish_keys("epistrofi")]
    assert first == second


def test_the_c_stemmer_agrees_with_the_pure_python_one() -> None:
    # snowballstemmer uses PyStemmer (C, ~50× faster) when it is installed: an index built with one
    # must be searchable with the other.
    import Stemmer  # type: ignore[import-not-found]  # PyStemmer: a dependency, so the C stemmer is always there

    assert Stemmer.algorithms()
    # snowballstemmer ships no type information (plugins/kms/text.py ignores its import the same way)
    from snowballstemmer.english_stemmer import EnglishStemmer  # type: ignore[import-untyped]
    from snowballstemmer.greek_stemmer import GreekStemmer  # type: ignore[import-untyped]

    from tests.kms.corpus import ARTICLES

    words = {token for article in ARTICLES for part in (*article.el, *article.en) for token in text.tokens(part)}
    pure_greek, pure_english = GreekStemmer(), EnglishStemmer()
    for token in sorted(words):
        if not token.isdigit() and not text.is_stop_word(token):
            expected = pure_greek.stemWord(token) if text.is_greek(token) else pure_english.stemWord(token)
            assert text.stem(token) == (expected or token), token
