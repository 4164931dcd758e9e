"""Signed, expiring survey links: `{EMPORIO_PUBLIC_URL}/s/{token}?score=N`.

A token names one survey and one of its items (a question, `csat`, or a product to review,
`review:<sku>`), signed with itsdangerous (HMAC-SHA1 under a key derived from the secret and a salt
of our own) and stamped with the time it was made. The link is single-use because an item is
answered once (a unique index); it expires by its stamp (`MAX_AGE` at the latest) and by the
survey's own `expires_at` (the policy's `link_valid_days`). The score in the query string only
preselects the answer on the page: the page lets the customer change it before sending.
"""

from __future__ import annotations

from typing import Final

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from plugins.feedback import clock
from plugins.feedback.settings import link_secret, public_url

SALT: Final = "emporio.feedback.survey-link"
MAX_AGE_S: Final = 90 * 24 * 3600  # the policy's link_valid_days is at most 90
MAX_TOKEN: Final = 400


class ClockSigner(TimestampSigner):
    """Stamps and checks with the plugin's clock, so expiry follows a pinned clock."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


class LinkError(Exception):
    """A token that does not hold: `expired` when it was genuine but too old."""

    def __init__(self, message: str, *, expired: bool = False, survey_id: str | None = None) -> None:
        super().__init__(message)
        self.expired = expired
        self.survey_id = survey_id


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(link_secret(), salt=SALT, signer=ClockSigner)


def token_for(survey_id: str, item: str) -> str:
    return _serializer().dumps([survey_id, item])


def link_for(survey_id: str, item: str, score: int | None = None) -> str:
    url = f"{public_url()}/s/{token_for(survey_id, item)}"
    return url if score is None else f"{url}?score={score}"


def read_token(token: str) -> tuple[str, str]:
    """(survey id, item) of a genuine, unexpired token; LinkError otherwise."""
    if not token or len(token) > MAX_TOKEN:
        raise LinkError("this link is not one of ours")
    serializer = _serializer()
    try:
        payload = serializer.loads(token, max_age=MAX_AGE_S)
    except SignatureExpired as exc:
        survey_id = _survey_of(exc.payload, serializer)
        raise LinkError("this link has expired", expired=True, survey_id=survey_id) from None
    except BadSignature:
        raise LinkError("this link is not one of ours (changed or cut short)") from None
    if not (isinstance(payload, list) and len(payload) == 2 and all(isinstance(p, str) for p in payload)):
        raise LinkError("this link is not one of ours")
    return payload[0], payload[1]


def _survey_of(payload: object, serializer: URLSafeTimedSerializer) -> str | None:
    """The survey an expired (but genuinely signed) token named, to answer in its language."""
    try:
        loaded = serializer.load_payload(payload) if isinstance(payload, bytes) else payload
    except BadSignature:
        return None
    if isinstance(loaded, list) and loaded and isinstance(loaded[0], str):
        return loaded[0]
    return None
