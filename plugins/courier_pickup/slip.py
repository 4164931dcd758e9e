"""A dependency-free PDF 1.4 writer for store-pickup slips: one A6 page per pickup code.

Only ASCII text is written (pickup codes are ASCII by construction), with the standard
Helvetica font, so the file needs no embedded font; the cross-reference table is built from
offsets measured while writing, so it is always byte-exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

_A6: Final = (298, 420)  # points


def _escape(text: str) -> str:
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _page_ops(code: str) -> bytes:
    width, height = _A6
    lines = [
        "0.8 w",
        f"12 12 {width - 24} {height - 24} re S",
        "BT",
        f"/F1 14 Tf 28 {height - 52} Td",
        "(STORE PICKUP) Tj",
        "/F1 28 Tf 0 -56 Td",
        f"({_escape(code)}) Tj",
        "/F1 10 Tf 0 -40 Td",
        "(Keep this slip with the parcel on the pickup shelf.) Tj 0 -14 Td",
        "(Hand the parcel over only to a customer who shows this code.) Tj",
        "ET",
    ]
    return "\n".join(lines).encode("ascii")


def pickup_slip_pdf(codes: Sequence[str]) -> bytes:
    """The bytes of a valid PDF with one slip per code (at least one page)."""
    pages = [_page_ops(code) for code in codes] or [_page_ops("")]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode("ascii"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for index, stream in enumerate(pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {_A6[0]} {_A6[1]}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * index} 0 R >>".encode("ascii")
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")  # the binary comment marks the file as binary
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)  # 20-byte entries
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)
