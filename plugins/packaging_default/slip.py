"""The packing slip: one small, printable, self-contained HTML page (no external assets) telling
the packer which items go in which box and which inserts to add, in Greek or English."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from core.hookspecs.packaging import PackagingPlan
from plugins.packaging_default.inserts import language_of
from plugins.packaging_default.policy import OVERSIZE

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Packing slip",
        "order": "Order",
        "shipment": "Shipment",
        "policy": "Packaging policy version",
        "items": "Items",
        "sku": "SKU",
        "name": "Item",
        "qty": "Qty",
        "total": "Total units",
        "boxes": "Boxes",
        "box": "Box",
        "contents": "Contents",
        "weight": "Weight",
        "reusable": "reusable",
        "inserts": "Inserts",
        "insert": "Insert",
        "code": "Code",
        "text": "Text",
        "none": "None",
        "oversize": f"Items in {OVERSIZE} fit no box: pack them by hand.",
        "packed_by": "Packed by",
        "thank_you_note": "Thank-you note",
        "seasonal": "Seasonal packaging",
        "gift": "Gift",
        "reusable_packaging_notice": "Return-the-box notice",
    },
    "el": {
        "title": "Δελτίο συσκευασίας",
        "order": "Παραγγελία",
        "shipment": "Αποστολή",
        "policy": "Έκδοση πολιτικής συσκευασίας",
        "items": "Είδη",
        "sku": "Κωδικός",
        "name": "Είδος",
        "qty": "Ποσ.",
        "total": "Σύνολο τεμαχίων",
        "boxes": "Κουτιά",
        "box": "Κουτί",
        "contents": "Περιεχόμενο",
        "weight": "Βάρος",
        "reusable": "επαναχρησιμοποιήσιμο",
        "inserts": "Ένθετα",
        "insert": "Ένθετο",
        "code": "Κωδικός",
        "text": "Κείμενο",
        "none": "Κανένα",
        "oversize": f"Όσα είναι στο {OVERSIZE} δεν χωρούν σε κανένα κουτί: συσκευάστε τα με το χέρι.",
        "packed_by": "Συσκευάστηκε από",
        "thank_you_note": "Σημείωμα ευχαριστίας",
        "seasonal": "Εποχική συσκευασία",
        "gift": "Δώρο",
        "reusable_packaging_notice": "Σημείωμα επιστροφής κουτιού",
    },
}

_STYLE = """
body{font:11pt/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#000;margin:1.5cm}
h1{font-size:16pt;margin:0 0 .2cm}h2{font-size:12pt;margin:.5cm 0 .15cm}
dl{display:grid;grid-template-columns:max-content auto;gap:.05cm .4cm;margin:0}dt{font-weight:600}dd{margin:0}
table{width:100%;border-collapse:collapse}
th,td{border:1px solid #555;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#eee}.num{text-align:right;white-space:nowrap}.check{width:1.2em}.text{font-size:9pt}
.warn{border:2px solid #000;padding:4px 8px;font-weight:700}.sign{margin-top:1cm}
@page{size:A4;margin:1cm}@media print{body{margin:0}th{background:none}}
"""


def render_packing_slip(
    order_id: str,
    shipment_id: str | None,
    lines: Sequence[tuple[str, str, int]],
    plan: PackagingPlan,
    locale: str,
) -> str:
    """The packing slip of one shipment: `lines` are (sku, name, qty); labels follow `locale`."""
    language = "el" if language_of(locale) == "el" else "en"
    label = _LABELS[language]
    names = {sku: name for sku, name, _ in lines}

    def e(value: object) -> str:
        return escape(str(value), quote=True)

    def weight(grams: int) -> str:
        kg = f"{grams / 1000:.2f}"
        return (kg.replace(".", ",") if language == "el" else kg) + " kg"

    item_rows = "".join(
        f'<tr><td class="check">☐</td><td>{e(sku)}</td><td>{e(name)}</td><td class="num">{e(qty)}</td></tr>'
        for sku, name, qty in lines
    )
    total = sum(qty for _, _, qty in lines)
    item_rows += f'<tr><th colspan="3">{e(label["total"])}</th><td class="num">{e(total)}</td></tr>'

    box_rows = "".join(
        f'<tr><td class="num">{n}</td><td>{e(box.box)}{_reusable(box.reusable, label)}</td><td>'
        + "<br>".join(f"{e(qty)}× {e(sku)}{_name(names.get(sku))}" for sku, qty in box.items.items())
        + f'</td><td class="num">{e(weight(box.weight_g))}</td></tr>'
        for n, box in enumerate(plan.boxes, start=1)
    )
    insert_rows = "".join(
        f'<tr><td class="check">☐</td><td>{e(label.get(insert.kind, insert.kind))}</td><td>{e(insert.code)}</td>'
        f'<td class="text">{e(insert.text or "")}</td></tr>'
        for insert in plan.inserts
    )
    none_row = f'<tr><td colspan="4">{e(label["none"])}</td></tr>'
    oversize = any(box.box == OVERSIZE for box in plan.boxes)
    policy = (
        f"<dt>{e(label['policy'])}</dt><dd>{e(plan.policy_version)}</dd>" if plan.policy_version is not None else ""
    )
    return (
        f'<!doctype html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(label['title'])} — {e(order_id)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{e(label['title'])}</h1>\n"
        f"<dl><dt>{e(label['order'])}</dt><dd>{e(order_id)}</dd>"
        f"<dt>{e(label['shipment'])}</dt><dd>{e(shipment_id or '—')}</dd>{policy}</dl>\n"
        f"<h2>{e(label['items'])}</h2>\n<table><thead><tr><th></th><th>{e(label['sku'])}</th>"
        f'<th>{e(label["name"])}</th><th class="num">{e(label["qty"])}</th></tr></thead>'
        f"<tbody>{item_rows}</tbody></table>\n"
        f'<h2>{e(label["boxes"])}</h2>\n<table><thead><tr><th class="num">#</th><th>{e(label["box"])}</th>'
        f'<th>{e(label["contents"])}</th><th class="num">{e(label["weight"])}</th></tr></thead>'
        f"<tbody>{box_rows or none_row}</tbody></table>\n"
        + (f'<p class="warn">{e(label["oversize"])}</p>\n' if oversize else "")
        + f"<h2>{e(label['inserts'])}</h2>\n<table><thead><tr><th></th><th>{e(label['insert'])}</th>"
        f"<th>{e(label['code'])}</th><th>{e(label['text'])}</th></tr></thead>"
        f"<tbody>{insert_rows or none_row}</tbody></table>\n"
        f'<p class="sign">{e(label["packed_by"])}: ____________________</p>\n</body>\n</html>\n'
    )


def _reusable(reusable: bool, label: dict[str, str]) -> str:
    return f" ({escape(label['reusable'])})" if reusable else ""


def _name(name: str | None) -> str:
    return f" — {escape(name)}" if name else ""
