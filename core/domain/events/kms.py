"""Events of the knowledge base (plugin `kms`): articles created, saved as a new version,
scheduled, published and archived. Search reads them nowhere; webhooks and timelines do."""

from __future__ import annotations

from datetime import datetime

import msgspec

from core.domain.events.base import EventPayload, EventType, SubjectType


class _ArticleEvent(EventPayload, frozen=True, kw_only=True):
    subject = SubjectType.KB_ARTICLE
    slug: str
    version: int  # the article's content version after the change


class KbArticleCreated(_ArticleEvent, frozen=True, kw_only=True):
    """A new article, as a draft: its visibility and the locales it was written in."""

    event_type = EventType.KB_ARTICLE_CREATED
    visibility: str
    locales: list[str] = msgspec.field(default_factory=list)


class KbArticleUpdated(_ArticleEvent, frozen=True, kw_only=True):
    """The article was saved as a new version (an edit, or a restore of an older version)."""

    event_type = EventType.KB_ARTICLE_UPDATED
    visibility: str
    status: str
    locales: list[str] = msgspec.field(default_factory=list)
    restored_from: int | None = None  # the version whose content was restored


class KbArticleScheduled(_ArticleEvent, frozen=True, kw_only=True):
    """The article will be published by the worker at `publish_at`."""

    event_type = EventType.KB_ARTICLE_SCHEDULED
    publish_at: datetime


class KbArticlePublished(_ArticleEvent, frozen=True, kw_only=True):
    """Customers (public) or agents (internal) can now find and read the article."""

    event_type = EventType.KB_ARTICLE_PUBLISHED
    visibility: str
    scheduled: bool = False  # published by the worker at its scheduled time


class KbArticleArchived(_ArticleEvent, frozen=True, kw_only=True):
    """The article left the search and the storefront; ops still see it and its versions."""

    event_type = EventType.KB_ARTICLE_ARCHIVED


PAYLOADS: tuple[type[EventPayload], ...] = (
    KbArticleCreated,
    KbArticleUpdated,
    KbArticleScheduled,
    KbArticlePublished,
    KbArticleArchived,
)

__all__ = ["KbArticleArchived", "KbArticleCreated", "KbArticlePublished", "KbArticleScheduled", "KbArticleUpdated"]
