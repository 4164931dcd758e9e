"""A hand-written, dependency-free PDF 1.4 writer for the ACS simulator's voucher labels.

ACS_Print_Voucher returns real PDF bytes, and the code under test may store or
forward them, so the simulator must return a document a PDF reader opens — not
a placeholder string. The writer emits the smallest structurally valid file:
catalog, page tree, one Helvetica font, one page + content stream per page,
and a byte-exact cross-reference table (offsets are measured while writing, so
the xref is always right).

The standard 14 fonts have no Greek glyphs, so Greek text is transliterated to
Latin (ELOT 743 style) — good enough for a human to recognise the label.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

# Thermal printers take 4x6 inch labels; laser prints three labels on an A4 sheet.
_THERMAL_PAGE: Final = (288, 432)
_A4_PAGE: Final = (595, 842)
_LASER_SLOTS: Final = 3

_GREEK_TO_LATIN: Final = {
    "Α": "A", "Β": "V", "Γ": "G", "Δ": "D", "Ε": "E", "Ζ": "Z", "Η": "I", "Θ": "TH",
    "Ι": "I", "Κ": "K", "Λ": "L", "Μ": "M", "Ν": "N", "Ξ": "X", "Ο": "O", "Π": "P",
    "Ρ": "R", "Σ": "S", "Τ": "T", "Υ": "Y", "Φ": "F", "Χ": "CH", "Ψ": "PS", "Ω": "O",
}  # fmt: skip


@dataclass(frozen=True)
class Label:
    """One voucher label: a headline (the voucher number) and lines of detail."""

    title: str
    lines: tuple[str, ...]


def to_pdf_text(text: str) -> str:
    """Reduce ``text`` to printable ASCII that a Type1 Helvetica font can show."""
    out: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char):
            continue  # accents and diaeresis: the base letter follows or precedes
        upper = char.upper()
        if upper in _GREEK_TO_LATIN:
            latin = _GREEK_TO_LATIN[upper]
            out.append(latin if char == upper else latin.lower())
        elif " " <= char <= "~":
            out.append(char)
        else:
            out.append("?")
    return "".join(out)


def _escape(text: str) -> str:
    """Escape a string for a PDF literal string ``( ... )``."""
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _label_ops(label: Label, left: int, top: int, width: int, height: int) -> list[str]:
    """Content-stream operators drawing one framed label whose top-left corner is (left, top)."""
    ops = [
        "0.8 w",
        f"{left + 8} {top - height + 8} {width - 16} {height - 16} re S",
        "BT",
        f"/F1 16 Tf {left + 20} {top - 36} Td",
        f"({_escape(to_pdf_text(label.title))}) Tj",
        "/F1 9 Tf 0 -20 Td",
    ]
    for line in label.lines:
        ops.append(f"({_escape(to_pdf_text(line))}) Tj 0 -13 Td")
    ops.append("ET")
    return ops


def _pages(labels: Sequence[Label], print_type: int, start_position: int) -> list[list[str]]:
    """Lay the labels out: one per thermal page, or three per A4 starting at a slot."""
    if print_type == 1:
        width, height = _THERMAL_PAGE
        return [_label_ops(label, 0, height, width, height) for label in labels]
    width, height = _A4_PAGE
    slot_height = height // _LASER_SLOTS
    pages: list[list[str]] = []
    slot = start_position - 1  # a partly used sheet can be fed back in at slot 2 or 3
    current: list[str] = []
    for label in labels:
        current += _label_ops(label, 0, height - slot * slot_height, width, slot_height)
        slot += 1
        if slot == _LASER_SLOTS:
            pages.append(current)
            current, slot = [], 0
    if current:
        pages.append(current)
    return pages


def render_labels(labels: Sequence[Label], print_type: int = 2, start_position: int = 1) -> bytes:
    """Return the bytes of a valid PDF holding ``labels`` (at least one page)."""
    page_ops = _pages(labels, print_type, start_position) or [[]]
    width, height = _THERMAL_PAGE if print_type == 1 else _A4_PAGE
    page_count = len(page_ops)
    # Object numbers: 1 catalog, 2 page tree, 3 font, then (page, contents) pairs.
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(page_count))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode("ascii"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for index, ops in enumerate(page_ops):
        contents = 5 + 2 * index
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {contents} 0 R >>".encode("ascii")
        )
        stream = "\n".join(ops).encode("ascii")
        objects.append(
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        )

    # A binary comment line after the header tells transfer tools the file is binary.
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    # Every xref entry must be exactly 20 bytes, hence the trailing space before \n.
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)
