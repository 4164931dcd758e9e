"""read_message never raises on mail input, and its options and fallbacks work."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import plugins.contact_email.inbound as inbound
from plugins.contact_email import InboundMail, read_message, synthetic_message_id
from plugins.contact_email.mime import Walker

CORPUS = Path(__file__).parent / "corpus"
SAMPLES = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]


@pytest.mark.parametrize("raw", SAMPLES[::4])
def test_truncated_messages_are_read(raw: bytes) -> None:
    for cut in range(0, len(raw), max(len(raw) // 17, 1)):
        assert isinstance(read_message(raw[:cut]), InboundMail)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_random_bytes(raw: bytes) -> None:
    mail = read_message(raw)
    assert mail.raw_size == len(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=12))
def test_mutated_corpus_messages(raw: bytes, flips: list[tuple[int, int]]) -> None:
    data = bytearray(raw)
    for position, value in flips:
        data[position % len(data)] = value
    read_message(bytes(data))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_random_header_and_body_text(text: str) -> None:
    raw = f"From: {text}\nSubject: {text}\nContent-Type: text/plain; charset={text[:20]}\n\n{text}\n"
    read_message(raw.encode("utf-8", "surrogatepass"))


def test_pathological_inputs_stay_fast() -> None:
    cases = [
        b"Subject: " + b"=?utf-8?q?" * 50_000 + b"\n\nx",
        b"Content-Type: multipart/mixed; boundary=a\n\n" + b"--a\nContent-Type: multipart/mixed; boundary=a\n\n" * 2000,
        b"Content-Type: multipart/mixed; boundary=z\n\n" + b"--z\nContent-Type: text/plain\n\npart\n" * 20_000,
        b"From: " + b"<a@b>, " * 20_000 + b"\n\nbody",
        b"Content-Type: text/plain\n\n" + b"> " * 200_000 + b"\n" + b"On x wrote:\n" * 20_000,
        b"Content-Type: text/html\n\n" + b"<blockquote>" * 20_000 + b"deep" + b"</div>" * 20_000,
        b"Subject: x\n\n" + b"\xce\xb1" * 3_000_000,  # 6 MB of Greek UTF-8
    ]
    for raw in cases:
        started = time.monotonic()
        read_message(raw)
        assert time.monotonic() - started < 20


def test_large_legacy_body_is_decoded_from_a_sample() -> None:
    line = "Καλημέρα, η παραγγελία μου δεν ήρθε ακόμα και περιμένω νέα σας.\n".encode("cp1253")
    raw = b"Subject: big\nContent-Type: text/plain\n\n" + line * 50_000
    mail = read_message(raw)
    assert mail.text.count("Καλημέρα") == 50_000


def test_input_types_and_synthetic_id() -> None:
    raw = b"Subject: no id\n\nhello\n"
    assert read_message(bytearray(raw)).message_id == synthetic_message_id(raw)
    assert read_message(raw).message_id == read_message(raw).message_id
    assert read_message(raw + b" ").message_id != read_message(raw).message_id


def test_patterns_are_parameters() -> None:
    raw = b"Subject: Re: [CASE-77] Order 4455 and ORD-123456\n\nAbout order 4455 again\n"
    mail = read_message(raw, case_token_pattern=r"\[CASE-(\d+)\]", order_pattern=r"\border (\d{4})\b")
    assert mail.case_token == "77"
    assert mail.clean_subject == "Order 4455 and ORD-123456"
    assert mail.order_numbers == ["4455"]  # group 1 of the pattern; "Order 4455" in the subject differs in case
    assert read_message(raw, order_pattern=r"\bORD-\d+").order_numbers == ["ORD-123456"]
    assert read_message(raw, order_pattern=None).order_numbers == []
    assert read_message(raw).case_token is None


def test_compat32_fallback_when_the_modern_policy_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Walker.walk
    calls: list[str] = []

    def flaky(self: Walker, part: object, path: str = "1", depth: int = 0) -> None:
        calls.append(path)
        if len(calls) == 1:
            raise ValueError("modern policy trouble")
        original(self, part, path, depth)  # type: ignore[arg-type]

    monkeypatch.setattr(Walker, "walk", flaky)
    mail = read_message(SAMPLES[1])
    assert mail.subject == "Πού είναι η παραγγελία μου;"
    assert any("policy default failed" in note for note in mail.parse_notes)


def test_last_resort_when_every_parser_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> InboundMail:
        raise RuntimeError("boom")

    monkeypatch.setattr(inbound, "_extract", broken)
    mail = read_message(b"Subject: x\n\nthe text survives\n")
    assert "the text survives" in mail.text and mail.message_id_synthetic
    assert any("compat32 failed" in note for note in mail.parse_notes)


def test_attached_message_sent_as_base64() -> None:
    inner = b"Subject: Inner one\nFrom: a@b.example\n\nInner body\n"
    raw = (
        b"Subject: outer\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: text/plain\n\nsee attached\n"
        b"--z\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(inner)
        + b"--z--\n"
    )
    mail = read_message(raw)
    assert [a.filename for a in mail.attachments] == ["Inner one.eml"]
    assert mail.attachments[0].data.replace(b"\r\n", b"\n") == inner


def test_unsafe_attachment_names_are_cleaned() -> None:
    raw = (
        b"Subject: x\nContent-Type: multipart/mixed; boundary=z\n\n--z\nContent-Type: text/plain\n\nhi\n--z\n"
        b"Content-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="../../etc/passwd"\n\nroot\n'
        b"--z\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="C:\\\\tmp\\\\a\x01b.exe"\n\nMZ\n'
        b"--z\nContent-Type: application/pdf\n\n%PDF\n--z--\n"
    )
    assert [a.filename for a in read_message(raw).attachments] == ["passwd", "a b.exe", "attachment-3.pdf"]
