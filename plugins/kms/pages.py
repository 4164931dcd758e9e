"""Pages the engine serves for the knowledge base: the ops editor (`/ops/kb`: write and preview
articles in Greek and English, publish, versions) and the public article page a link points to
when the shop has no help pages of its own (`/kb/{locale}/{slug}`, published public articles only)."""

from __future__ import annotations

import html
from pathlib import Path

from litestar import MediaType, Response, get
from litestar.params import FromPath

from api.routes.ops import PAGE_HEADERS
from core.domain.errors import NotFound
from plugins.kms.articles import article_row
from plugins.kms.content import render_markdown
from plugins.kms.tables import KbTranslation

STATIC = Path(__file__).resolve().parent / "static"
OPEN = {"exclude_from_auth": True}
ASSETS = {"kb.js": "application/javascript; charset=utf-8", "kb.css": "text/css; charset=utf-8"}
_PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/ops/kb/kb.css"></head>
<body class="article-page"><main><article><h1>{title}</h1>{body}</article></main></body></html>
"""


@get("/ops/kb", opt=OPEN, include_in_schema=False, media_type=MediaType.HTML)
async def editor() -> Response[bytes]:
    """The editor page; it signs in through the dashboard's session (GET /ops/session) like /ops."""
    return Response((STATIC / "kb.html").read_bytes(), media_type=MediaType.HTML, headers=PAGE_HEADERS)


@get("/ops/kb/{asset:str}", opt=OPEN, include_in_schema=False)
async def asset(asset: FromPath[str]) -> Response[bytes]:
    if asset not in ASSETS:
        raise NotFound(f"no ops asset {asset!r}")
    return Response((STATIC / asset).read_bytes(), media_type=ASSETS[asset], headers=PAGE_HEADERS)


@get("/kb/{locale:str}/{slug:str}", opt=OPEN, include_in_schema=False, media_type=MediaType.HTML)
async def article_page(locale: FromPath[str], slug: FromPath[str]) -> Response[str]:
    """A published public article for anyone; anything else is 404, as for an unknown slug."""
    missing = NotFound(f"no published article {slug!r} in {locale!r}")
    if "_" in slug:
        raise missing
    try:
        row = await article_row(slug)
    except NotFound:
        raise missing from None
    translation = (
        await KbTranslation.select(KbTranslation.title, KbTranslation.body)
        .where((KbTranslation.article_id == row["id"]) & (KbTranslation.locale == locale))
        .first()
    )
    if row["status"] != "published" or row["visibility"] != "public" or translation is None:
        raise missing
    page = _PAGE.format(
        lang=html.escape(locale), title=html.escape(translation["title"]), body=render_markdown(translation["body"])
    )
    return Response(page, media_type=MediaType.HTML, headers=PAGE_HEADERS)


HANDLERS = (editor, asset, article_page)
