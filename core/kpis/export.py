"""KPI results as CSV (API, dashboard and `emporio kpis --format csv` share this)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

FIELDS = ("value", "numerator", "denominator", "n")


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return "" if value is None else value


def kpis_csv(result: dict[str, Any], names: dict[str, str] | None = None) -> str:
    """`GET /v1/kpis` → one row per KPI."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kpi", "name", "unit", *FIELDS, "filter_not_applicable", "from", "to"])
    for kpi_id, item in sorted(result["kpis"].items()):
        writer.writerow(
            [
                kpi_id,
                (names or {}).get(kpi_id, ""),
                item.get("unit", ""),
                *[_cell(item.get(f)) for f in FIELDS],
                "true" if item.get("filter_not_applicable") else "",
                _cell(result["from"]),
                _cell(result["to"]),
            ]
        )
    return out.getvalue()


def kpi_csv(result: dict[str, Any]) -> str:
    """`GET /v1/kpis/{id}` → the plain value, its groups, or its series, one row each."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if "series" in result:
        writer.writerow(["kpi", "period_start", *FIELDS])
        for row in result["series"]:
            writer.writerow([result["id"], _cell(row["period_start"]), *[_cell(row.get(f)) for f in FIELDS]])
    elif "groups" in result:
        # A groups-only KPI (top_performing_agents) answers with figures of its own per group.
        extra = list(dict.fromkeys(k for row in result["groups"] for k in row if k != "key" and k not in FIELDS))
        writer.writerow(["kpi", result.get("group_by", "key"), *FIELDS, *extra])
        for row in result["groups"]:
            writer.writerow([result["id"], _cell(row["key"]), *[_cell(row.get(f)) for f in (*FIELDS, *extra)]])
    else:
        writer.writerow(["kpi", "unit", *FIELDS, "from", "to"])
        writer.writerow(
            [
                result["id"],
                result.get("unit", ""),
                *[_cell(result.get(f)) for f in FIELDS],
                _cell(result["from"]),
                _cell(result["to"]),
            ]
        )
    return out.getvalue()
