"""GDPR: everything held about a person, as JSON, and erasure — personal data replaced in every
table that holds it while orders, payments and KPI facts stay countable.

`PERSONAL` names every text column that can hold a customer's personal data; `NOT_PERSONAL` every
other text column, with why. A test fails when a registered table has a text column in neither,
so a new table cannot hold personal data that erasure forgets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from core.customers.tables import Customer, CustomerSegments
from core.db.database import Database, utcnow
from core.domain.errors import NotFound
from core.domain.events import CustomerErased
from core.fulfilment.tables import Shipment
from core.jobs import outbox
from core.orders.tables import Order, OrderLine
from core.payments.tables import Payment
from core.returns.tables import ReturnRequest
from core.service.tables import Case, CaseAttachment, CaseMessage

ERASED = "[erased]"

# table → text columns that can hold a customer's personal data (erased or scrubbed)
PERSONAL: dict[str, tuple[str, ...]] = {
    "customers": ("email", "name", "phone", "phone_e164"),
    "orders": ("shipping_address",),
    "shipments": ("label_pdf", "packaging", "last_error"),
    "shipment_events": ("description",),
    "cases": ("subject",),
    "case_messages": ("body", "html"),
    "case_attachments": ("filename",),
    "events": ("payload", "last_error"),
    "audit_log": ("details",),
    "idempotency_keys": ("response_body",),
    "psp_webhook_events": ("payload", "normalized"),
    "tasks": ("title", "detail"),
    "returns": ("notes", "decision_reason"),
    "money_movements": ("reason", "last_error"),
    "surveys": ("detail",),  # a mail server's refusal names the address
    "survey_responses": ("comment",),
    "reviews": ("title", "body", "reply", "moderation_note"),
    "kms_searches": ("query", "normalized"),  # what a customer typed into the help search
    # what a webhook carries (an event's payload) and what its receiver answered
    "webhook_deliveries": ("payload", "last_error"),
    "webhook_attempts": ("error", "response_excerpt"),
}

_CODES = "codes, ids, statuses or enums"
# table → why its text columns hold no personal data
NOT_PERSONAL: dict[str, str] = {
    "agents": "the shop's staff, not customers",
    "allocations": "routing decisions: locations, SKUs, reasons",
    "api_keys": "key names and hashes",
    "case_links": _CODES,
    "case_worklogs": _CODES,
    "channel_orders": "marketplace order codes, SKUs, quantities and the shop's answers",
    "checkouts": "channel, SKUs and quantities",
    "customer_segments": "segment ids",
    "customer_tokens": "token hashes and the customer id",
    "chat_sessions": "token hashes, the customer id and locale",
    "delivery_attempts": "courier outcome codes",
    "event_handlings": _CODES,
    "inventory_counts": "locations, SKUs, staff who counted",
    "inventory_levels": _CODES,
    "inventory_movements": "locations, SKUs, staff",
    "kpi_dirty_days": "dates",
    "kpi_rollup_days": "dates",
    "kpi_rollups": "aggregates by channel, segment and location",
    "kms_articles": "the shop's help articles",
    "kms_translations": "the shop's help articles",
    "kms_article_versions": "the shop's help articles and the staff who saved them",
    "kms_feedback": _CODES,
    "kms_search_docs": "the shop's help articles, indexed",
    "kms_search_terms": "words of the shop's help articles",
    "kms_search_stats": "counters",
    "locations": "the shop's own addresses",
    "manifests": "courier pickup references",
    "meta_conversations": "page-scoped ids only; the social_meta plugin replaces them on customer.erased",
    "meta_sends": "Send API records: ids, states and Meta's error codes",
    "ops_sessions": "token hashes",
    "order_lines": _CODES,
    "payment_attempts": "card brand, funding and issuing bank, never the card or the holder",
    "payments": "PSP references and client secrets of the PSP's own objects",
    "payment_links": "PSP references, hosted page addresses and the staff key that sent the link",
    "picker_shifts": "staff and dates",
    "policies": "the shop's documents",
    "products": "the catalogue",
    "reservations": _CODES,
    "return_lines": "reasons and dispositions (codes)",
    "sales_channels": "the shop's channels",
    "schema_migrations": "migration names",
    "segment_builds": "build times",
    "segment_memberships": "segment ids",
    "service_sequences": "counters",
    "shipment_lines": _CODES,
    "store_credits": _CODES,
    "survey_throttle": _CODES,
    "webhook_endpoints": "the shop's receivers: URLs, event names, sealed secrets, reasons",
}


# table → columns replaced whole in the customer's own rows (`customer_id`): what the person wrote
# (survey comments, reviews and the shop's answers to them) is personal through and through, not
# only where it names them. A plugin's table here is skipped when the plugin is not installed.
WRITTEN_BY_CUSTOMER: dict[str, tuple[str, ...]] = {
    "survey_responses": ("comment",),
    "reviews": ("title", "body", "reply", "moderation_note"),
    "surveys": ("detail",),
}


def _installed(db: Database) -> set[str]:
    return {table._meta.tablename for table in db.tables}


async def _written_by(db: Database, customer_id: str) -> dict[str, list[dict[str, Any]]]:
    """The customer's rows of the WRITTEN_BY_CUSTOMER tables, for the export."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table in sorted(set(WRITTEN_BY_CUSTOMER) & _installed(db)):
        found[table] = [
            msgspec.to_builtins(r)
            for r in await db.fetch(f"SELECT * FROM {table} WHERE customer_id = {{}}", customer_id)
        ]
    return found


async def _erase_written(db: Database, customer_id: str) -> int:
    """Replace what the customer wrote; values already erased are not counted again."""
    total = 0
    for table in sorted(set(WRITTEN_BY_CUSTOMER) & _installed(db)):
        for column in WRITTEN_BY_CUSTOMER[table]:
            rows = await db.fetch(
                f"UPDATE {table} SET {column} = {{}} WHERE customer_id = {{}} AND {column} IS NOT NULL "
                f"AND {column} != {{}} RETURNING 1 AS n",
                ERASED,
                customer_id,
                ERASED,
            )
            total += len(rows)
    return total


async def _orders_of(customer_id: str) -> list[str]:
    return [r["id"] for r in await Order.select(Order.id).where(Order.customer_id == customer_id)]


def _strings(customer: dict[str, Any], addresses: list[Any]) -> list[str]:
    """The person's identifying strings, longest first (so a full name goes before a part)."""
    found: set[str] = set()
    for value in (customer["email"], customer["name"], customer["phone"], customer["phone_e164"]):
        if value and len(value) >= 4:
            found.add(value)
    for address in addresses:
        data = json.loads(address) if isinstance(address, str) else address
        if isinstance(data, dict):
            for key in ("name", "line1", "line2", "phone", "email", "company"):
                value = data.get(key)
                if isinstance(value, str) and len(value) >= 4:
                    found.add(value)
    found.discard(ERASED)
    return sorted(found, key=lambda s: (-len(s), s))


async def export(customer_id: str, db: Database | None = None) -> dict[str, Any]:
    """Everything held about the person; with `db`, also what they wrote (WRITTEN_BY_CUSTOMER)."""
    customer = await Customer.select().where(Customer.id == customer_id).first()
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    orders = await Order.select().where(Order.customer_id == customer_id).order_by(Order.placed_at)
    order_ids = [o["id"] for o in orders]
    cases = await Case.select().where(Case.customer_id == customer_id).order_by(Case.created_at)
    case_ids = [c["id"] for c in cases]

    def listed(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [msgspec.to_builtins(r) for r in rows]

    exported: dict[str, Any] = msgspec.to_builtins(
        {
            "customer": customer,
            "segments": await CustomerSegments.select().where(CustomerSegments.customer_id == customer_id).first(),
            "orders": listed(orders),
            "order_lines": listed(await OrderLine.select().where(OrderLine.order_id.is_in(order_ids)))
            if order_ids
            else [],
            "shipments": listed(
                await Shipment.select(*[c for c in Shipment._meta.columns if c._meta.name != "label_pdf"]).where(
                    Shipment.order_id.is_in(order_ids)
                )
            )
            if order_ids
            else [],
            "payments": listed(await Payment.select().where(Payment.order_id.is_in(order_ids))) if order_ids else [],
            "returns": listed(await ReturnRequest.select().where(ReturnRequest.order_id.is_in(order_ids)))
            if order_ids
            else [],
            "cases": listed(cases),
            "messages": listed(await CaseMessage.select().where(CaseMessage.case_id.is_in(case_ids)))
            if case_ids
            else [],
            "exported_at": utcnow(),
        }
    )
    if db is not None:
        exported.update(await _written_by(db, customer_id))
    return exported


async def erase(db: Database, customer_id: str, data_dir: Path, actor: str) -> dict[str, Any]:
    """Replace the person's data everywhere; idempotent (a second call finds nothing to change).
    Call inside a unit of work. Returns counts only — never the erased values."""
    customer = await Customer.select().where(Customer.id == customer_id).first()
    if customer is None:
        raise NotFound(f"no customer with id {customer_id}")
    order_ids = await _orders_of(customer_id)
    addresses = [o["shipping_address"] for o in await Order.select(Order.shipping_address).where(
        Order.customer_id == customer_id
    ) if o["shipping_address"]]  # fmt: skip
    strings = _strings(customer, addresses)
    changed: dict[str, int] = {}
    await Customer.update(
        {Customer.email: None, Customer.name: ERASED, Customer.phone: None, Customer.phone_e164: None}
    ).where(Customer.id == customer_id)
    if order_ids:
        for order in await Order.select(Order.id, Order.shipping_address).where(Order.id.is_in(order_ids)):
            address = order["shipping_address"]
            data = json.loads(address) if isinstance(address, str) else address
            if isinstance(data, dict) and not data.get("erased"):
                kept = {"country": data.get("country"), "erased": True}
                await Order.update({Order.shipping_address: json.dumps(kept)}).where(Order.id == order["id"])
        await Shipment.update({Shipment.label_pdf: None}).where(Shipment.order_id.is_in(order_ids))
    cases = [r["id"] for r in await Case.select(Case.id).where(Case.customer_id == customer_id)]
    if cases:
        await Case.update({Case.subject: ERASED}).where(Case.id.is_in(cases))
        messages = [r["id"] for r in await CaseMessage.select(CaseMessage.id).where(CaseMessage.case_id.is_in(cases))]
        await CaseMessage.update({CaseMessage.body: ERASED, CaseMessage.html: None}).where(
            CaseMessage.case_id.is_in(cases)
        )
        if messages:
            for attachment in await CaseAttachment.select().where(CaseAttachment.message_id.is_in(messages)):
                await _forget_file(data_dir, attachment)
            await CaseAttachment.update({CaseAttachment.filename: ERASED, CaseAttachment.storage_path: ""}).where(
                CaseAttachment.message_id.is_in(messages)
            )
    changed["written"] = await _erase_written(db, customer_id)
    installed = _installed(db)
    for table, columns in PERSONAL.items():
        if table not in installed:  # a plugin's table, the plugin not installed
            continue
        for column in columns:
            changed[f"{table}.{column}"] = await _scrub(db, table, column, strings)
    await outbox.record(CustomerErased(by=actor), subject_id=customer_id, customer_id=customer_id)
    return {"customer_id": customer_id, "erased": True, "values_scrubbed": sum(changed.values())}


async def _forget_file(data_dir: Path, attachment: dict[str, Any]) -> None:
    """Delete the bytes unless another attachment (another customer's) has the same content."""
    if not attachment["storage_path"]:
        return
    others = await CaseAttachment.count().where(
        (CaseAttachment.sha256 == attachment["sha256"]) & (CaseAttachment.id != attachment["id"])
        & (CaseAttachment.storage_path != "")
    )  # fmt: skip
    if not others:
        (data_dir / attachment["storage_path"]).unlink(missing_ok=True)


async def _scrub(db: Database, table: str, column: str, strings: list[str]) -> int:
    """Replace each string in the column wherever it appears (JSON columns through their text)."""
    total = 0
    as_text = f"CAST({column} AS TEXT)" if db.is_postgres else column
    for value in strings:
        like = "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = await db.fetch(
            f"SELECT COUNT(*) AS n FROM {table} WHERE {as_text} LIKE {{}} ESCAPE '\\'", like
        )  # fmt: skip
        if not rows or not rows[0]["n"]:
            continue
        replaced = f"REPLACE({as_text}, {{}}, {{}})"
        if db.is_postgres and await _is_jsonb(db, table, column):
            replaced = f"CAST({replaced} AS JSONB)"
        await db.fetch(
            f"UPDATE {table} SET {column} = {replaced} WHERE {as_text} LIKE {{}} ESCAPE '\\'", value, ERASED, like
        )
        total += int(rows[0]["n"])
    return total


async def _is_jsonb(db: Database, table: str, column: str) -> bool:
    rows = await db.fetch(
        "SELECT data_type FROM information_schema.columns WHERE table_name = {} AND column_name = {}", table, column
    )
    return bool(rows) and rows[0]["data_type"] == "jsonb"


__all__ = ["NOT_PERSONAL", "PERSONAL", "erase", "export"]
