"""The survey page customers reach from a mail link, rendered on the server (no JavaScript): the
question with the score they clicked chosen, a comment box and one button that POSTs; the thanks
(with the survey's next question, if any); and the pages for links that are used, expired or not
ours. Everything shown is escaped."""

from __future__ import annotations

from html import escape
from typing import Final

from plugins.feedback.texts import QUESTIONS, SCALES, locale_of, score_label, ui

CSS_PATH: Final = "/feedback/survey.css"

CSS: Final = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f5f7fa;color:#1f2933;margin:0}
main{max-width:36rem;margin:2rem auto;background:#fff;padding:1.5rem 1.75rem;border-radius:8px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.25rem;line-height:1.4;margin:0 0 1rem}
p.meta{color:#616e7c;margin:0 0 1rem}
fieldset{border:0;margin:0 0 1rem;padding:0}
legend{font-weight:600;margin-bottom:.5rem}
.scores{display:flex;flex-wrap:wrap;gap:.4rem}
.scores label{border:1px solid #9aa5b1;border-radius:6px;padding:.45rem .7rem;cursor:pointer}
.scores input{margin-right:.3rem}
label.block{display:block;font-weight:600;margin:.8rem 0 .35rem}
textarea,input[type=text]{width:100%;box-sizing:border-box;font:inherit;padding:.5rem;border:1px solid #9aa5b1;
border-radius:6px}
textarea{min-height:7rem}
button{margin-top:1rem;font:inherit;font-weight:600;background:#1f4e8c;color:#fff;border:0;border-radius:6px;
padding:.6rem 1.4rem;cursor:pointer}
.error{background:#fde8e8;color:#8a1c1c;padding:.6rem .8rem;border-radius:6px}
.note{color:#616e7c;font-size:.9rem}
ul.next{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem}
ul.next a{display:inline-block;border:1px solid #9aa5b1;border-radius:6px;padding:.45rem .7rem;color:#1f2933;
text-decoration:none}
"""


def _document(locale: str, body: str) -> str:
    lang = locale_of(locale)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex, nofollow"><meta name="referrer" content="no-referrer">'
        f'<title>{escape(ui(lang, "title_page"))}</title><link rel="stylesheet" href="{CSS_PATH}"></head>'
        f"<body><main>{body}</main></body></html>"
    )


def form_page(
    *,
    locale: str,
    action: str,
    question: str,
    chosen: int | None,
    heading_note: str | None = None,
    comment: str = "",
    error: str | None = None,
    review: bool = False,
    title: str = "",
) -> str:
    """The question with its scores (the chosen one checked), the comment box (for a review its
    title and text) and the one button. `action` is this page's own path."""
    lang = locale_of(locale)
    low, high = SCALES[question]
    scores = range(high, low - 1, -1) if review else range(low, high + 1)
    radios = "".join(
        f'<label><input type="radio" name="score" value="{s}" required{" checked" if s == chosen else ""}>'
        f"{escape(score_label(question, lang, s))}</label>"
        for s in scores
    )
    parts = [f"<h1>{escape(QUESTIONS[question][lang])}</h1>"]
    if heading_note:
        parts.append(f'<p class="meta">{escape(heading_note)}</p>')
    if error:
        parts.append(f'<p class="error" role="alert">{escape(error)}</p>')
    parts.append(f'<form method="post" action="{escape(action)}">')
    parts.append(f'<fieldset><legend>{escape(ui(lang, "score"))}</legend><div class="scores">{radios}</div></fieldset>')
    if review:
        parts.append(
            f'<label class="block" for="title">{escape(ui(lang, "title"))}</label>'
            f'<input type="text" id="title" name="title" maxlength="200" value="{escape(title)}">'
            f'<label class="block" for="comment">{escape(ui(lang, "body"))}</label>'
            f'<textarea id="comment" name="comment" maxlength="5000" required>{escape(comment)}</textarea>'
        )
    else:
        parts.append(
            f'<label class="block" for="comment">{escape(ui(lang, "comment"))}</label>'
            f'<textarea id="comment" name="comment" maxlength="2000">{escape(comment)}</textarea>'
        )
    parts.append(f'<button type="submit">{escape(ui(lang, "send"))}</button></form>')
    parts.append(f'<p class="note">{escape(ui(lang, "note"))}</p>')
    return _document(lang, "".join(parts))


def message_page(locale: str, key: str, **values: object) -> str:
    lang = locale_of(locale)
    return _document(lang, f"<h1>{escape(ui(lang, key, **values))}</h1>")


def bilingual_page(key: str) -> str:
    """For a link we cannot read (its language unknown): both languages."""
    return _document("el", "".join(f'<h1 lang="{lang}">{escape(ui(lang, key))}</h1>' for lang in ("el", "en")))


def thanks_page(
    locale: str, *, review: bool, follow_up: bool, next_question: tuple[str, list[tuple[int, str]]] | None
) -> str:
    """Thanks; a promise to call back after a low score; the survey's next question as links."""
    lang = locale_of(locale)
    parts = [f"<h1>{escape(ui(lang, 'thanks_review' if review else 'thanks'))}</h1>"]
    if follow_up:
        parts.append(f"<p>{escape(ui(lang, 'follow_up'))}</p>")
    if next_question is not None:
        question, links = next_question
        parts.append(f"<p><strong>{escape(ui(lang, 'one_more'))}</strong> {escape(QUESTIONS[question][lang])}</p>")
        items = "".join(
            f'<li><a href="{escape(href)}">{escape(score_label(question, lang, score))}</a></li>'
            for score, href in links
        )
        parts.append(f'<ul class="next">{items}</ul>')
    return _document(lang, "".join(parts))
