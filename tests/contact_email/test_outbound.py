"""Agents' replies as mail: the headers that thread the customer's answer back, the same
Message-ID on every try, and which SMTP failures are retried (4xx, no connection) and which are
final (5xx, nowhere to send) — against a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP

from core.hookspecs.contact import ChannelSendFailed, OutboundReply
from plugins.contact_email.outbound import EmailChannel, compose, message_id_for, reply_subject
from plugins.contact_email.settings import Listen
from tests.contact_email.support import SUPPORT, Sink, running_sink


def reply(**changes: object) -> OutboundReply:
    fields: dict[str, object] = dict(
        message_id="msg_01jq3v9k2m8x7c5t4r6p0n1b2a",
        case_id="cas_1",
        case_number=10042,
        channel="email",
        locale="el",
        subject="Αλλαγή μεγέθους",
        body="Βεβαίως, σας στέλνουμε L.\nΕυχαριστούμε!",
        customer_id="cus_1",
        customer_email="maria@example.gr",
        customer_name="Μαρία Παπαδοπούλου",
        customer_phone=None,
        in_reply_to="<ask@mail.example.gr>",
        references=("<first@mail.example.gr>", "<ask@mail.example.gr>"),
    )
    fields.update(changes)
    return OutboundReply(**fields)  # type: ignore[arg-type]


@pytest.fixture
async def sink(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sink]:
    async with running_sink() as (box, address):
        monkeypatch.setenv("EMPORIO_SMTP_URL", f"smtp://{address}")
        monkeypatch.setenv("EMPORIO_SUPPORT_ADDRESSES", f"{SUPPORT},sales@emporio.test")
        monkeypatch.delenv("EMPORIO_MAIL_FROM", raising=False)
        yield box


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Αλλαγή μεγέθους", "Re: Αλλαγή μεγέθους [#10042]"),
        ("Re: RE: Αλλαγή μεγέθους [#10042]", "Re: Αλλαγή μεγέθους [#10042]"),
        ("ΑΠ: Σχετ: Fwd: Τιμολόγιο", "Re: Τιμολόγιο [#10042]"),
        ("", "Re: [#10042]"),
    ],
)
def test_the_subject_carries_the_case_token_once(subject: str, expected: str) -> None:
    assert reply_subject(subject, 10042) == expected


def test_the_mail_threads_to_the_customers_message_and_its_id_is_derived_from_ours() -> None:
    mail = compose(reply(), "Emporio <support@emporio.test>")
    assert mail["Message-ID"] == "<msg_01jq3v9k2m8x7c5t4r6p0n1b2a@emporio.test>"
    assert mail["Message-ID"] == message_id_for("msg_01jq3v9k2m8x7c5t4r6p0n1b2a", "support@emporio.test")
    assert mail["In-Reply-To"] == "<ask@mail.example.gr>"
    assert mail["References"] == "<first@mail.example.gr> <ask@mail.example.gr>"
    assert mail["From"] == "Emporio <support@emporio.test>"
    assert mail["To"].addresses[0].addr_spec == "maria@example.gr"
    assert mail.get_content_type() == "text/plain" and mail.get_content_charset() == "utf-8"
    assert mail.get_content() == "Βεβαίως, σας στέλνουμε L.\nΕυχαριστούμε!\n"


def test_a_long_thread_keeps_the_first_and_the_newest_references() -> None:
    ids = tuple(f"<m{n}@x>" for n in range(40))
    mail = compose(reply(references=ids, in_reply_to="<m39@x>"), SUPPORT)
    kept = str(mail["References"]).split()
    assert len(kept) == 20 and kept[0] == "<m0@x>" and kept[-1] == "<m39@x>" and "<m20@x>" not in kept


async def test_a_retry_sends_the_same_message_id(sink: Sink) -> None:
    channel = EmailChannel()
    first, second = await channel.send(reply()), await channel.send(reply())
    assert first.external_id == second.external_id == "<msg_01jq3v9k2m8x7c5t4r6p0n1b2a@emporio.test>"
    assert [m["Message-ID"] for m in sink.mails] == [first.external_id] * 2
    assert [rcpts for _, rcpts, _ in sink.received] == [["maria@example.gr"]] * 2
    assert sink.received[0][0] == SUPPORT  # the first support address sends


async def test_mail_from_names_the_sender_and_the_message_id_domain(
    sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMPORIO_MAIL_FROM", "Το Μαγαζί <help@shop.gr>")
    receipt = await EmailChannel().send(reply())
    assert receipt.external_id == "<msg_01jq3v9k2m8x7c5t4r6p0n1b2a@shop.gr>"
    [mail] = sink.mails
    assert mail["From"].addresses[0].display_name == "Το Μαγαζί"
    assert mail["From"].addresses[0].addr_spec == "help@shop.gr"


async def test_a_5xx_refusal_is_permanent_and_a_4xx_is_retried(sink: Sink) -> None:
    sink.refuse_rcpt = "550 5.1.1 <maria@example.gr>: no such user"
    with pytest.raises(ChannelSendFailed, match="no such user") as refused:
        await EmailChannel().send(reply())
    assert refused.value.permanent
    sink.refuse_rcpt, sink.refuse_data = None, "451 4.3.0 try again later"
    with pytest.raises(ChannelSendFailed, match="451") as deferred:
        await EmailChannel().send(reply())
    assert not deferred.value.permanent
    sink.refuse_data = "554 5.7.1 rejected as spam"
    with pytest.raises(ChannelSendFailed) as rejected:
        await EmailChannel().send(reply())
    assert rejected.value.permanent
    assert sink.received == []


async def test_an_unreachable_server_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = Listen("127.0.0.1", probe.getsockname()[1])
    monkeypatch.setenv("EMPORIO_SMTP_URL", f"smtp://{closed}")
    monkeypatch.setenv("EMPORIO_SUPPORT_ADDRESSES", SUPPORT)
    with pytest.raises(ChannelSendFailed, match="cannot reach") as failed:
        await EmailChannel().send(reply())
    assert not failed.value.permanent


async def test_nowhere_to_send_is_permanent_and_says_what_to_do(sink: Sink, monkeypatch: pytest.MonkeyPatch) -> None:
    for customer_email, hint in ((None, "no email address"), ("unknown-ab@no-sender.emporio.invalid", "no usable")):
        with pytest.raises(ChannelSendFailed, match=hint) as nobody:
            await EmailChannel().send(reply(customer_email=customer_email))
        assert nobody.value.permanent
    monkeypatch.delenv("EMPORIO_SMTP_URL")
    with pytest.raises(ChannelSendFailed, match="set it to smtp://") as unset:
        await EmailChannel().send(reply())
    assert unset.value.permanent
    assert sink.received == []


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    command += ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(command, check=True, capture_output=True)
    return cert, key


async def test_starttls_is_used_when_the_server_offers_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that requires STARTTLS takes the reply only over TLS; the client trusts its
    certificate through the system store (SSL_CERT_FILE), as it would a real server's."""
    cert, key = await asyncio.to_thread(self_signed, tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink, loop = Sink(), asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="tls.test", tls_context=context, require_starttls=True, loop=loop), "127.0.0.1", 0
    )
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        monkeypatch.setenv("EMPORIO_SMTP_URL", f"smtp://127.0.0.1:{server.sockets[0].getsockname()[1]}")
        monkeypatch.setenv("EMPORIO_SUPPORT_ADDRESSES", SUPPORT)
        await EmailChannel().send(reply())
    finally:
        server.close()
        await server.wait_closed()
    [mail] = sink.mails
    assert mail["Subject"] == "Re: Αλλαγή μεγέθους [#10042]"
