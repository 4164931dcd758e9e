"""Piccolo tables of the service desk; the schema itself is created by core/db/migrations."""

from __future__ import annotations

from piccolo.columns import BigInt, Boolean, DoublePrecision, Integer, Text
from piccolo.table import Table

from core.db.columns import timestamp


class Agent(Table, tablename="agents"):
    id = Text(primary_key=True)
    external_ref = Text(null=True, default=None)
    name = Text()
    email = Text(null=True, default=None)
    skills = Text(default="[]")  # JSON list
    languages = Text(default='["el"]')  # JSON list
    capacity = Integer(default=10)
    hourly_cost_amount = BigInt(null=True, default=None)
    hourly_cost_currency = Text(null=True, default=None)
    active = Boolean(default=True)
    key_id = Text(null=True, default=None)  # the API key acting as this agent
    created_at = timestamp(null=False)


class ServiceSequence(Table, tablename="service_sequences"):
    name = Text(primary_key=True)
    value = BigInt()


class Case(Table, tablename="cases"):
    id = Text(primary_key=True)
    number = BigInt()
    external_ref = Text(null=True, default=None)
    customer_id = Text()
    status = Text()
    channel = Text()
    topic = Text(null=True, default=None)
    skill = Text(null=True, default=None)
    priority = Text(default="normal")
    subject = Text(default="")
    locale = Text(default="el")
    assignee = Text(null=True, default=None)
    first_response_due = timestamp()
    resolution_due = timestamp()
    first_response_at = timestamp()
    first_response_breached = Boolean(default=False)
    resolution_breached = Boolean(default=False)
    escalated_at = timestamp()
    merged_into = Text(null=True, default=None)
    previous_case_id = Text(null=True, default=None)
    reopened = Integer(default=0)
    channels = Text(default="[]")  # JSON list, in the order the customer used them
    created_at = timestamp(null=False)
    updated_at = timestamp(null=False)
    resolved_at = timestamp()
    closed_at = timestamp()


class CaseMessage(Table, tablename="case_messages"):
    id = Text(primary_key=True)
    case_id = Text()
    external_ref = Text(null=True, default=None)
    direction = Text()
    channel = Text()
    author = Text()
    agent_id = Text(null=True, default=None)
    internal = Boolean(default=False)
    body = Text(default="")
    html = Text(null=True, default=None)
    message_id = Text(null=True, default=None)
    in_reply_to = Text(null=True, default=None)
    auto = Text(null=True, default=None)
    duration_s = Integer(null=True, default=None)
    send_state = Text(null=True, default=None)  # outbound: pending | sent | failed
    sent_at = timestamp()
    created_at = timestamp(null=False)


class CaseLink(Table, tablename="case_links"):
    id = Text(primary_key=True)
    case_id = Text()
    kind = Text()  # order | shipment | return
    ref_id = Text()
    created_at = timestamp(null=False)


class CaseAttachment(Table, tablename="case_attachments"):
    id = Text(primary_key=True)
    message_id = Text()
    filename = Text()
    content_type = Text()
    size = BigInt()
    sha256 = Text()
    storage_path = Text()
    created_at = timestamp(null=False)


class Worklog(Table, tablename="case_worklogs"):
    id = Text(primary_key=True)
    case_id = Text()
    agent_id = Text(null=True, default=None)
    minutes = DoublePrecision()
    at = timestamp(null=False)
    external_ref = Text(null=True, default=None)


TABLES: tuple[type[Table], ...] = (Agent, ServiceSequence, Case, CaseMessage, CaseLink, CaseAttachment, Worklog)

__all__ = ["Agent", "Case", "CaseAttachment", "CaseLink", "CaseMessage", "ServiceSequence", "Worklog"]
