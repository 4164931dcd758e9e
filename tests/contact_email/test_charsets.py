"""Charset decoding: declared, undeclared and mislabelled."""

from __future__ import annotations

import pytest

from plugins.contact_email.charsets import canonical, decode_bytes, pretty

GREEK = "Άλλαξα γνώμη, θέλω να ακυρώσω την παραγγελία μου. Ευχαριστώ πολύ!"


def test_declared_charset_that_fits_is_used_without_note() -> None:
    for label, codec in (("windows-1253", "cp1253"), ("iso-8859-7", "iso8859-7"), ("utf-8", "utf-8")):
        decoded = decode_bytes(GREEK.encode(codec), label)
        assert decoded.text == GREEK
        assert decoded.reason is None


def test_windows_1253_labelled_iso_8859_7_is_read_as_windows_1253() -> None:
    # Ά is 0xA2 in windows-1253 and 0xB6 in iso-8859-7; windows-1253 quotes are C1 controls in iso-8859-7.
    text = "Άννα: “Άμεση” αποστολή"
    decoded = decode_bytes(text.encode("cp1253"), "iso-8859-7")
    assert decoded.text == text
    assert pretty(decoded.used) == "windows-1253"
    assert decoded.reason is not None


def test_iso_8859_7_labelled_windows_1253_is_read_as_iso_8859_7() -> None:
    text = "Άννα, Άρτα και Άγιος Νικόλαος"
    decoded = decode_bytes(text.encode("iso-8859-7"), "windows-1253")
    assert decoded.text == text
    assert pretty(decoded.used) == "iso-8859-7"


@pytest.mark.parametrize("label", [None, "iso-8859-1", "us-ascii", "unknown-8bit", "x-no-such-charset"])
def test_greek_windows_1253_undeclared_or_mislabelled(label: str | None) -> None:
    decoded = decode_bytes(GREEK.encode("cp1253"), label)
    assert decoded.text == GREEK
    assert decoded.reason is not None


@pytest.mark.parametrize("label", [None, "iso-8859-1", "windows-1253", "gb2312"])
def test_utf8_wins_over_a_wrong_single_byte_label(label: str | None) -> None:
    decoded = decode_bytes(GREEK.encode(), label)
    assert decoded.text == GREEK
    assert decoded.used == "utf-8"


def test_genuine_western_text_is_not_mistaken_for_greek() -> None:
    for text in ("Crème brûlée für Jürgen, très façile", "Ñandú, pingüino, acción", "Grüße aus Köln – Müller"):
        decoded = decode_bytes(text.encode("cp1252"), "iso-8859-1")
        assert decoded.text == text
        assert decoded.reason is None


def test_latin1_label_reads_c1_bytes_as_windows_1252() -> None:
    assert decode_bytes("“quoted” – dash".encode("cp1252"), "iso-8859-1").text == "“quoted” – dash"


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("您好，我的订单还没有收到，请帮我查一下。谢谢！", "gb2312"),
        ("这个商品什么时候发货？我已经付款了。", "gbk"),
        ("こんにちは。注文した商品がまだ届いていません。", "shift_jis"),
        ("こんにちは。注文した商品がまだ届いていません。", "iso-2022-jp"),
        ("ご注文ありがとうございました。お届けまでしばらくお待ちください。", "euc-jp"),
        (GREEK, "iso-8859-7"),
    ],
)
def test_undeclared_cjk_and_greek_are_guessed(text: str, codec: str) -> None:
    assert decode_bytes(text.encode(codec), None).text == text


def test_gbk_characters_under_a_gb2312_label() -> None:
    text = "喆镕 旻 朱镕基"  # GBK-only characters in a mail labelled GB2312
    decoded = decode_bytes(text.encode("gbk"), "GB2312")
    assert decoded.text == text
    assert decoded.reason is None


def test_shift_jis_labelled_iso_2022_jp() -> None:
    text = "商品の色を変更できますか？"
    decoded = decode_bytes(text.encode("shift_jis"), "ISO-2022-JP")
    assert decoded.text == text
    assert pretty(decoded.used) == "shift_jis"


def test_mostly_utf8_with_a_stray_byte_keeps_the_utf8_text() -> None:
    data = ("Καλημέρα σας, " * 20).encode() + b"\xff" + "τέλος".encode()
    decoded = decode_bytes(data, "utf-8")
    assert "Καλημέρα σας" in decoded.text and "τέλος" in decoded.text


def test_labels() -> None:
    assert canonical("GB2312") == "gb18030"
    assert canonical('"Shift_JIS"') == "cp932"
    assert canonical("utf-8*el") == "utf-8"
    assert canonical("base64") is None  # bytes-to-bytes codecs are not charsets
    assert canonical("rot13") is None
    assert canonical("unknown-8bit") is None
    assert canonical("no-such") is None
    assert pretty("cp1253") == "windows-1253"


@pytest.mark.parametrize("data", [b"", b"\x00", b"\xff" * 100, bytes(range(256)), b"\x1b$B\x1b(B", b"\x80\x81\x82"])
def test_never_raises(data: bytes) -> None:
    for label in (None, "utf-8", "iso-2022-jp", "utf-16", "utf-7", "bogus", "windows-1253"):
        decode_bytes(data, label)
