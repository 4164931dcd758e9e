"""An article's versions: every save is one (create, edit, restore). List them, read one, compare
two as a unified diff of their text, and restore one — which saves its content as a new version,
so history only ever grows."""

from __future__ import annotations

from typing import Any

import msgspec

from core.domain.errors import InvalidInput, NotFound
from core.domain.time import as_utc
from plugins.kms.articles import article_row, update_article
from plugins.kms.content import unified_diff, version_document
from plugins.kms.model import ArticleIn, ArticleOut, DiffOut, TranslationIn, VersionDetail, VersionList, VersionOut
from plugins.kms.tables import KbVersion


def _translations(row: dict[str, Any]) -> dict[str, dict[str, str]]:
    stored = row["translations"]
    decoded: dict[str, dict[str, str]] = msgspec.json.decode(stored) if isinstance(stored, str | bytes) else stored
    return decoded


async def list_versions(key: str) -> VersionList:
    article = await article_row(key)
    rows = (
        await KbVersion.select()
        .where(KbVersion.article_id == article["id"])
        .order_by(KbVersion.version, ascending=False)
    )
    return VersionList(
        article_id=article["id"],
        current=article["version"],
        versions=[
            VersionOut(
                version=r["version"],
                slug=r["slug"],
                category=r["category"],
                visibility=r["visibility"],
                titles={locale: t["title"] for locale, t in sorted(_translations(r).items())},
                restored_from=r["restored_from"],
                created_by=r["created_by"],
                created_at=as_utc(r["created_at"]),  # type: ignore[arg-type]
            )
            for r in rows
        ],
    )


async def _version_row(article_id: str, version: int) -> dict[str, Any]:
    row = await KbVersion.select().where((KbVersion.article_id == article_id) & (KbVersion.version == version)).first()
    if row is None:
        raise NotFound(f"article {article_id} has no version {version}; see GET /v1/kb/articles/{article_id}/versions")
    found: dict[str, Any] = row
    return found


async def get_version(key: str, version: int) -> VersionDetail:
    article = await article_row(key)
    r = await _version_row(article["id"], version)
    return VersionDetail(
        article_id=article["id"],
        version=r["version"],
        slug=r["slug"],
        category=r["category"],
        visibility=r["visibility"],
        translations=_translations(r),
        restored_from=r["restored_from"],
        created_by=r["created_by"],
        created_at=as_utc(r["created_at"]),  # type: ignore[arg-type]
    )


def _document(row: dict[str, Any]) -> str:
    return version_document(row["slug"], row["category"], row["visibility"], _translations(row))


async def diff_versions(key: str, before: int, after: int) -> DiffOut:
    """What changed from version `before` to version `after` (either order), as a unified diff."""
    if before < 1 or after < 1:
        raise InvalidInput("from and to are version numbers (1, 2, …)")
    article = await article_row(key)
    a, b = await _version_row(article["id"], before), await _version_row(article["id"], after)
    diff = unified_diff(_document(a), _document(b), from_label=f"version {before}", to_label=f"version {after}")
    return DiffOut(article_id=article["id"], from_version=before, to_version=after, diff=diff)


async def restore_version(key: str, version: int, *, actor: str) -> ArticleOut:
    """The content of `version` saved as the article's next version (its status is kept; a published
    article is re-indexed with it). Call inside a unit of work."""
    article = await article_row(key)
    old = await _version_row(article["id"], version)
    data = ArticleIn(
        slug=old["slug"],
        category=old["category"],
        visibility=old["visibility"],
        translations={
            locale: TranslationIn(title=t["title"], body=t["body"]) for locale, t in _translations(old).items()
        },
    )
    return await update_article(article["id"], data, actor=actor, restored_from=version)
