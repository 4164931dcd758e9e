"""The email channel end to end over real SMTP (issue 11 "Must show"): mails sent with `smtplib`
to the engine's inbound server (aiosmtpd, on the test's loop and database) become cases; agents'
replies leave through an SMTP sink standing in for the shop's mail server; and the faults a mail
server must survive — unknown recipients, oversized mail, the database going away — are answered
so that no mail is lost or stored twice."""

from __future__ import annotations

import contextlib
import email
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest

from core.customers.tables import Customer
from core.jobs import outbox
from core.runtime import Runtime
from core.service import delivery
from core.service.tables import Case, CaseMessage
from plugins.contact_email.server import InboundServer
from plugins.contact_email.settings import InboundSettings, Listen
from tests.contact_email.support import SUPPORT, Answer, Sink, build_mail, running_sink, send

MAX_BYTES = 10 * 1024 * 1024


@pytest.fixture(scope="module")
async def sink() -> AsyncIterator[tuple[Sink, Listen]]:
    async with running_sink() as running:
        yield running


@pytest.fixture(scope="module")
async def inbound(app_client: Any, runtime: Runtime) -> AsyncIterator[Listen]:
    """The engine's inbound SMTP server on a free port, storing into the test database."""
    server = InboundServer(
        runtime, InboundSettings(listen=Listen("127.0.0.1", 0), addresses=(SUPPORT,), max_bytes=MAX_BYTES)
    )
    address = await server.start()
    try:
        yield address
    finally:
        await server.stop()


@pytest.fixture
def outbound(sink: tuple[Sink, Listen], monkeypatch: pytest.MonkeyPatch) -> Sink:
    """Replies go to the sink, from the support address."""
    box, address = sink
    box.reset()
    monkeypatch.setenv("EMPORIO_SMTP_URL", f"smtp://{address}")
    monkeypatch.setenv("EMPORIO_SUPPORT_ADDRESSES", SUPPORT)
    monkeypatch.delenv("EMPORIO_MAIL_FROM", raising=False)
    return box


async def seed_order(api: Any, external_ref: str | None = None) -> dict[str, Any]:
    if (await api.get("/v1/products/TEE-1", as_="ops")).status_code == 404:
        product = {"sku": "TEE-1", "name": "Tee", "price": {"amount": 1500, "currency": "EUR"}, "weight_g": 200}
        assert (await api.post("/v1/products", json=product, as_="ops")).status_code == 201
        location = {"code": "WH-1", "name": "Warehouse", "type": "warehouse"}
        assert (await api.post("/v1/locations", json=location, as_="ops")).status_code == 201
        assert (await api.put("/v1/inventory/WH-1/TEE-1", json={"on_hand": 20}, as_="ops")).status_code == 200
    body: dict[str, Any] = {
        "channel": "web",
        "customer": {"email": "maria@example.gr", "name": "Μαρία Παπαδοπούλου"},
        "lines": [{"sku": "TEE-1", "qty": 1}],
        "shipping_address": {
            "name": "Μαρία",
            "line1": "Πατησίων 76",
            "city": "Αθήνα",
            "postcode": "10434",
            "country": "GR",
        },
    }
    if external_ref:
        body["external_ref"] = external_ref
    created = await api.post("/v1/orders", json=body, as_="storefront")
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


async def case_of(api: Any, mail_message_id: str) -> dict[str, Any]:
    row = await CaseMessage.select(CaseMessage.case_id).where(CaseMessage.message_id == mail_message_id).first()
    assert row is not None, f"no message {mail_message_id} stored"
    response = await api.get(f"/v1/cases/{row['case_id']}", as_="agent")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def stored(mail_message_id: str) -> int:
    return int(await CaseMessage.count().where(CaseMessage.message_id == mail_message_id))


def accepted(answer: Answer) -> None:
    assert (answer.stage, answer.code) == ("DATA", 250), answer


async def test_a_mail_becomes_a_case_linked_to_the_order_it_names(api: Any, inbound: Listen) -> None:
    order = await seed_order(api)
    shop_numbered = await seed_order(api, external_ref="77123")
    raw = build_mail(
        "Πού είναι η παραγγελία μου;",
        f"Καλησπέρα,\nη παραγγελία {order['id']} δεν έχει έρθει ακόμα, ούτε η #77123.\n\n-- \nΜαρία\n6971234567",
        message_id="<first.1@mail.example.gr>",
    )
    answer = await send(inbound, raw)
    accepted(answer)
    assert "stored as msg_" in answer.text

    case = await case_of(api, "<first.1@mail.example.gr>")
    assert (case["channel"], case["status"], case["topic"]) == ("email", "new", "delivery")
    assert case["subject"] == "Πού είναι η παραγγελία μου;"
    assert case["customer"]["email"] == "maria@example.gr"
    assert sorted(case["links"]["orders"]) == sorted([order["id"], shop_numbered["id"]])
    assert case["sla"]["first_response_due"] is not None
    [message] = case["messages"]
    assert message["direction"] == "in" and message["message_id"] == "<first.1@mail.example.gr>"
    assert message["body"].startswith("Καλησπέρα") and "6971234567" not in message["body"]  # signature stripped
    [original] = message["attachments"]
    assert (original["filename"], original["content_type"], original["size"]) == (
        "original.eml",
        "message/rfc822",
        len(raw),
    )
    kept = await api.get(f"/v1/cases/{case['id']}/attachments/{original['id']}", as_="agent")
    assert kept.status_code == 200 and kept.content == raw


async def test_the_same_mail_twice_is_one_message(api: Any, inbound: Listen) -> None:
    raw = build_mail("Ερώτηση", "Έχετε μέγεθος L;", message_id="<twice@mail.example.gr>")
    first, second = await send(inbound, raw), await send(inbound, raw)
    accepted(first)
    accepted(second)
    assert "already stored" in second.text and "already" not in first.text
    assert await stored("<twice@mail.example.gr>") == 1
    assert await Case.count() == 1


async def test_reply_round_trip_threads_back_with_the_quote_stripped_and_notes_never_leave(
    api: Any, inbound: Listen, outbound: Sink, runtime: Runtime
) -> None:
    accepted(
        await send(inbound, build_mail("Αλλαγή μεγέθους", "Θέλω L αντί για M.", message_id="<ask@mail.example.gr>"))
    )
    case = await case_of(api, "<ask@mail.example.gr>")
    note = await api.post(
        f"/v1/cases/{case['id']}/messages", json={"body": "ΕΣΩΤΕΡΙΚΟ: έλεγξε απόθεμα", "internal": True}, as_="agent"
    )
    assert note.status_code == 201, note.text
    replied = await api.post(
        f"/v1/cases/{case['id']}/messages", json={"body": "Βεβαίως, σας στέλνουμε L."}, as_="agent"
    )
    assert replied.status_code == 201, replied.text
    messages = replied.json()["messages"]
    note_id = next(m["id"] for m in messages if m["internal"])
    reply_id = next(m["id"] for m in messages if m["direction"] == "out" and not m["internal"])

    assert await delivery.deliver_reply(runtime, note_id) == "nothing to send (None)"
    assert await delivery.deliver_reply(runtime, reply_id) == "sent"
    assert await delivery.deliver_reply(runtime, reply_id) == "nothing to send (sent)"  # a redelivered job
    [sent] = outbound.mails
    assert outbound.received[0][1] == ["maria@example.gr"]
    assert sent["Subject"] == f"Re: Αλλαγή μεγέθους [#{case['number']}]"
    assert sent["In-Reply-To"] == "<ask@mail.example.gr>"
    assert "<ask@mail.example.gr>" in sent["References"].split()
    assert sent["Message-ID"] == f"<{reply_id}@emporio.test>"
    assert sent["From"] == SUPPORT and "maria@example.gr" in sent["To"]
    assert sent.get_content().strip() == "Βεβαίως, σας στέλνουμε L."
    assert all("ΕΣΩΤΕΡΙΚΟ" not in raw.decode("utf-8", "replace") for _, _, raw in outbound.received)
    after = (await api.get(f"/v1/cases/{case['id']}", as_="agent")).json()
    assert next(m for m in after["messages"] if m["id"] == reply_id)["message_id"] == sent["Message-ID"]

    customer_reply = build_mail(
        "Re: Αλλαγή μεγέθους",
        "Ευχαριστώ πολύ!\n\nΣτις Τρί 12 Μαρ 2024 στις 10:15, ο/η Emporio <support@emporio.test> έγραψε:\n"
        "> Βεβαίως, σας στέλνουμε L.\n",
        message_id="<thanks@mail.example.gr>",
        in_reply_to=sent["Message-ID"],
        references=["<ask@mail.example.gr>", sent["Message-ID"]],
    )
    accepted(await send(inbound, customer_reply))
    threaded = await case_of(api, "<thanks@mail.example.gr>")
    assert threaded["id"] == case["id"] and threaded["status"] == "open"  # pending on the customer → open again
    last = threaded["messages"][-1]
    assert last["body"] == "Ευχαριστώ πολύ!"
    assert len(outbound.received) == 1  # nothing else was mailed


async def test_a_reply_to_a_resolved_case_reopens_it(api: Any, inbound: Listen) -> None:
    accepted(await send(inbound, build_mail("Τιμολόγιο", "Χρειάζομαι τιμολόγιο.", message_id="<inv@mail.example.gr>")))
    case = await case_of(api, "<inv@mail.example.gr>")
    assert (await api.post(f"/v1/cases/{case['id']}/resolve", as_="agent")).status_code in (200, 201)
    # No threading headers: only the case token the customer kept in the subject.
    later = build_mail(
        f"Re: Τιμολόγιο [#{case['number']}]", "Δεν το έλαβα τελικά.", message_id="<inv2@mail.example.gr>"
    )
    accepted(await send(inbound, later))
    reopened = await case_of(api, "<inv2@mail.example.gr>")
    assert reopened["id"] == case["id"]
    assert (reopened["status"], reopened["reopened"]) == ("open", 1)


async def test_an_unknown_recipient_is_refused_at_rcpt(api: Any, inbound: Listen) -> None:
    raw = build_mail("Hello", "Anyone there?", message_id="<stranger@mail.example.gr>")
    answer = await send(inbound, raw, to=("sales@emporio.test",))
    assert (answer.stage, answer.code) == ("RCPT", 550)
    assert "5.1.1" in answer.text and SUPPORT in answer.text
    assert await stored("<stranger@mail.example.gr>") == 0


async def test_a_20_mb_mail_is_refused_with_552_and_nothing_is_stored(api: Any, inbound: Listen) -> None:
    big = build_mail("Φωτογραφίες", "x" * 76 + "\n", message_id="<big@mail.example.gr>")
    big += (b"y" * 998 + b"\r\n") * (20 * 1024 * 1024 // 1000)
    declared = await send(inbound, big, declared_size=len(big))
    assert (declared.stage, declared.code) == ("MAIL", 552), declared
    undeclared = await send(inbound, big)
    assert (undeclared.stage, undeclared.code) == ("DATA", 552), undeclared
    assert await stored("<big@mail.example.gr>") == 0 and await Case.count() == 0


@contextlib.asynccontextmanager
async def database_down(runtime: Runtime, tmp_path: Any) -> AsyncIterator[None]:
    """The engine's database unreachable: PostgreSQL's pool closed and the server address wrong,
    or SQLite's file in a directory that does not exist."""
    engine: Any = runtime.db.engine
    if runtime.db.is_postgres:
        dsn = engine.config["dsn"]
        await engine.close_connection_pool()
        engine.config["dsn"] = urlunparse(urlparse(dsn)._replace(netloc="postgres@127.0.0.1:1"))
        try:
            yield
        finally:
            engine.config["dsn"] = dsn
            await runtime.db.start()
    else:
        path = engine.path
        engine.path = str(tmp_path / "gone" / "emporio.sqlite3")
        try:
            yield
        finally:
            engine.path = path


@contextlib.contextmanager
def connection_lost_mid_transaction(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The connection drops after the customer and the case were written, before the commit."""

    async def lost(*args: Any, **kwargs: Any) -> None:
        raise ConnectionResetError("connection to the database was lost")

    with monkeypatch.context() as patch:
        patch.setattr(outbox, "record", lost)
        yield


async def test_database_down_answers_451_and_the_mail_arrives_once_when_it_is_back(
    api: Any, inbound: Listen, runtime: Runtime, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = build_mail("Επιστροφή", "Θέλω να επιστρέψω τα ακουστικά.", sender=("Νίκος", "nikos@example.gr"))
    async with database_down(runtime, tmp_path):
        down = await send(inbound, raw, mail_from="nikos@example.gr")
    assert (down.stage, down.code) == ("DATA", 451) and "4.3.0" in down.text
    with connection_lost_mid_transaction(monkeypatch):
        lost = await send(inbound, raw, mail_from="nikos@example.gr")
    assert (lost.stage, lost.code) == ("DATA", 451)
    # Nothing half-stored: neither the customer nor the case the lost attempt had written.
    assert await Customer.count().where(Customer.email == "nikos@example.gr") == 0
    assert await Case.count() == 0

    accepted(await send(inbound, raw, mail_from="nikos@example.gr"))  # the sender's retry
    accepted(await send(inbound, raw, mail_from="nikos@example.gr"))  # and one more, as a server may
    mail_id = email.message_from_bytes(raw)["Message-ID"]
    assert mail_id is None  # no Message-ID: the synthetic one (from the bytes) still dedupes
    assert await CaseMessage.count() == 1 and await Case.count() == 1


async def test_script_in_html_is_sanitised_away(api: Any, inbound: Listen) -> None:
    raw = build_mail(
        "Πρόβλημα",
        "Δείτε τη φωτογραφία.",
        html='<p onclick="steal()">Δείτε τη <b>φωτογραφία</b>.</p><script>alert(document.cookie)</script>'
        '<a href="javascript:alert(1)">εδώ</a><img src="cid:photo1">',
        message_id="<html@mail.example.gr>",
    )
    accepted(await send(inbound, raw))
    [message] = (await case_of(api, "<html@mail.example.gr>"))["messages"]
    html = message["html"]
    assert "<b>φωτογραφία</b>" in html and 'src="cid:photo1"' in html
    for bad in ("<script", "alert(", "onclick", "javascript:"):
        assert bad not in html.lower()
    assert message["body"] == "Δείτε τη φωτογραφία."


async def test_bounces_and_auto_replies_are_stored_without_an_sla_clock_and_never_answered(
    api: Any, inbound: Listen, outbound: Sink, runtime: Runtime
) -> None:
    accepted(await send(inbound, build_mail("Δώρο", "Στείλτε το ως δώρο.", message_id="<gift@mail.example.gr>")))
    case = await case_of(api, "<gift@mail.example.gr>")
    replied = await api.post(f"/v1/cases/{case['id']}/messages", json={"body": "Έγινε."}, as_="agent")
    reply_id = next(m["id"] for m in replied.json()["messages"] if m["direction"] == "out")
    assert await delivery.deliver_reply(runtime, reply_id) == "sent"
    sent_id = outbound.mails[0]["Message-ID"]

    bounce = (
        "From: MAILER-DAEMON@mx.example.gr (Mail Delivery System)\r\nTo: support@emporio.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nAuto-Submitted: auto-replied\r\n"
        "Message-ID: <bounce.1@mx.example.gr>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.gr\r\n\r\n"
        "Final-Recipient: rfc822; maria@example.gr\r\nAction: failed\r\nStatus: 5.2.2\r\n"
        f"--B\r\nContent-Type: message/rfc822\r\n\r\nFrom: {SUPPORT}\r\nMessage-ID: {sent_id}\r\n"
        "Subject: Re\r\n\r\nΈγινε.\r\n--B--\r\n"
    ).encode()
    accepted(await send(inbound, bounce, mail_from="<>"))
    bounced = await case_of(api, "<bounce.1@mx.example.gr>")
    assert bounced["id"] == case["id"] and bounced["customer"]["email"] == "maria@example.gr"
    assert bounced["messages"][-1]["auto"] == "bounce"
    assert await Customer.count().where(Customer.email.like("%mailer-daemon%")) == 0

    out_of_office = build_mail(
        "Αυτόματη απάντηση: Εκτός γραφείου",
        "Θα επιστρέψω τη Δευτέρα.",
        sender=("Γιώργος", "giorgos@example.gr"),
        message_id="<ooo@mail.example.gr>",
        headers={"Auto-Submitted": "auto-replied"},
    )
    accepted(await send(inbound, out_of_office, mail_from="giorgos@example.gr"))
    auto_case = await case_of(api, "<ooo@mail.example.gr>")
    assert auto_case["id"] != case["id"] and auto_case["messages"][0]["auto"] == "auto_reply"
    assert auto_case["sla"]["first_response_due"] is None and auto_case["sla"]["resolution_due"] is None

    unknown_bounce = bounce.replace(sent_id.encode(), b"<someone-else@elsewhere.example>").replace(
        b"<bounce.1@", b"<bounce.2@"
    )
    accepted(await send(inbound, unknown_bounce, mail_from="<>"))
    assert (await case_of(api, "<bounce.2@mx.example.gr>"))["sla"]["first_response_due"] is None
    pending = await CaseMessage.count().where((CaseMessage.direction == "out") & (CaseMessage.send_state == "pending"))
    assert pending == 0 and len(outbound.received) == 1  # only the agent's reply ever left


async def test_hostile_mail_is_stored_not_refused_and_threads_by_its_long_id(api: Any, inbound: Listen) -> None:
    long_id = "<" + "x\x00" * 2500 + "@spam.example>"
    hostile = (
        f"From: Ev\x00il \xff\xfe <evil@example.gr>\r\nTo: {SUPPORT}\r\nSubject: Hi\x00 \xff there\r\n"
        f"Message-ID: {long_id}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\x00 with \x1b[31m controls\r\n"
        "--b\r\nContent-Type: text/html\r\n\r\n<p>h\x00tml<script>x()</script></p>\r\n"
        '--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="in\x00voice.pdf"\r\n\r\n'
        "%PDF\x00\r\n--b--\r\n"
    ).encode("latin-1")
    accepted(await send(inbound, hostile, mail_from="evil@example.gr"))
    accepted(await send(inbound, hostile, mail_from="evil@example.gr"))
    [row] = await CaseMessage.select(CaseMessage.case_id, CaseMessage.message_id, CaseMessage.body)
    assert "\x00" not in row["message_id"] and len(row["message_id"]) < 300
    assert row["body"] == "body with [31m controls"
    case = (await api.get(f"/v1/cases/{row['case_id']}", as_="agent")).json()
    assert case["customer"]["email"] == "evil@example.gr" and "\x00" not in case["subject"]
    attached, original = case["messages"][0]["attachments"]
    assert "\x00" not in attached["filename"] and attached["filename"].endswith(".pdf")
    assert (original["filename"], original["size"]) == ("original.eml", len(hostile))

    answer = build_mail("Re: Hi", "Again.", sender=("Evil", "evil@example.gr"), message_id="<again@example.gr>")
    answer = answer.replace(
        b"Message-ID: <again@example.gr>", b"Message-ID: <again@example.gr>\r\nIn-Reply-To: " + long_id.encode()
    )
    accepted(await send(inbound, answer, mail_from="evil@example.gr"))
    assert (await case_of(api, "<again@example.gr>"))["id"] == case["id"]


async def test_a_line_far_past_1000_octets_is_accepted(api: Any, inbound: Listen) -> None:
    """Broken mailers send HTML without a newline; RFC 5321's line limit is not a reason to refuse."""
    line = "<p>" + "Καλημέρα σας. " * 20_000 + "</p>"
    raw = build_mail("Μεγάλη γραμμή", "Δείτε το HTML.", message_id="<longline@mail.example.gr>")
    raw = raw.replace(b"Content-Type: text/plain", b"Content-Type: text/html", 1).replace(
        "Δείτε το HTML.".encode(), line.encode(), 1
    )
    assert max(len(part) for part in raw.split(b"\r\n")) > 300_000
    accepted(await send(inbound, raw))
    [message] = (await case_of(api, "<longline@mail.example.gr>"))["messages"]
    assert message["body"].startswith("Καλημέρα σας.") and message["html"].startswith("<p>Καλημέρα")
