"""Events of the service desk: cases opened, messages in and out, who holds a case, its status
changes, merges, channel switches, SLA breaches and worklogs."""

from __future__ import annotations

import msgspec

from core.domain.events.base import EventPayload, EventType, SubjectType


class _CaseEvent(EventPayload, frozen=True, kw_only=True):
    subject = SubjectType.CASE
    number: int


class CaseCreated(_CaseEvent, frozen=True, kw_only=True):
    """A customer's problem became a case: its channel, topic (and why), priority and SLA clock."""

    event_type = EventType.CASE_CREATED
    channel: str
    topic: str | None
    priority: str
    assignee: str | None
    previous_case_id: str | None = None


class CaseMessageReceived(_CaseEvent, frozen=True, kw_only=True):
    """The customer wrote (any channel). Bounces and auto-replies say so in `auto`."""

    event_type = EventType.CASE_MESSAGE_RECEIVED
    repeatable = True  # a mail and its attachments' follow-up, two chat lines in one request
    message_id: str
    channel: str
    auto: str | None = None


class CaseReplied(_CaseEvent, frozen=True, kw_only=True):
    """An agent answered the customer; the channel plugin sends it from the outbox."""

    event_type = EventType.CASE_REPLIED
    repeatable = True
    message_id: str
    channel: str
    agent_id: str | None


class CaseNoteAdded(_CaseEvent, frozen=True, kw_only=True):
    """An internal note: never sent, never shown to the customer."""

    event_type = EventType.CASE_NOTE_ADDED
    repeatable = True
    message_id: str
    agent_id: str | None


class CaseAssigned(_CaseEvent, frozen=True, kw_only=True):
    event_type = EventType.CASE_ASSIGNED
    agent_id: str
    by: str  # "routing", "claim" or the agent who assigned


class CaseResolved(_CaseEvent, frozen=True, kw_only=True):
    event_type = EventType.CASE_RESOLVED
    by: str


class CaseReopened(_CaseEvent, frozen=True, kw_only=True):
    event_type = EventType.CASE_REOPENED
    by: str  # "customer" (a new message) or the agent
    reopened: int


class CaseClosed(_CaseEvent, frozen=True, kw_only=True):
    event_type = EventType.CASE_CLOSED
    by: str


class CaseMerged(_CaseEvent, frozen=True, kw_only=True):
    """This case was merged into another: its messages and links moved there."""

    event_type = EventType.CASE_MERGED
    into: str
    into_number: int
    by: str


class CaseChannelSwitched(_CaseEvent, frozen=True, kw_only=True):
    """The customer came back about the same problem on another channel."""

    event_type = EventType.CASE_CHANNEL_SWITCHED
    from_channel: str
    to_channel: str


class CaseEscalated(_CaseEvent, frozen=True, kw_only=True):
    """An SLA target passed: the breach is flagged and the priority raised."""

    event_type = EventType.CASE_ESCALATED
    breached: list[str] = msgspec.field(default_factory=list)  # "first_response", "resolution"
    priority: str


class CaseWorklogged(_CaseEvent, frozen=True, kw_only=True):
    event_type = EventType.CASE_WORKLOGGED
    repeatable = True
    agent_id: str | None
    minutes: float


PAYLOADS: tuple[type[EventPayload], ...] = (
    CaseCreated,
    CaseMessageReceived,
    CaseReplied,
    CaseNoteAdded,
    CaseAssigned,
    CaseResolved,
    CaseReopened,
    CaseClosed,
    CaseMerged,
    CaseChannelSwitched,
    CaseEscalated,
    CaseWorklogged,
)

__all__ = [
    "CaseAssigned",
    "CaseChannelSwitched",
    "CaseClosed",
    "CaseCreated",
    "CaseEscalated",
    "CaseMerged",
    "CaseMessageReceived",
    "CaseNoteAdded",
    "CaseReopened",
    "CaseReplied",
    "CaseResolved",
    "CaseWorklogged",
]
