"""Every message of the real-world corpus read and checked against ``corpus/expected.json``."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from plugins.contact_email import InboundMail, read_message

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
FILES = sorted(p.name for p in CORPUS.glob("*.eml"))


def _read(name: str) -> InboundMail:
    return read_message((CORPUS / name).read_bytes())


def test_corpus_is_complete() -> None:
    assert len(FILES) >= 45
    assert sorted(EXPECTED) == FILES


@pytest.mark.parametrize("name", FILES)
def test_message(name: str) -> None:
    expected = EXPECTED[name]
    raw = (CORPUS / name).read_bytes()
    mail = read_message(raw)

    assert mail.subject == expected["subject"]
    assert [a.filename for a in mail.attachments] == expected["attachments"]
    assert mail.auto_kind == expected["auto_kind"]
    for text in expected.get("new_text_contains", []):
        assert text in mail.new_text, f"{text!r} not in new_text {mail.new_text!r}"
    for text in expected.get("new_text_excludes", []):
        assert text not in mail.new_text, f"{text!r} in new_text {mail.new_text!r}"
    if "new_text_exact" in expected:
        assert mail.new_text == expected["new_text_exact"]
    for text in expected.get("text_contains", []):
        assert text in mail.text
    for text in expected.get("html_contains", []):
        assert mail.html_sanitised is not None and text in mail.html_sanitised
    for text in expected.get("html_excludes", []):
        assert mail.html_sanitised is not None and text.lower() not in mail.html_sanitised.lower()
    scalars = (
        "from_address",
        "from_name",
        "case_token",
        "clean_subject",
        "in_reply_to",
        "references",
        "order_numbers",
        "original_message_id",
    )
    for key in scalars:
        if key in expected:
            assert getattr(mail, key) == expected[key], key
    if "cc" in expected:
        assert [a.address for a in mail.cc] == expected["cc"]
    if "date" in expected:
        assert mail.date == (datetime.fromisoformat(expected["date"]) if expected["date"] else None)
    if "charset_used" in expected:
        assert expected["charset_used"] in {n.used for n in mail.charset_notes}, mail.charset_notes
    if expected.get("no_charset_notes"):
        assert mail.charset_notes == []
    for filename, content in expected.get("attachment_bytes", {}).items():
        assert next(a for a in mail.attachments if a.filename == filename).data == content.encode()
    for filename, content in expected.get("attachment_contains", {}).items():
        data = next(a for a in mail.attachments if a.filename == filename).data
        assert content.encode() in data
    for filename, size in expected.get("attachment_sizes", {}).items():
        assert next(a for a in mail.attachments if a.filename == filename).size == size

    # Invariants of every message.
    assert mail.message_id.startswith("<") and mail.message_id.endswith(">")
    assert mail.message_id_synthetic == expected.get("message_id_synthetic", False)
    if mail.message_id_synthetic:
        assert mail.message_id == f"<{hashlib.sha256(raw).hexdigest()}@synthetic.emporio.invalid>"
    assert mail.date is None or mail.date.utcoffset() is not None
    assert mail.raw_size == len(raw)
    for att in mail.attachments:
        assert att.size == len(att.data) and att.sha256 == hashlib.sha256(att.data).hexdigest()
    assert "\r" not in mail.text and "\ufffd" not in mail.text and "\ufffd" not in mail.subject
    assert msgspec.json.decode(msgspec.json.encode(mail), type=InboundMail) == mail


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _row(name: str, mail: InboundMail) -> str:
    start = _cell(" ".join(mail.new_text.split())[:60])
    files = _cell(", ".join(a.filename for a in mail.attachments)) or "-"
    return f"| {name.removesuffix('.eml')} | {_cell(mail.subject)} | {start} | {files} | {mail.auto_kind or '-'} |"


def test_summary_table() -> None:
    """The per-message table for the closing note (visible with ``-s``)."""
    lines = ["| file | subject | new text start | attachments | auto_kind |", "|---|---|---|---|---|"]
    for name in FILES:
        mail = _read(name)
        row = _row(name, mail)
        expected = EXPECTED[name]
        assert expected["subject"] in row
        assert all(att in row for att in expected["attachments"])
        assert f"| {expected['auto_kind'] or '-'} |" in row
        lines.append(row)
    table = "\n".join(lines)
    print("\n" + table)
    assert len(lines) == len(FILES) + 2
