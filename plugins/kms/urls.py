"""Where customers read an article: the shop's help pages, or the engine's own `/kb` pages."""

from __future__ import annotations

import re
from urllib.parse import quote

from core.settings import SettingSpec, read

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _parse_template(raw: str) -> str:
    if not raw.startswith(("http://", "https://", "/")):
        raise ValueError("must be an absolute URL (https://shop.gr/help/{slug}) or a path starting with /")
    names = set(_PLACEHOLDER.findall(raw))
    if "slug" not in names or names - {"slug", "locale"}:
        raise ValueError("must contain {slug} and may contain {locale}, nothing else in braces")
    return raw


ARTICLE_URL: SettingSpec[str] = SettingSpec(
    name="EMPORIO_KB_ARTICLE_URL",
    type=str,
    default="http://127.0.0.1:8000/kb/{locale}/{slug}",
    doc="where customers read a knowledge-base article: a URL with {slug} and optionally {locale}",
    parse=_parse_template,
)


def article_url(slug: str, locale: str) -> str:
    """The public link of an article's translation (only public, published articles have readers)."""
    return read(ARTICLE_URL).replace("{slug}", quote(slug)).replace("{locale}", quote(locale))
