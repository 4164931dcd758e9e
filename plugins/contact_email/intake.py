"""One inbound mail into the service desk: read it, turn it into a `Contact` and commit it with
`core.service.contacts.receive` in one unit of work. The SMTP server answers `250` only after
`store_mail` returns, so a mail is either wholly stored or refused for the sender to retry."""

from __future__ import annotations

import asyncio
import hashlib
import re
import unicodedata

import msgspec

from core.domain.orders import CustomerRef
from core.domain.service import Channel
from core.runtime import Runtime
from core.service.contacts import Contact, InboundAttachment, Received, receive
from core.service.tables import Case, CaseMessage
from plugins.contact_email.inbound import DEFAULT_CASE_TOKEN, read_message
from plugins.contact_email.model import InboundMail

# The shop's order ids (`ord_` + 26 Crockford base32 digits, as core.domain.ids makes them) and
# order numbers written with a hash ("#10042"); a bare number is too often a phone or a postcode.
SHOP_ORDER_PATTERN = re.compile(
    r"(?i)(?<![\w#])(ord_[0-9a-hjkmnp-tv-z]{26})(?![0-9a-z])|(?<![\w&#])#(\d{4,12})(?!\w)",
)
RAW_FILENAME = "original.eml"
PLACEHOLDER_DOMAIN = "no-sender.emporio.invalid"
PLACEHOLDER_NAME = "Unknown sender (mail without a From)"
MAX_THREAD_IDS = 50  # what contacts.receive looks at
INLINE_READ_BYTES = 256 * 1024
MAX_ID_LENGTH = 250  # a longer Message-ID is stored hashed: PostgreSQL cannot index arbitrarily long text
LONG_ID_DOMAIN = "long-id.emporio.invalid"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NULL_SENDERS = frozenset({"", "<>"})


class StoredMail(msgspec.Struct, frozen=True, kw_only=True):
    received: Received
    mail_message_id: str


def storable(text: str) -> str:
    """Text both databases take: no NUL or other control characters (PostgreSQL refuses NUL),
    no lone surrogates (not UTF-8). A hostile mail must not become a retry loop of 451s."""
    cleaned = _CONTROL.sub("", text)
    return cleaned.encode("utf-8", "replace").decode("utf-8") if not cleaned.isascii() else cleaned


def mail_id(message_id: str) -> str:
    """A Message-ID as stored and looked up: cleaned, and hashed when too long to index (a reply
    carrying the same long id in In-Reply-To maps to the same stored id)."""
    cleaned = storable(message_id).strip()
    if len(cleaned) <= MAX_ID_LENGTH:
        return cleaned
    return f"<{hashlib.sha256(cleaned.encode()).hexdigest()}@{LONG_ID_DOMAIN}>"


def order_refs(mail: InboundMail) -> list[str]:
    """What `contacts.resolve_orders` should look up: ids lower-cased, "#10042" both as written
    and without the hash (a channel's own order number may be stored either way)."""
    refs: list[str] = []
    for found in mail.order_numbers:
        if found.lower().startswith("ord_"):
            refs.append(found.lower())
        elif found.startswith("#"):
            refs += [found, found[1:]]
        else:
            refs.append(found)
    return list(dict.fromkeys(refs))


def _usable(address: str | None) -> str | None:
    if not address:
        return None
    address = storable(address).strip().strip("<>").lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or len(address) > 254 or any(c.isspace() for c in address):
        return None
    return address


def customer_of(mail: InboundMail, envelope_from: str | None) -> CustomerRef:
    """The writer: From, else Reply-To, else the SMTP envelope sender. A mail with none of them
    gets a placeholder customer keyed by its Message-ID (synthetic when it had none), so each
    such mail is findable and never merged with a stranger's."""
    candidates = [(mail.from_address, mail.from_name)]
    candidates += [(a.address, a.name) for a in mail.reply_to]
    if envelope_from not in _NULL_SENDERS:
        candidates.append((envelope_from, None))
    for address, name in candidates:
        usable = _usable(address)
        if usable:
            return CustomerRef(email=usable, name=(storable(name or "").strip() or usable.split("@")[0])[:200])
    key = hashlib.sha256(mail_id(mail.message_id).encode()).hexdigest()[:20]
    return CustomerRef(email=f"unknown-{key}@{PLACEHOLDER_DOMAIN}", name=PLACEHOLDER_NAME)


def locale_of(text: str) -> str | None:
    """ "el" or "en" from the letters the customer wrote; None when there are too few to say."""
    greek = latin = 0
    for ch in text[:4000]:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            greek += name.startswith("GREEK")
            latin += name.startswith("LATIN")
    if greek + latin < 12:
        return None
    return "el" if greek * 4 >= latin else "en"


def thread_ids(mail: InboundMail) -> list[str]:
    """Ids this mail answers, most telling first: In-Reply-To, a bounce's returned message, then
    References newest first (a long thread's oldest ids matter least)."""
    ids = [mail.in_reply_to, mail.original_message_id, *reversed(mail.references)]
    own = mail_id(mail.message_id)
    return list(dict.fromkeys(mail_id(i) for i in ids if i and mail_id(i) != own))[:MAX_THREAD_IDS]


def contact_of(mail: InboundMail, raw: bytes, customer: CustomerRef) -> Contact:
    token, parts = mail.case_token, mail.attachments
    subject, body = storable(mail.clean_subject), storable(mail.new_text).strip()
    return Contact(
        customer=customer,
        channel=Channel.EMAIL,
        subject=subject,
        body=body,
        html=storable(mail.html_sanitised) if mail.html_sanitised is not None else None,
        order_refs=order_refs(mail),
        locale=locale_of(f"{subject}\n{body}"),
        message_id=mail_id(mail.message_id),
        in_reply_to=thread_ids(mail),
        case_number=int(token) if token and token.isdigit() and len(token) < 16 else None,
        auto=mail.auto_kind,
        attachments=[
            *(
                InboundAttachment(filename=storable(a.filename), content_type=storable(a.content_type), data=a.data)
                for a in parts
            ),
            InboundAttachment(filename=RAW_FILENAME, content_type="message/rfc822", data=raw),
        ],
    )


async def _bounced_customer(mail: InboundMail) -> CustomerRef | None:
    """A bounce of one of our replies belongs to that case's customer, not to MAILER-DAEMON."""
    if mail.auto_kind != "bounce" or not mail.original_message_id:
        return None
    bounced = mail_id(mail.original_message_id)
    ours = await CaseMessage.select(CaseMessage.case_id).where(CaseMessage.message_id == bounced).first()
    if ours is None:
        return None
    case = await Case.select(Case.customer_id).where(Case.id == ours["case_id"]).first()
    return CustomerRef(id=case["customer_id"]) if case else None


def read_mail(raw: bytes) -> InboundMail:
    return read_message(raw, case_token_pattern=DEFAULT_CASE_TOKEN, order_pattern=SHOP_ORDER_PATTERN)


async def store_mail(runtime: Runtime, raw: bytes, *, envelope_from: str | None = None) -> StoredMail:
    """Read and commit one mail (the bytes of SMTP DATA). The same Message-ID twice is one
    message. Raises whatever the database raises: nothing of the mail is then committed."""
    # A typical mail reads in a few milliseconds; a large MIME tree would hold the event loop.
    mail = read_mail(raw) if len(raw) < INLINE_READ_BYTES else await asyncio.to_thread(read_mail, raw)
    try:
        async with runtime.unit_of_work():
            customer = await _bounced_customer(mail) or customer_of(mail, envelope_from)
            received = await receive(runtime, contact_of(mail, raw, customer))
    except Exception:
        # Two copies of one mail arriving at once: the loser hits the UNIQUE message id. If the
        # winner committed it, this copy is a duplicate, not a failure.
        row = (
            await CaseMessage.select(CaseMessage.id, CaseMessage.case_id)
            .where(CaseMessage.message_id == mail_id(mail.message_id))
            .first()
        )
        if row is None:
            raise
        case = await Case.select(Case.number).where(Case.id == row["case_id"]).first()
        received = Received(
            case_id=row["case_id"],
            case_number=case["number"] if case else 0,
            message_id=row["id"],
            new_case=False,
            duplicate=True,
        )
    return StoredMail(received=received, mail_message_id=mail_id(mail.message_id))
