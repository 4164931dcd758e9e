"""Stripe's v1 wire conventions for the simulator: bracket-notation forms, ids, money text, errors.

Nothing here knows about PaymentIntents; it is the vocabulary the ledger and the HTTP layer share.
"""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

FormValue: TypeAlias = "str | list[FormValue] | dict[str, FormValue]"
Params: TypeAlias = "dict[str, FormValue]"
WireObject: TypeAlias = dict[str, Any]

DEFAULT_API_VERSION = "2024-06-20"
_ID_ALPHABET = string.ascii_letters + string.digits
# Stripe shows these currencies without a decimal part; everything else has two minor digits.
_ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
    }
    | {"xof", "xpf"}
)
_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£", "jpy": "¥"}


def new_id(prefix: str) -> str:
    """An id shaped like Stripe's (`pi_3Mtw…`): prefix, underscore, 24 random base62 characters."""
    return f"{prefix}_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def now() -> int:
    """Unix seconds, the unit of every Stripe timestamp."""
    return int(time.time())


def format_money(amount: int, currency: str) -> str:
    """Render minor units the way Stripe's error messages do, e.g. `€12.50` (integers only)."""
    currency = currency.lower()
    symbol = _SYMBOLS.get(currency)
    if currency in _ZERO_DECIMAL:
        text = str(amount)
    else:
        sign = "-" if amount < 0 else ""
        major, minor = divmod(abs(amount), 100)
        text = f"{sign}{major}.{minor:02d}"
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


class StripeAPIError(Exception):
    """An error answer in Stripe's shape: `{"error": {"type", "message", "code", "param", …}}`.

    `saved` tells the idempotency layer whether Stripe would remember this answer: Stripe saves
    results only once an endpoint began executing, so parameter validation failures are not
    replayed (a corrected retry with the same key must be able to go through).
    """

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        decline_code: str | None = None,
        extra: Mapping[str, Any] | None = None,
        saved: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.code = code
        self.param = param
        self.decline_code = decline_code
        self.extra = dict(extra or {})
        self.saved = saved

    def body(self, request_id: str) -> WireObject:
        """The JSON document Stripe sends for this error."""
        error: WireObject = {"type": self.error_type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        if self.code is not None or self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}?t={now()}"
        return {"error": error}


def invalid_request(
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    status: int = 400,
    saved: bool = False,
    extra: Mapping[str, Any] | None = None,
) -> StripeAPIError:
    """An `invalid_request_error`; by default a validation failure, which is not saved."""
    return StripeAPIError(
        status,
        "invalid_request_error",
        message,
        param=param,
        code=code,
        saved=saved,
        extra=extra,
    )


def resource_missing(kind: str, object_id: str, *, param: str = "id", status: int = 404) -> StripeAPIError:
    """Stripe's `No such payment_intent: 'pi_x'`: 404 in the path, 400 when named by a parameter."""
    return invalid_request(f"No such {kind}: '{object_id}'", param=param, code="resource_missing", status=status)


# ---------------------------------------------------------------------------------------------
# Bracket-notation form bodies
# ---------------------------------------------------------------------------------------------


def _split_key(key: str) -> list[str]:
    """`a[b][0][]` → `["a", "b", "0", ""]`; a malformed key is kept whole, as Stripe does."""
    head, bracket, rest = key.partition("[")
    if not bracket or not rest.endswith("]"):
        return [key]
    return [head, *rest[:-1].split("][")]


def decode_form(pairs: Iterable[tuple[str, str]]) -> Params:
    """Decode Stripe's form encoding (`metadata[k]=v`, `types[]=card`, `expand[0]=x`) to nesting.

    Arrays come in two spellings on the wire (stripe-python sends `expand[0]`, curl examples
    send `expand[]`); both become lists here so handlers never see the difference.
    """
    root: dict[str, Any] = {}
    arrays: set[int] = set()  # ids of dicts that stand for arrays (keyed by index)
    for key, value in pairs:
        parts = _split_key(key)
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if id(node) in arrays and part == "":
                part = str(len(node))
            if last:
                if isinstance(node.get(part), dict):
                    raise invalid_request(f"Invalid hash: {key} cannot be both a value and a hash", param=key)
                node[part] = value
                break
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise invalid_request(f"Invalid hash: {key} cannot be both a value and a hash", param=key)
            following = parts[depth + 1]
            if following == "" or following.isdigit():
                arrays.add(id(child))
            node = child
    return _freeze(root, arrays)  # type: ignore[return-value]


def _freeze(node: Any, arrays: set[int]) -> FormValue:
    if not isinstance(node, dict):
        return str(node)
    if id(node) in arrays and all(k.isdigit() for k in node):
        return [_freeze(node[k], arrays) for k in sorted(node, key=int)]
    return {k: _freeze(v, arrays) for k, v in node.items()}


def canonical_params(params: FormValue) -> str:
    """A stable text for comparing two requests' parameters (idempotency fingerprint)."""
    if isinstance(params, dict):
        return "{" + ",".join(f"{k!r}:{canonical_params(params[k])}" for k in sorted(params)) + "}"
    if isinstance(params, list):
        return "[" + ",".join(canonical_params(v) for v in params) + "]"
    return repr(params)
