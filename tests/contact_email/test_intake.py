"""From a read mail to the `Contact` the desk stores: who wrote it (with fallbacks for mail
without a usable From), which orders it names in the shop's own formats, which messages it
answers, its language, and the raw message kept beside its attachments."""

from __future__ import annotations

from pathlib import Path

from core.domain.service import Channel
from plugins.contact_email.intake import (
    PLACEHOLDER_DOMAIN,
    RAW_FILENAME,
    contact_of,
    customer_of,
    locale_of,
    mail_id,
    order_refs,
    read_mail,
    storable,
    thread_ids,
)
from tests.contact_email.support import build_mail

CORPUS = Path(__file__).parent / "corpus"
ORDER_ID = "ord_01jq3v9k2m8x7c5t4r6p0n1b2a"


def test_orders_are_found_in_the_shops_formats_only() -> None:
    mail = read_mail(
        build_mail(
            "Παραγγελία #10042 [#10077]",
            f"Η {ORDER_ID.upper()} και η #10042 δεν ήρθαν. Τηλ 2101234567, ΤΚ 10434, &#8364; 5.",
        )
    )
    assert order_refs(mail) == ["#10042", "10042", ORDER_ID]
    assert mail.case_token == "10077"  # the case token is not an order


def test_the_writer_falls_back_from_from_to_reply_to_to_the_envelope_to_a_placeholder() -> None:
    plain = read_mail(build_mail("Hi", "Hello"))
    assert customer_of(plain, "bounce@lists.example") == customer_of(plain, None)
    assert customer_of(plain, None).email == "maria@example.gr"
    assert customer_of(plain, None).name == "Μαρία Παπαδοπούλου"

    reply_to_only = read_mail(build_mail("Hi", "Hello", sender=None, headers={"Reply-To": "Eleni <Eleni@Example.gr>"}))
    assert (customer_of(reply_to_only, None).email, customer_of(reply_to_only, None).name) == (
        "eleni@example.gr",
        "Eleni",
    )
    no_from = read_mail((CORPUS / "17-missing-from.eml").read_bytes())
    assert customer_of(no_from, "Nikos@Example.gr").email == "nikos@example.gr"
    assert customer_of(no_from, "nikos@example.gr").name == "nikos"
    placeholder = customer_of(no_from, "<>")
    assert placeholder.email is not None and placeholder.email.endswith("@" + PLACEHOLDER_DOMAIN)
    assert customer_of(read_mail((CORPUS / "17-missing-from.eml").read_bytes()), "") == placeholder  # stable
    other = read_mail(build_mail("x", "y", sender=None, message_id="<other@example.gr>"))
    assert customer_of(other, None).email != placeholder.email  # one placeholder per mail, never shared


def test_thread_ids_put_the_direct_parent_and_a_bounced_message_first() -> None:
    mail = read_mail(
        build_mail(
            "Re: x",
            "y",
            message_id="<c@x>",
            in_reply_to="<b@x>",
            references=["<a@x>", "<b@x>", "<c@x>"],
        )
    )
    assert thread_ids(mail) == ["<b@x>", "<a@x>"]
    bounce = read_mail((CORPUS / "44-dsn-postfix.eml").read_bytes())
    assert thread_ids(bounce)[0] == "<case-10042.4@emporio.test>"


def test_locale_is_guessed_from_the_letters_written() -> None:
    assert locale_of("Καλησπέρα, πού είναι η παραγγελία μου;") == "el"
    assert locale_of("Hello, where is my order please?") == "en"
    assert locale_of("Order ORD-1: πού είναι;;;") == "el"  # Greek words among Latin codes
    assert locale_of("ok 👍") is None


def test_the_contact_keeps_the_raw_message_last_and_the_new_words_as_the_body() -> None:
    raw = (CORPUS / "33-gmail-en-top-wrapped.eml").read_bytes()
    mail = read_mail(raw)
    contact = contact_of(mail, raw, customer_of(mail, None))
    assert contact.channel is Channel.EMAIL
    assert contact.body == "Yes, please send the replacement to my work address."
    assert contact.subject == "Replacement or refund?"
    assert contact.message_id == "<gmen.032@mail.example.gr>"
    assert [a.filename for a in contact.attachments][-1] == RAW_FILENAME
    assert contact.attachments[-1].data == raw and contact.attachments[-1].content_type == "message/rfc822"
    token = read_mail(build_mail("Re: Τιμολόγιο [#10042]", "ok"))
    assert contact_of(token, b"", customer_of(token, None)).case_number == 10042


def test_auto_kinds_pass_through() -> None:
    for name, kind in (("44-dsn-postfix.eml", "bounce"), ("47-ooo-en-auto-submitted.eml", "auto_reply")):
        raw = (CORPUS / name).read_bytes()
        mail = read_mail(raw)
        assert contact_of(mail, raw, customer_of(mail, None)).auto == kind


def test_text_and_ids_are_made_storable_on_both_databases() -> None:
    assert storable("a\x00b\x1bc\td\r\ne") == "abc\td\r\ne"
    assert storable("ok \udcff") == "ok ?"  # a lone surrogate is not UTF-8
    assert mail_id(" <a\x00b@x> ") == "<ab@x>"
    long = "<" + "y" * 600 + "@x>"
    assert mail_id(long) == mail_id(long) and mail_id(long).endswith("@long-id.emporio.invalid>")
    assert len(mail_id(long)) < 100 and mail_id(long) != mail_id(long.replace("y", "z", 1))
