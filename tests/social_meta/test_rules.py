"""The channel's pure rules: Meta's messaging window at its edges, cutting a long reply into
messages within each platform's limit, the signature check, and reading notifications whose
items we do not all know."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugins.social_meta.signature import is_signed, signature_of
from plugins.social_meta.webhook import Unreadable, read_notification
from plugins.social_meta.window import HUMAN_AGENT, RESPONSE, parts_of, permission

T0 = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(seconds=-5), RESPONSE),  # our clock a little behind Meta's
        (timedelta(0), RESPONSE),
        (timedelta(hours=24), RESPONSE),
        (timedelta(hours=24, seconds=1), HUMAN_AGENT),
        (timedelta(days=7), HUMAN_AGENT),
        (timedelta(days=7, seconds=1), None),
        (timedelta(days=400), None),
    ],
)
def test_the_window_at_its_edges(age: timedelta, expected: object) -> None:
    assert permission(T0, T0 + age) == expected
    assert permission(None, T0) is None  # nobody wrote: nothing may be sent


def test_a_short_reply_is_one_message_and_a_blank_one_none() -> None:
    assert parts_of("  Ευχαριστούμε!  ", "messenger") == ["Ευχαριστούμε!"]
    assert parts_of(" \n ", "instagram") == []


@given(
    words=st.lists(st.text(alphabet="αβγδεζηθ abc😀.\n", min_size=1, max_size=300), min_size=1, max_size=40),
    platform=st.sampled_from(["messenger", "instagram"]),
)
def test_long_replies_are_cut_within_the_limit_without_losing_a_word(words: list[str], platform: str) -> None:
    text = " ".join(words)
    parts = parts_of(text, platform)
    for part in parts:
        assert part == part.strip() and part
        assert len(part.encode()) <= 1000 if platform == "instagram" else len(part) <= 2000
    assert "".join("".join(parts).split()) == "".join(text.split())  # every character kept, in order


def test_the_signature_is_the_hmac_of_the_raw_bytes() -> None:
    body = b'{"object":"page","entry":[{"messaging":[{"message":{"text":"\\u0393\\u03b5\\u03b9\\u03ac"}}]}]}'
    header = signature_of("s3cret", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert is_signed("s3cret", body, header)
    assert is_signed("s3cret", body, header.upper().replace("SHA256=", "sha256="))  # hex in either case
    assert not is_signed("s3cret", body.replace(b"\\u0393", "Γ".encode()), header)  # same JSON, other bytes
    assert not is_signed("other", body, header)
    assert not is_signed("s3cret", body, None) and not is_signed("s3cret", body, "")
    assert not is_signed("s3cret", body, "sha1=" + header[7:])
    assert not is_signed("s3cret", body, "sha256=Ωμέγα")  # not ASCII: refused, not an error


def test_reading_keeps_people_s_messages_and_counts_the_rest() -> None:
    raw = (
        b'{"object": "page", "entry": [{"id": "PAGE", "time": 1, "messaging": ['
        b'{"sender": {"id": "U"}, "recipient": {"id": "PAGE"}, "timestamp": 1741600800000,'
        b' "message": {"mid": "m1", "text": "hi\\u0000 there", "reply_to": {"mid": "m0"}}},'
        b'{"sender": {"id": "PAGE"}, "recipient": {"id": "U"}, "message": {"mid": "m2", "is_echo": true, "text": "x"}},'
        b'{"sender": {"id": "U"}, "recipient": {"id": "PAGE"}, "read": {"watermark": 1}},'
        b'{"sender": {"id": "U"}, "recipient": {"id": "PAGE"}, "message": {"mid": "m3", "is_deleted": true}},'
        b'{"sender": {"id": "U"}, "recipient": {"id": "PAGE"}, "timestamp": 99999999999999999,'
        b' "message": {"mid": "m4", "attachments": [{"type": "location", "payload": {"coordinates": {}}}]}},'
        b'"not an object"]}]}'
    )
    received_at = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    reading = read_notification(raw, received_at)
    assert reading.ignored == 4
    first, second = reading.messages
    assert (first.platform, first.page_id, first.user_id, first.mid) == ("messenger", "PAGE", "U", "m1")
    assert first.body == "hi there" and first.reply_to_mid == "m0"
    assert first.sent_at == datetime(2025, 3, 10, 10, 0, tzinfo=UTC)  # Meta's time starts the window
    assert second.body == "[location]" and second.sent_at == received_at  # never later than we heard of it
    with pytest.raises(Unreadable):
        read_notification(b'{"entry": []}', received_at)
