"""KPI results as CSV (API, dashboard and `emporio kpis --format csv` share this) and as the terminal
table of `emporio kpis`."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

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


def print_table(result: dict[str, Any]) -> None:
    """`emporio kpis` in the terminal: every KPI of the period, or one KPI's series or groups."""

    def fmt(v: Any) -> str:
        return "—" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))

    table = Table(
        title=f"{result['from']:%Y-%m-%d %H:%M} → {result['to']:%Y-%m-%d %H:%M} UTC "
        + (" ".join(f"{k}={v}" for k, v in result["filters"].items()) or "")
    )
    if "kpis" in result:
        for column in ("kpi", "value", "unit", "numerator", "denominator", "n"):
            table.add_column(column, justify="left" if column == "kpi" else "right")
        for kpi_id, item in sorted(result["kpis"].items()):
            mark = " *" if item.get("filter_not_applicable") else ""
            table.add_row(
                kpi_id + mark,
                fmt(item["value"]),
                item["unit"],
                fmt(item.get("numerator")),
                fmt(item.get("denominator")),
                fmt(item.get("n")),
            )
    else:
        rows = result.get("series") or result.get("groups") or [result]
        label = "period_start" if "series" in result else ("key" if "groups" in result else "id")
        for column in (label, "value", "numerator", "denominator", "n"):
            table.add_column(column)
        for row in rows:
            table.add_row(
                fmt(row.get(label)),
                fmt(row.get("value")),
                fmt(row.get("numerator")),
                fmt(row.get("denominator")),
                fmt(row.get("n")),
            )
    Console().print(table)
