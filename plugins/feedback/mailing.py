"""The survey mail: text and HTML with one signed link per score of every question (or per star of
every product to review), from the service desk's address, marked `Auto-Submitted` so autoresponders
stay quiet. Its Message-ID comes from the survey id: a retried send is the same mail."""

from __future__ import annotations

import html
import json
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

from core.catalogue.tables import Product
from core.customers.tables import Customer
from core.hookspecs.contact import ChannelSendFailed
from core.service.tables import Case
from plugins.contact_email import settings as mail_settings
from plugins.contact_email.outbound import message_id_for
from plugins.feedback import clock
from plugins.feedback.links import link_for
from plugins.feedback.surveys import usable_email
from plugins.feedback.texts import QUESTIONS, SCALES, locale_of, question_of, score_label, ui


class Block:
    """One question in the mail: its heading and its (label, link) per score."""

    def __init__(self, heading: str, links: list[tuple[str, str]]) -> None:
        self.heading = heading
        self.links = links


async def _blocks(row: dict[str, Any], locale: str) -> list[Block]:
    items: list[str] = json.loads(row["questions"])
    skus = [item.split(":", 1)[1] for item in items if item.startswith("review:")]
    names = {
        p["sku"]: p["name"] for p in (await Product.select(Product.sku, Product.name).where(Product.sku.is_in(skus)))
    } if skus else {}  # fmt: skip
    blocks = []
    for item in items:
        question = question_of(item)
        low, high = SCALES[question]
        heading = QUESTIONS[question][locale]
        if question == "review":
            sku = item.split(":", 1)[1]
            heading = f"{ui(locale, 'product', name=names.get(sku, sku))} — {heading}"
        scores = range(low, high + 1) if question != "review" else range(high, low - 1, -1)
        blocks.append(
            Block(heading, [(score_label(question, locale, s), link_for(row["id"], item, s)) for s in scores])
        )
    return blocks


def _text(greeting: str, intro: str, blocks: list[Block], footer: str, locale: str) -> str:
    lines = [greeting, "", intro, ""]
    for block in blocks:
        lines.append(block.heading)
        lines.extend(f"  {label}: {link}" for label, link in block.links)
        lines.append("")
    lines += [footer, "", ui(locale, "thanks_sign")]
    return "\n".join(lines)


def _html(greeting: str, intro: str, blocks: list[Block], footer: str, locale: str) -> str:
    e = html.escape
    parts = [f'<!doctype html><html lang="{locale}"><body style="font-family:sans-serif;color:#1f2933">']
    parts.append(f"<p>{e(greeting)}</p><p>{e(intro)}</p>")
    for block in blocks:
        parts.append(f'<p style="margin:18px 0 6px"><strong>{e(block.heading)}</strong></p><p>')
        for label, link in block.links:
            parts.append(
                f'<a href="{e(link)}" style="display:inline-block;margin:2px;padding:6px 10px;border:1px solid #9aa5b1;'
                f'border-radius:4px;color:#1f2933;text-decoration:none">{e(label)}</a>'
            )
        parts.append("</p>")
    parts.append(f'<p style="color:#616e7c;font-size:13px">{e(footer)}</p><p>{e(ui(locale, "thanks_sign"))}</p>')
    parts.append("</body></html>")
    return "".join(parts)


async def compose(row: dict[str, Any]) -> EmailMessage:
    """The survey mail for `row`; ChannelSendFailed (permanent) when it cannot be addressed."""
    sender = mail_settings.sender()
    if sender is None:
        raise ChannelSendFailed(
            "no From address for survey mails: set EMPORIO_MAIL_FROM or EMPORIO_SUPPORT_ADDRESSES", permanent=True
        )
    customer = await Customer.select(Customer.email, Customer.name).where(Customer.id == row["customer_id"]).first()
    if customer is None or not usable_email(customer["email"]):
        raise ChannelSendFailed(f"survey {row['id']}: the customer has no usable email address", permanent=True)
    locale = locale_of(row["locale"])
    number = None
    if row["case_id"]:
        case = await Case.select(Case.number).where(Case.id == row["case_id"]).first()
        number = case["number"] if case else None
    if row["kind"] == "review_request":
        subject, intro = ui(locale, "subject_review"), ui(locale, "intro_review")
    elif number is not None:
        subject, intro = ui(locale, "subject_case", number=number), ui(locale, "intro_case", number=number)
    else:
        subject, intro = ui(locale, "subject_nps"), ui(locale, "intro_nps")
    name = (customer["name"] or "").strip()
    greeting = ui(locale, "hello", name=name).replace(" ,", ",")  # no name: "Hello,"
    expires: datetime = row["expires_at"] or clock.now()
    footer = ui(locale, "expires", date=expires.strftime("%d/%m/%Y"))
    blocks = await _blocks(row, locale)
    sender_name, sender_address = parseaddr(sender)
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = formataddr((sender_name, sender_address)) if sender_name else sender_address
    message["To"] = formataddr((name, str(customer["email"])))
    message["Subject"] = subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id_for(row["id"], sender_address)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: autoresponders must not answer it
    message["Content-Language"] = locale
    message.set_content(_text(greeting, intro, blocks, footer, locale), charset="utf-8")
    message.add_alternative(_html(greeting, intro, blocks, footer, locale), subtype="html", charset="utf-8")
    return message
