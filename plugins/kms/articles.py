"""Articles: one per subject, a translation per locale, `draft → published → archived`, `public`
(customers) or `internal` (agents only), an optional scheduled publication, and a version for every
save. Only published translations are in the search index; every change that alters what is
published re-indexes the article in the same unit of work."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from core.db.database import utcnow
from core.db.pagination import Page, check_limit, decode_cursor, page_of
from core.domain.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from core.domain.events.kms import (
    KbArticleArchived,
    KbArticleCreated,
    KbArticlePublished,
    KbArticleScheduled,
    KbArticleUpdated,
)
from core.domain.ids import new_id
from core.domain.time import as_utc
from core.jobs import outbox
from plugins.kms import indexing
from plugins.kms.content import numbered_slug, render_markdown, slugify
from plugins.kms.model import ArticleIn, ArticleOut, ArticleSummary, Audience, TranslationIn, TranslationOut
from plugins.kms.search import IndexDoc
from plugins.kms.tables import KbArticle, KbTranslation, KbVersion
from plugins.kms.urls import article_url

Translations = dict[str, dict[str, str]]  # locale → {title, body}
_CONTROL = frozenset(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
SLUG_SOURCE_LOCALES = ("el", "en")  # a new article's slug comes from its Greek title, else its English one


def visible_to(audience: Audience, status: str, visibility: str) -> bool:
    """Customers read published public articles; agents also internal ones; ops everything."""
    if audience == "ops":
        return True
    return status == "published" and (audience == "agent" or visibility == "public")


def not_found(key: str) -> NotFound:
    # The same answer for an article that does not exist and one the caller may not read.
    return NotFound(f"no knowledge-base article {key!r}; search with GET /v1/kb/search or list GET /v1/kb/articles")


def clean_translations(given: Mapping[str, TranslationIn]) -> Translations:
    """Titles trimmed, bodies kept as written; refuses no translation, an empty title or control
    characters (NUL…), naming the field."""
    if not given:
        raise InvalidInput(
            'an article needs at least one translation, e.g. {"el": {"title": …, "body": …}}',
            errors=[{"field": "translations", "message": "empty"}],
        )
    out: Translations = {}
    for locale in sorted(given):
        title, body = " ".join(given[locale].title.split()), given[locale].body.replace("\r\n", "\n")
        for field, value in (("title", title), ("body", body)):
            if any(c in _CONTROL for c in value):
                raise InvalidInput(
                    f"translations.{locale}.{field} contains a control character (such as NUL); remove it",
                    errors=[{"field": f"translations.{locale}.{field}", "message": "control character"}],
                )
        if not title:
            raise InvalidInput(
                f"translations.{locale}.title is empty; every translation needs a title",
                errors=[{"field": f"translations.{locale}.title", "message": "empty"}],
            )
        out[locale] = {"title": title, "body": body}
    return out


async def article_row(key: str, *, lock: bool = False) -> dict[str, Any]:
    """The article by id or by slug (ids have an underscore, slugs never do)."""
    column = "id" if "_" in key else "slug"
    rows = await KbArticle.raw(
        f"SELECT * FROM kms_articles WHERE {column} = {{}}" + (indexing.for_update() if lock else ""), key
    )
    if not rows:
        raise not_found(key)
    row: dict[str, Any] = rows[0]
    return row


async def _translations(article_ids: list[str]) -> dict[str, Translations]:
    found: dict[str, Translations] = {article_id: {} for article_id in article_ids}
    if article_ids:
        for t in await KbTranslation.select().where(KbTranslation.article_id.is_in(article_ids)):
            found[t["article_id"]][t["locale"]] = {"title": t["title"], "body": t["body"]}
    return found


def _out(row: Mapping[str, Any], translations: Translations) -> ArticleOut:
    readable = row["status"] == "published" and row["visibility"] == "public"
    return ArticleOut(
        id=row["id"],
        slug=row["slug"],
        category=row["category"],
        visibility=row["visibility"],
        status=row["status"],
        version=row["version"],
        translations={
            locale: TranslationOut(
                title=t["title"],
                body=t["body"],
                html=render_markdown(t["body"]),
                url=article_url(row["slug"], locale) if readable else None,
            )
            for locale, t in sorted(translations.items())
        },
        publish_at=as_utc(row["publish_at"]),
        published_at=as_utc(row["published_at"]),
        archived_at=as_utc(row["archived_at"]),
        created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
        updated_at=as_utc(row["updated_at"]),  # type: ignore[arg-type]
    )


async def get_article(key: str, audience: Audience) -> ArticleOut:
    """An article by id or slug, if the audience may read it (else 404, as for an unknown one)."""
    row = await article_row(key)
    if not visible_to(audience, row["status"], row["visibility"]):
        raise not_found(key)
    return _out(row, (await _translations([row["id"]]))[row["id"]])


async def list_articles(
    audience: Audience,
    *,
    status: str | None = None,
    visibility: str | None = None,
    category: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[ArticleSummary]:
    """Newest first. Customers get published public articles whatever they ask, agents published ones."""
    check_limit(limit)
    query = KbArticle.select()
    if audience != "ops":
        if status not in (None, "published"):
            raise InvalidInput("only published articles are listed for this key; leave out status")
        status = "published"
        if audience == "customer":
            if visibility not in (None, "public"):
                raise InvalidInput("only public articles are listed for this key; leave out visibility")
            visibility = "public"
    for column, value in ((KbArticle.status, status), (KbArticle.visibility, visibility)):
        if value is not None:
            query = query.where(column == value)
    if category is not None:
        query = query.where(KbArticle.category == category)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(KbArticle.id < after)
    rows = await query.order_by(KbArticle.id, ascending=False).limit(limit + 1)
    titles = await _translations([r["id"] for r in rows[:limit]])
    items = [
        ArticleSummary(
            id=r["id"],
            slug=r["slug"],
            category=r["category"],
            visibility=r["visibility"],
            status=r["status"],
            version=r["version"],
            titles={locale: t["title"] for locale, t in sorted(titles[r["id"]].items())},
            publish_at=as_utc(r["publish_at"]),
            published_at=as_utc(r["published_at"]),
            updated_at=as_utc(r["updated_at"]),  # type: ignore[arg-type]
        )
        for r in rows[:limit]
    ]
    return page_of(rows, limit, "id", items)


async def _free_slug(base: str, article_id: str | None = None) -> str:
    """`base`, or `base-2`, `base-3`… whichever no other article has."""
    rows = await KbArticle.raw("SELECT id, slug FROM kms_articles WHERE slug = {} OR slug LIKE {}", base, base + "-%")
    taken = {r["slug"] for r in rows if r["id"] != article_id}
    n = 1
    while numbered_slug(base, n) in taken:
        n += 1
    return numbered_slug(base, n)


async def _check_slug(slug: str, article_id: str | None) -> None:
    other = await KbArticle.select(KbArticle.id).where(KbArticle.slug == slug).first()
    if other is not None and other["id"] != article_id:
        raise Conflict(
            f"slug {slug!r} belongs to article {other['id']}; choose another "
            "(or leave slug out for one made from the title)",
            errors=[{"field": "slug", "message": "taken"}],
        )


async def _save_content(
    article_id: str, version: int, slug: str, data: ArticleIn, translations: Translations, actor: str,
    restored_from: int | None = None,
) -> None:  # fmt: skip
    """The translations as they are now, and the version that records them."""
    await KbTranslation.delete().where(KbTranslation.article_id == article_id)
    await KbTranslation.insert(
        *[
            KbTranslation(
                id=f"{article_id}:{locale}", article_id=article_id, locale=locale, title=t["title"], body=t["body"]
            )
            for locale, t in translations.items()
        ]
    )
    await KbVersion.insert(
        KbVersion(
            id=new_id("kbv"),
            article_id=article_id,
            version=version,
            slug=slug,
            category=data.category,
            visibility=data.visibility,
            translations=msgspec.json.encode(translations).decode(),
            restored_from=restored_from,
            created_by=actor,
            created_at=utcnow(),
        )
    )


def _index_docs(article_id: str, visibility: str, translations: Translations) -> list[IndexDoc]:
    return [
        IndexDoc(article_id=article_id, locale=locale, title=t["title"], body=t["body"], visibility=visibility)  # type: ignore[arg-type]
        for locale, t in translations.items()
    ]


async def create_article(data: ArticleIn, *, actor: str) -> ArticleOut:
    """A new draft, version 1. Call inside a unit of work."""
    translations = clean_translations(data.translations)
    if data.slug is not None:
        await _check_slug(data.slug, None)
        slug = data.slug
    else:
        source = next((translations[loc] for loc in SLUG_SOURCE_LOCALES if loc in translations), None)
        slug = await _free_slug(slugify((source or next(iter(translations.values())))["title"]) or "article")
    article_id, now = new_id("kba"), utcnow()
    await KbArticle.insert(
        KbArticle(
            id=article_id, slug=slug, category=data.category, visibility=data.visibility, status="draft", version=1,
            created_by=actor, updated_by=actor, created_at=now, updated_at=now,
        )
    )  # fmt: skip
    await _save_content(article_id, 1, slug, data, translations, actor)
    await outbox.record(
        KbArticleCreated(slug=slug, version=1, visibility=data.visibility, locales=sorted(translations)),
        subject_id=article_id,
    )
    return await get_article(article_id, "ops")


async def update_article(key: str, data: ArticleIn, *, actor: str, restored_from: int | None = None) -> ArticleOut:
    """The article's next version; a published article's search entries follow at once."""
    row = await article_row(key, lock=True)
    article_id = row["id"]
    if data.version is not None and data.version != row["version"]:
        raise Conflict(
            f"article {article_id} is at version {row['version']}, saved since you opened version {data.version}; "
            "reload it, reapply your change and save again",
            errors=[{"field": "version", "message": f"current is {row['version']}"}],
        )
    translations = clean_translations(data.translations)
    slug = data.slug or row["slug"]
    if slug != row["slug"]:
        await _check_slug(slug, article_id)
    version = row["version"] + 1
    await KbArticle.update(
        {
            KbArticle.slug: slug,
            KbArticle.category: data.category,
            KbArticle.visibility: data.visibility,
            KbArticle.version: version,
            KbArticle.updated_by: actor,
            KbArticle.updated_at: utcnow(),
        }
    ).where(KbArticle.id == article_id)
    await _save_content(article_id, version, slug, data, translations, actor, restored_from)
    if row["status"] == "published":
        await indexing.replace(article_id, _index_docs(article_id, data.visibility, translations))
    await outbox.record(
        KbArticleUpdated(
            slug=slug, version=version, visibility=data.visibility, status=row["status"],
            locales=sorted(translations), restored_from=restored_from,
        ),
        subject_id=article_id,
    )  # fmt: skip
    return await get_article(article_id, "ops")


async def publish_article(key: str, *, at: datetime | None = None, actor: str, scheduled: bool = False) -> ArticleOut:
    """Publish now (indexed at once), or schedule it when `at` is in the future."""
    row = await article_row(key, lock=True)
    article_id, now = row["id"], utcnow()
    if row["status"] == "published":
        raise IllegalTransition(f"article {article_id} is already published; archive it first to take it down")
    if at is not None and at.tzinfo is None:
        raise InvalidInput("at needs a UTC offset (…Z or …+00:00)", errors=[{"field": "at"}])
    if at is not None and at > now:
        await KbArticle.update(
            {KbArticle.publish_at: at, KbArticle.updated_by: actor, KbArticle.updated_at: now}
        ).where(KbArticle.id == article_id)
        await outbox.record(
            KbArticleScheduled(slug=row["slug"], version=row["version"], publish_at=at), subject_id=article_id
        )
        return await get_article(article_id, "ops")
    await KbArticle.update(
        {
            KbArticle.status: "published",
            KbArticle.publish_at: None,
            KbArticle.published_at: now,
            KbArticle.archived_at: None,
            KbArticle.updated_by: actor,
            KbArticle.updated_at: now,
        }
    ).where(KbArticle.id == article_id)
    translations = (await _translations([article_id]))[article_id]
    await indexing.replace(article_id, _index_docs(article_id, row["visibility"], translations))
    await outbox.record(
        KbArticlePublished(slug=row["slug"], version=row["version"], visibility=row["visibility"], scheduled=scheduled),
        subject_id=article_id,
    )
    return await get_article(article_id, "ops")


async def archive_article(key: str, *, actor: str) -> ArticleOut:
    """Out of the search and the storefront (a scheduled publication is cancelled); ops keep it."""
    row = await article_row(key, lock=True)
    article_id, now = row["id"], utcnow()
    if row["status"] == "archived":
        raise IllegalTransition(f"article {article_id} is already archived; publish it to bring it back")
    await KbArticle.update(
        {
            KbArticle.status: "archived",
            KbArticle.publish_at: None,
            KbArticle.archived_at: now,
            KbArticle.updated_by: actor,
            KbArticle.updated_at: now,
        }
    ).where(KbArticle.id == article_id)
    if row["status"] == "published":
        await indexing.replace(article_id, [])
    await outbox.record(KbArticleArchived(slug=row["slug"], version=row["version"]), subject_id=article_id)
    return await get_article(article_id, "ops")


async def due_for_publication(now: datetime) -> list[str]:
    """Articles whose scheduled time has come, oldest schedule first."""
    rows = (
        await KbArticle.select(KbArticle.id)
        .where(KbArticle.publish_at.is_not_null() & (KbArticle.publish_at <= now) & (KbArticle.status != "published"))
        .order_by(KbArticle.publish_at)
    )
    return [r["id"] for r in rows]


async def publish_if_due(article_id: str) -> bool:
    """The worker's publication of one scheduled article; False when it is no longer due (published,
    archived or rescheduled meanwhile). Call inside a unit of work."""
    row = await article_row(article_id, lock=True)
    due = as_utc(row["publish_at"])
    if due is None or due > utcnow() or row["status"] == "published":
        return False
    await publish_article(article_id, actor="scheduler", scheduled=True)
    return True
