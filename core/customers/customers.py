"""Customers: created by storefronts or found by email when an order arrives."""

from __future__ import annotations

from typing import Any

import msgspec

from core.customers import segments
from core.customers.tables import Customer
from core.db.database import raw_fetch, utcnow
from core.domain.customers import CustomerIn, CustomerOut
from core.domain.errors import Conflict, InvalidInput, NotFound
from core.domain.events import CustomerCreated
from core.domain.ids import new_id
from core.domain.orders import CustomerRef
from core.domain.phones import e164
from core.jobs import outbox as events


def customer_out(row: dict[str, Any]) -> CustomerOut:
    return CustomerOut(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        phone=row["phone"],
        locale=row["locale"],
        created_at=row["created_at"],
    )


async def create_customer(data: CustomerIn) -> CustomerOut:
    email = data.email.strip().lower()
    existing = await Customer.select(Customer.id).where(Customer.email == email)
    if existing:
        raise Conflict(
            f"a customer with email {email} already exists ({existing[0]['id']})", customer_id=existing[0]["id"]
        )
    row: dict[str, Any] = dict(
        id=new_id("cus"),
        email=email,
        name=data.name,
        phone=data.phone,
        phone_e164=e164(data.phone) if data.phone else None,
        locale=data.locale,
        created_at=utcnow(),
    )
    await Customer.insert(Customer(**row))
    await events.record(CustomerCreated(), customer_id=row["id"], subject_id=row["id"])
    return customer_out(row)


async def get_customer(customer_id: str) -> CustomerOut:
    rows = await Customer.select().where(Customer.id == customer_id)
    if not rows:
        raise NotFound(f"no customer with id {customer_id}")
    rfm, member_of = await segments.of_customer(customer_id)
    return msgspec.structs.replace(customer_out(rows[0]), rfm=rfm, segments=member_of)


async def resolve_customer(ref: CustomerRef) -> tuple[str, str, bool]:
    """The order's customer: by id, or found/created by email. Returns (id, locale, created)."""
    if ref.id:
        rows = await Customer.select(Customer.id, Customer.locale).where(Customer.id == ref.id)
        if not rows:
            raise InvalidInput(
                f"customer {ref.id} does not exist", errors=[{"field": "customer.id", "message": "unknown customer"}]
            )
        return rows[0]["id"], rows[0]["locale"], False
    if not ref.email or not ref.name:
        raise InvalidInput(
            "customer needs either an id, or an email and a name",
            errors=[{"field": "customer", "message": "give id, or email and name"}],
        )
    email = ref.email.strip().lower()
    # Plain SQL: every order placed by email asks this first.
    rows = await raw_fetch(Customer._meta.db, "SELECT id, locale FROM customers WHERE email = {}", email)
    if rows:
        return rows[0]["id"], rows[0]["locale"], False
    customer_id = new_id("cus")
    locale = ref.locale or "el"
    # Two first orders from one new email may race: the loser reads the winner's row.
    inserted = await Customer.raw(
        "INSERT INTO customers (id, email, name, phone, phone_e164, locale, created_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (email) DO NOTHING RETURNING id",
        customer_id,
        email,
        ref.name,
        ref.phone,
        e164(ref.phone) if ref.phone else None,
        locale,
        utcnow(),
    )
    if not inserted:
        rows = await Customer.select(Customer.id, Customer.locale).where(Customer.email == email)
        return rows[0]["id"], rows[0]["locale"], False
    await events.record(CustomerCreated(), customer_id=customer_id, subject_id=customer_id)
    return customer_id, locale, True
