"""HTML of a mail: sanitised for the agent's screen (nh3) and turned into plain text for reading and quoting
(block quotes become ``>`` lines, so the quote stripper sees HTML replies as it sees plain ones)."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

import nh3

_DROP_CONTENT = frozenset({"script", "style", "head", "title", "noscript", "template", "iframe", "object", "xml"})
_CLEAN_CONTENT = {"script", "style", "title", "noscript", "template", "iframe", "object", "embed", "xml", "svg", "math"}
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "fieldset", "figure",
        "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "li", "main", "nav", "ol", "p", "pre",
        "section", "table", "tbody", "thead", "tfoot", "tr", "ul", "caption",
    }
)  # fmt: skip
# Elements whose end tag may be left out: not counted as nesting (an unclosed <td> or <p> is not deep).
_OPTIONAL_END = frozenset(
    {
        "p", "li", "td", "th", "tr", "dt", "dd", "option", "optgroup", "thead", "tbody", "tfoot", "colgroup",
        "html", "head", "body",
    }
)  # fmt: skip
MAX_NESTING = 400  # deeper HTML is not given to the sanitiser (its cost grows with the square of the depth)
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre"})
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base", "source"})
_SAFE_STYLE = {
    "color", "background-color", "font-weight", "font-style", "font-size", "font-family", "text-align",
    "text-decoration", "vertical-align", "white-space", "direction",
}  # fmt: skip
_URL_SCHEMES = set(nh3.ALLOWED_URL_SCHEMES) | {"cid"}
_ATTRIBUTES: dict[str, set[str]] = {k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES.setdefault("*", set()).update({"style", "dir", "lang", "title", "align"})
_ATTRIBUTES.setdefault("img", set()).update({"src", "alt", "width", "height"})
_ATTRIBUTES.setdefault("td", set()).update({"colspan", "rowspan", "align", "valign"})
_ATTRIBUTES.setdefault("th", set()).update({"colspan", "rowspan", "align", "valign"})
_ATTRIBUTES.setdefault("font", set()).update({"color", "face", "size"})
_TAGS = set(nh3.ALLOWED_TAGS) | {"font", "center"}


def sanitise(html: str) -> str:
    """Safe HTML: no scripts, styles, frames, forms, event handlers, ``javascript:``, ``data:`` or relative
    URLs; ``cid:`` images kept so inline pictures can be shown; only harmless CSS properties survive."""
    try:
        return nh3.clean(
            html,
            tags=_TAGS,
            clean_content_tags=_CLEAN_CONTENT - _TAGS,
            attributes=_ATTRIBUTES,
            url_schemes=_URL_SCHEMES,
            filter_style_properties=_SAFE_STYLE,
            strip_comments=True,
            url_relative="deny",
        ).strip()
    except Exception:  # nh3 raises on nothing we know of; an unreadable body is dropped, not the mail
        return ""


class _TextBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.depth = 0
        self.skip = 0
        self.pre = 0
        self.list_depth = 0
        self.open = 0
        self.max_open = 0

    def flush(self, force: bool = False) -> None:
        text = "".join(self.current)
        self.current = []
        if not self.pre:
            text = " ".join(text.split())
        if not text and not force:
            return
        prefix = "> " * self.depth
        for line in text.split("\n") if self.pre else [text]:
            self.lines.append((prefix + line).rstrip() if prefix else line.rstrip())

    def blank(self) -> None:
        self.flush()
        if self.lines and self.lines[-1].strip("> ") != "":
            self.lines.append(("> " * self.depth).rstrip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID and tag not in _OPTIONAL_END:
            self.open += 1
            self.max_open = max(self.max_open, self.open)
        if tag == "body":
            self.skip = 0  # an unclosed <head> or <style> must not swallow the body
            return
        if tag in _DROP_CONTENT:
            if tag not in _VOID:
                self.skip += 1
            return
        if self.skip:
            return
        if tag == "br":
            self.flush(force=True)
        elif tag == "hr":
            self.flush()
            self.lines.append("> " * self.depth + "_" * 32)
        elif tag in _BLOCK:
            if tag in _PARAGRAPH:
                self.blank()
            else:
                self.flush()
            if tag == "blockquote":
                self.depth += 1
            elif tag == "pre":
                self.pre += 1
            elif tag in {"ul", "ol"}:
                self.list_depth += 1
            elif tag == "li":
                self.current.append("  " * max(self.list_depth - 1, 0) + "- ")
        elif tag in {"td", "th"} and self.current:
            self.current.append("\t" if self.pre else "  ")
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt and alt.strip():
                self.current.append(f"[{alt.strip()}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID and tag not in _OPTIONAL_END and self.open:
            self.open -= 1
        if tag in _DROP_CONTENT:
            if tag not in _VOID and self.skip:
                self.skip -= 1
            return
        if self.skip:
            return
        if tag in _BLOCK:
            if tag in _PARAGRAPH:
                self.blank()
            else:
                self.flush()
            if tag == "blockquote" and self.depth:
                self.depth -= 1
            elif tag == "pre" and self.pre:
                self.pre -= 1
            elif tag in {"ul", "ol"} and self.list_depth:
                self.list_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.current.append(data)


def _convert(html: str) -> tuple[str, int]:
    builder = _TextBuilder()
    try:
        builder.feed(html)
        builder.close()
    except Exception:  # HTMLParser is lenient; this guards against the unforeseen
        return " ".join(re.sub(r"<[^>]*>", " ", html).split()), 0
    builder.flush()
    text = "\n".join(builder.lines).replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n"), builder.max_open


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML body. Never raises."""
    return _convert(html)[0]


def read_html(html: str) -> tuple[str, str, bool]:
    """``(text, sanitised HTML, too_deep)``: HTML nested deeper than :data:`MAX_NESTING` is not sanitised
    element by element but shown as its escaped text, so a hostile mail cannot stall the reader."""
    text, depth = _convert(html)
    if depth > MAX_NESTING:
        return text, "<pre>" + escape(text) + "</pre>", True
    return text, sanitise(html), False
