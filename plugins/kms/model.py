"""What the knowledge base's API reads and writes (service.md §2): articles with a translation per
locale, their versions, searches with their `search_id`, and "did this help?" votes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from plugins.kms.content import MAX_SLUG_CHARS, SLUG_PATTERN

Visibility = Literal["public", "internal"]
Status = Literal["draft", "published", "archived"]
Audience = Literal["customer", "agent", "ops"]  # who reads: customers, agents (also internal), ops (drafts too)

LOCALE_PATTERN = r"^[a-z]{2}$"
Locale = Annotated[str, msgspec.Meta(pattern=LOCALE_PATTERN)]
Slug = Annotated[str, msgspec.Meta(pattern=SLUG_PATTERN, max_length=MAX_SLUG_CHARS)]
Category = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,59}$")]
MAX_TITLE_CHARS = 300
MAX_BODY_CHARS = 100_000


class TranslationIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(max_length=MAX_TITLE_CHARS)]
    body: Annotated[str, msgspec.Meta(max_length=MAX_BODY_CHARS)] = ""  # Markdown


class ArticleIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new article (POST) or its next version (PUT). Without `slug`, a new article's slug comes from
    its Greek title (else the first other), transliterated; a PUT without one keeps the slug. `version`
    on a PUT is the version the editor started from: when someone saved since, the PUT is refused."""

    translations: dict[Locale, TranslationIn]
    slug: Slug | None = None
    category: Category | None = None
    visibility: Visibility = "public"
    version: int | None = None


class PublishIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """`at` in the future schedules the publication (the worker publishes it then); absent or past: now."""

    at: datetime | None = None


class RestoreIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[int, msgspec.Meta(ge=1)]


class FeedbackIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    helpful: bool
    search_id: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class PreviewIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    body: Annotated[str, msgspec.Meta(max_length=MAX_BODY_CHARS)]


class TranslationOut(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    body: str  # Markdown, as written
    html: str  # rendered and sanitised
    url: str | None = None  # where customers read it (public articles)


class ArticleOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    slug: str
    category: str | None
    visibility: Visibility
    status: Status
    version: int
    translations: dict[str, TranslationOut]
    publish_at: datetime | None = None  # scheduled publication (a draft the worker will publish)
    published_at: datetime | None = None
    archived_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class ArticleSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    slug: str
    category: str | None
    visibility: Visibility
    status: Status
    version: int
    titles: dict[str, str]
    publish_at: datetime | None = None
    published_at: datetime | None = None
    updated_at: datetime


class VersionOut(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    slug: str
    category: str | None
    visibility: Visibility
    titles: dict[str, str]
    restored_from: int | None
    created_by: str
    created_at: datetime


class VersionList(msgspec.Struct, frozen=True, kw_only=True):
    article_id: str
    current: int
    versions: list[VersionOut]  # newest first


class VersionDetail(msgspec.Struct, frozen=True, kw_only=True):
    article_id: str
    version: int
    slug: str
    category: str | None
    visibility: Visibility
    translations: dict[str, dict[str, str]]  # locale → {title, body}
    restored_from: int | None
    created_by: str
    created_at: datetime


class DiffOut(msgspec.Struct, frozen=True, kw_only=True):
    article_id: str
    from_version: int = msgspec.field(name="from")
    to_version: int = msgspec.field(name="to")
    diff: str  # unified diff; "" when the versions hold the same content


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    slug: str
    title: str
    snippet: str  # HTML: the matched words in <mark>, the rest escaped
    score: float
    locale: str
    url: str | None = None


class SearchOut(msgspec.Struct, frozen=True, kw_only=True):
    search_id: str | None  # None only when the query had no word to search for
    results: list[SearchResult]


class FeedbackOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    article_id: str
    helpful: bool
    search_id: str | None
    at: datetime


class LinkOut(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    slug: str
    title: str
    url: str
    locale: str


class ContentGap(msgspec.Struct, frozen=True, kw_only=True):
    query: str  # the most recent wording of the query
    normalized: str  # its words folded: how searches are grouped
    searches: int
    customers: int
    last_searched_at: datetime


class ContentGaps(msgspec.Struct, frozen=True, kw_only=True):
    from_: datetime = msgspec.field(name="from")
    to: datetime
    searches: int  # customer searches in the period
    no_result: int  # of which found nothing
    gaps: list[ContentGap]  # most searched first
