"""Helpers of the feedback tests: a customer with a case, the outbox's events processed in order
(what the worker does, without its timing), survey links read out of a mail, a pinned clock."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import msgspec

from core.jobs import outbox
from core.jobs.tables import Event
from core.runtime import Runtime
from plugins.feedback.links import read_token

CUSTOMER = {"email": "eleni@example.gr", "name": "Ελένη Παππά"}
LINK = re.compile(r"(https?://[^/\s]+)/s/([A-Za-z0-9_.\-]+)\?score=(\d+)")


class Clock:
    """The feedback plugin's clock, pinned; move it with `clock.now += timedelta(…)`."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def settle(runtime: Runtime, *, rounds: int = 5) -> int:
    """Process every unprocessed event in the order written, as the worker would (events their
    reactions record are processed in the next round). Returns how many were processed."""
    done = 0
    for _ in range(rounds):
        rows = await Event.select(Event.id).where(Event.processed_at.is_null()).order_by(Event.id)
        if not rows:
            break
        for row in rows:
            await outbox.process_event(runtime, row["id"])
            done += 1
    return done


async def open_case(
    api: Any, *, topic: str = "delivery", body: str = "Έχω μια ερώτηση", customer: dict[str, str] | None = None
) -> dict[str, Any]:
    """A case of its own per topic: the desk threads a customer's messages about one topic into one case."""
    created = await api.post(
        "/v1/cases",
        json={"customer": customer or CUSTOMER, "channel": "web", "subject": "Ερώτηση", "body": body, "topic": topic},
        as_="storefront",
    )
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


async def resolved_case(api: Any, **options: Any) -> dict[str, Any]:
    """A case the customer opened, an agent answered and resolved."""
    case = await open_case(api, **options)
    reply = await api.post(f"/v1/cases/{case['id']}/messages", json={"body": "Καθ' οδόν!"}, as_="agent")
    assert reply.status_code == 201, reply.text
    resolved = await api.post(f"/v1/cases/{case['id']}/resolve", as_="agent")
    assert resolved.status_code == 200, resolved.text
    return resolved.json()  # type: ignore[no-any-return]


def links_of(mail: EmailMessage) -> dict[tuple[str, int], str]:
    """(item, score) → the path `/s/<token>?score=N`, from the text part of a survey mail (the
    item read back from the token: `csat`, `ces`, `nps`, `review:<sku>`)."""
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    found: dict[tuple[str, int], str] = {}
    for match in LINK.finditer(part.get_content()):
        _, item = read_token(match.group(2))
        found[(item, int(match.group(3)))] = f"/s/{match.group(2)}?score={match.group(3)}"
    return found


def days(n: float) -> timedelta:
    return timedelta(days=n)


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


async def import_lines(api: Any, records: list[dict[str, Any]]) -> Any:
    body = b"".join(msgspec.json.encode(r) + b"\n" for r in records)
    return await api.post("/v1/import", content=body, headers={"Content-Type": "application/x-ndjson"}, as_="admin")


def shop_records(delivered: datetime) -> list[dict[str, Any]]:
    """c1 ordered A1 and B2 (o1: only A1 delivered), c2 ordered A1 (o2: delivered)."""
    placed = delivered - timedelta(days=3)
    records: list[dict[str, Any]] = [
        {"kind": "customer", "id": "c1", "email": "c1@example.gr", "name": "Μαρία Παπαδοπούλου", "locale": "el"},
        {"kind": "customer", "id": "c2", "email": "c2@example.gr", "name": "Nikos K", "locale": "en"},
        {"kind": "product", "sku": "A1", "name": "Κούπα", "price": 1200, "currency": "EUR"},
        {"kind": "product", "sku": "B2", "name": "Πιάτο", "price": 900, "currency": "EUR"},
        {"kind": "location", "code": "WH-1", "name": "Athens", "type": "warehouse"},
    ]
    for oid, cid, skus in (("o1", "c1", ("A1", "B2")), ("o2", "c2", ("A1",))):
        records.append(
            {"kind": "order", "id": oid, "channel": "web", "customer_id": cid, "placed_at": stamp(placed),
             "currency": "EUR", "lines": [{"sku": s, "qty": 1, "unit_price": 1000} for s in skus]}
        )  # fmt: skip
        records.append(
            {"kind": "shipment", "id": f"s-{oid}", "order_id": oid, "location": "WH-1", "courier": "acs",
             "lines": [{"sku": "A1", "qty": 1, "picked_qty": 1}], "shipped_at": stamp(placed + timedelta(days=1)),
             "delivered_at": stamp(delivered)}
        )  # fmt: skip
    return records


async def internal(table: Any, external: str) -> str:
    row = await table.select(table.id).where(table.external_ref == external).first()
    assert row is not None, external
    return str(row["id"])
