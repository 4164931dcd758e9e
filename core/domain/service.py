"""The service desk's pure types: case statuses and their machine, channels, priorities, and the
shapes of cases, messages and agents in the API."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec

from core.domain.errors import Conflict
from core.domain.orders import CustomerRef

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class CaseStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer
    RESOLVED = "resolved"
    CLOSED = "closed"


CASE_TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.NEW: frozenset({CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.OPEN: frozenset({CaseStatus.PENDING, CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.PENDING: frozenset({CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}

# A case still being worked on (counts against an agent's capacity, blocks surveys).
ACTIVE = frozenset({CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING})


def check_case_transition(case_number: int, current: CaseStatus, target: CaseStatus) -> None:
    if target not in CASE_TRANSITIONS[current]:
        allowed = ", ".join(sorted(CASE_TRANSITIONS[current])) or "nothing (it is closed)"
        raise Conflict(
            f"case #{case_number} is {current} and cannot become {target}; from {current} it can become {allowed}"
        )


class Channel(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    SOCIAL = "social"
    IN_PERSON = "in_person"
    WEB = "web"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_ORDER = (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT)


def raised(priority: Priority) -> Priority:
    """One step up, for an escalated case (urgent stays urgent)."""
    return PRIORITY_ORDER[min(PRIORITY_ORDER.index(priority) + 1, len(PRIORITY_ORDER) - 1)]


class Direction(StrEnum):
    IN = "in"  # from the customer
    OUT = "out"  # from the shop (an agent's reply or internal note)


class Author(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


# ---------------------------------------------------------------------------------------------
# API shapes
# ---------------------------------------------------------------------------------------------


class CaseIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    customer: CustomerRef
    channel: Channel
    subject: Short
    body: Text
    order_id: str | None = None
    topic: str | None = None
    locale: str | None = None
    duration_s: Annotated[int, msgspec.Meta(ge=0, le=86_400)] | None = None  # phone calls: handle time


class MessageIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    body: Text
    internal: bool = False
    macro: str | None = None
    channel: Channel | None = None
    duration_s: Annotated[int, msgspec.Meta(ge=0, le=86_400)] | None = None


class AssignIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    agent: str


class MergeIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    into: str


class WorklogIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    minutes: Annotated[float, msgspec.Meta(gt=0, le=24 * 60)]


class AttachmentOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    filename: str
    content_type: str
    size: int


class MessageOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    direction: Direction
    channel: Channel
    author: str
    internal: bool
    body: str
    html: str | None
    attachments: list[AttachmentOut]
    message_id: str | None
    created_at: datetime
    auto: str | None = None  # "bounce" | "auto_reply": stored, never answered


class SlaOut(msgspec.Struct, frozen=True, kw_only=True):
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_response_breached: bool
    resolution_breached: bool


class CaseLinks(msgspec.Struct, frozen=True, kw_only=True):
    orders: list[str]
    shipments: list[str]
    returns: list[str]


class CaseCustomer(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    email: str | None
    name: str
    phone: str | None


class CaseOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    number: int
    status: CaseStatus
    channel: Channel
    topic: str | None
    skill: str | None
    priority: Priority
    subject: str
    locale: str
    customer: CaseCustomer
    assignee: str | None
    links: CaseLinks
    sla: SlaOut
    channels: list[Channel]  # every channel the customer used on this case, first first
    merged_into: str | None
    reopened: int
    created_at: datetime
    resolved_at: datetime | None
    messages: list[MessageOut] = msgspec.field(default_factory=list)
    context: dict[str, object] | None = None


class Money(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    amount: Annotated[int, msgspec.Meta(ge=0)]
    currency: Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$")]


class AgentIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Short
    email: str | None = None
    skills: list[Annotated[str, msgspec.Meta(min_length=1, max_length=60)]] = msgspec.field(default_factory=list)
    languages: list[Annotated[str, msgspec.Meta(pattern="^[a-z]{2}$")]] = msgspec.field(default_factory=lambda: ["el"])
    capacity: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 10
    hourly_cost: Money | None = None
    active: bool = True
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")] | None = None


class AgentOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    email: str | None
    skills: list[str]
    languages: list[str]
    capacity: int
    hourly_cost: Money | None
    active: bool
    open_cases: int = 0
