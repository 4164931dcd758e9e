"""Contact channels: the ways customers reach the service desk (email, chat, Messenger, phone…).
A channel turns inbound contacts into case messages (`core.service.contacts.receive`) and sends
agents' replies back the way the customer wrote."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import msgspec

from core.hookspecs import hookspec


class OutboundReply(msgspec.Struct, frozen=True, kw_only=True):
    """An agent's reply to deliver. `message_id` is stable across retries: a channel that can
    (mail's Message-ID, Messenger's idempotency) must use it so a retry never sends a second,
    different message."""

    message_id: str  # our id of the message, e.g. "msg_01j…"
    case_id: str
    case_number: int
    channel: str
    locale: str
    subject: str
    body: str
    customer_id: str
    customer_email: str | None
    customer_name: str
    customer_phone: str | None
    in_reply_to: str | None = None  # the channel's id of the customer's latest message
    references: tuple[str, ...] = ()  # the channel ids of the conversation so far, oldest first
    last_customer_message_at: str | None = None  # RFC 3339, for windows such as Messenger's 24 hours
    channel_address: str | None = None  # the customer's address on that channel (a PSID, a chat session)


class DeliveryReceipt(msgspec.Struct, frozen=True, kw_only=True):
    external_id: str | None = None  # the channel's id of what was sent (the mail's Message-ID…)


class ChannelSendFailed(Exception):
    """The reply could not be sent. `permanent` (a refused address, a closed messaging window) is
    not retried; anything else is retried with backoff by the worker."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@runtime_checkable
class ContactChannel(Protocol):
    """What a contact-channel plugin provides. `code` is the case channel it serves ("email")."""

    code: str
    name: str

    async def send(self, reply: OutboundReply) -> DeliveryReceipt:
        """Deliver one reply; raise ChannelSendFailed when it cannot."""
        ...


@hookspec
def register_contact_channels(register: Callable[[ContactChannel], None]) -> None:
    """Contribute contact channels: how replies to cases of that channel reach the customer.

    When it is called:
        Once per process, the first time the engine needs the channel registry (the worker
        sending a reply from the outbox, the API listing channels).

    Args:
        register: call it with an object satisfying `ContactChannel` — a `code` equal to a case
            channel (`email`, `chat`, `social`, `phone`…), a display `name`, and an async
            `send(reply: OutboundReply) -> DeliveryReceipt`. Inbound contacts do not go through
            this hook: the channel's own routes or servers call `core.service.contacts.receive`.

    Returns:
        Nothing; all registrations are collected. Two plugins registering one code make the
        engine refuse to start, naming both. A case whose channel has no registered plugin keeps
        its replies stored with `send_state: "no_channel"` (an agent sees they were not sent).

    Example:
        ```python
        class Viber:
            code, name = "viber", "Viber"

            async def send(self, reply):
                sent = await viber_api.send_text(reply.channel_address, reply.body, key=reply.message_id)
                return DeliveryReceipt(external_id=sent["message_token"])


        @hookimpl
        def register_contact_channels(register):
            register(Viber())
        ```
    """


# ---------------------------------------------------------------------------------------------
# Answers: self-service and agent assist
# ---------------------------------------------------------------------------------------------


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    snippet: str
    url: str | None = None
    score: float = 0.0
    search_id: str | None = None


class AnswerSource(Protocol):
    """Finds answers for a text: the knowledge base, an FAQ, a product manual."""

    name: str

    async def suggest(
        self, text: str, *, locale: str, limit: int, internal: bool, customer_id: str | None
    ) -> list[Suggestion]:
        """Best first. `internal` is True for agents (internal answers allowed), False for customers."""
        ...


@hookspec
def register_answer_sources(register: Callable[[AnswerSource], None]) -> None:
    """Contribute answer sources the desk suggests from: to customers while they type a chat
    message or a case (the widget), to agents beside a case (`GET /v1/cases/{id}/suggestions`).

    When it is called:
        Once per process, the first time a suggestion is asked for.

    Args:
        register: call it with an object with a unique `name` and an async `suggest(text, *,
            locale, limit, internal, customer_id)` returning `Suggestion`s best first. With
            `internal=False` only what a customer may read (published, public) may come back.

    Returns:
        Nothing; all sources are collected and asked in registration order; suggestions are
        merged by score. A duplicate name is refused.

    Example:
        ```python
        class Faq:
            name = "faq"

            async def suggest(self, text, *, locale, limit, internal, customer_id):
                return [Suggestion(id=q.id, title=q.question, snippet=q.answer[:160]) for q in faq.match(text)][:limit]


        @hookimpl
        def register_answer_sources(register):
            register(Faq())
        ```
    """


# ---------------------------------------------------------------------------------------------
# Telephony
# ---------------------------------------------------------------------------------------------


class CallEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A finished call as the telephony provider reports it. `call_id` deduplicates redeliveries."""

    call_id: str
    from_number: str
    to_number: str
    direction: str  # "inbound" | "outbound"
    started_at: str  # RFC 3339
    duration_s: int
    answered: bool = True
    agent_ref: str | None = None  # the provider's id of the agent who took it (an agent's external ref)
    note: str | None = None


class TelephonyRejected(Exception):
    """The webhook is not from the provider (bad signature) or not a call event we can read; the
    route answers 401 or 422 with this message and stores nothing."""

    def __init__(self, message: str, *, unauthenticated: bool = False) -> None:
        super().__init__(message)
        self.unauthenticated = unauthenticated


class TelephonyProvider(Protocol):
    name: str

    def parse_webhook(self, headers: dict[str, str], body: bytes) -> list[CallEvent]:
        """Verify the request and return the finished calls in it (an empty list for events that
        are not finished calls); raise TelephonyRejected otherwise."""
        ...


@hookspec
def register_telephony_providers(register: Callable[[TelephonyProvider], None]) -> None:
    """Contribute telephony providers whose call events arrive at
    `POST /v1/webhooks/telephony/{provider}`: each finished call is logged as a `phone` message
    with its duration (handle time) on the caller's case, found by their number in any format.

    When it is called:
        Once per process, the first time a telephony webhook arrives.

    Args:
        register: call it with an object with a unique `name` (the URL's `{provider}`) and
            `parse_webhook(headers, body) -> list[CallEvent]`, which verifies the provider's
            signature and raises `TelephonyRejected` for anything it cannot trust or read.

    Returns:
        Nothing; all providers are collected. A duplicate name is refused.

    Example:
        ```python
        class Yuboto:
            name = "yuboto"

            def parse_webhook(self, headers, body):
                check_signature(headers["X-Signature"], body, SECRET)  # raises TelephonyRejected
                event = json.loads(body)
                return [
                    CallEvent(
                        call_id=event["uuid"],
                        from_number=event["from"],
                        to_number=event["to"],
                        direction="inbound",
                        started_at=event["start"],
                        duration_s=event["billsec"],
                    )
                ]


        @hookimpl
        def register_telephony_providers(register):
            register(Yuboto())
        ```
    """
