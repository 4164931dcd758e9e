"""The email contact channel: inbound mail read into case messages (the SMTP server and the outbound
side are wired around :func:`read_message`)."""

from plugins.contact_email.inbound import (
    DEFAULT_CASE_TOKEN,
    DEFAULT_ORDER_PATTERN,
    read_message,
    synthetic_message_id,
)
from plugins.contact_email.model import Address, Attachment, AutoKind, CharsetNote, InboundMail

__all__ = [
    "DEFAULT_CASE_TOKEN",
    "DEFAULT_ORDER_PATTERN",
    "Address",
    "Attachment",
    "AutoKind",
    "CharsetNote",
    "InboundMail",
    "read_message",
    "synthetic_message_id",
]
