"""Which customers are in a segment now, for the `customer_segment=` KPI filter. Read straight
from the memberships table so the KPI engine does not depend on the customers domain."""

from __future__ import annotations

from core.db.schema import SchemaMigration


async def customer_segment_members(segment: str) -> set[str]:
    rows = await SchemaMigration.raw(
        "SELECT customer_id FROM segment_memberships WHERE segment = {} AND left_at IS NULL", segment
    )
    return {r["customer_id"] for r in rows}
