"""A small async Stripe API client: form encoding with Stripe's bracket notation, idempotency
keys, and Stripe's errors mapped onto the PSP hook's error classes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
import msgspec

from core.hookspecs.payments import PaymentDeclined, ProviderRejected, ProviderUnavailable

API_VERSION = "2024-06-20"


def encode_form(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """`{"metadata": {"a": 1}, "expand": ["x"]}` → `metadata[a]=1&expand[]=x` (Stripe's style)."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else key
        if value is None:
            continue
        if isinstance(value, Mapping):
            pairs.extend(encode_form(value, name))
        elif isinstance(value, list | tuple):
            for item in value:
                pairs.append((f"{name}[]", _scalar(item)))
        else:
            pairs.append((name, _scalar(value)))
    return pairs


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class StripeClient:
    def __init__(self, api_key: str, base_url: str = "https://api.stripe.com", timeout_s: float = 15.0) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
            headers={"Authorization": f"Bearer {api_key}", "Stripe-Version": API_VERSION},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self, method: str, path: str, params: Mapping[str, Any] | None = None, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key[:255]} if idempotency_key else {}
        try:
            if method == "GET":
                response = await self._http.get(path, params=urlencode(encode_form(params or {})), headers=headers)
            else:
                response = await self._http.post(
                    path,
                    content=urlencode(encode_form(params or {})),
                    headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
                )
        except httpx.TimeoutException as exc:
            raise ProviderUnavailable(f"Stripe timed out on {method} {path}") from exc
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"Stripe unreachable on {method} {path}: {exc}") from exc
        try:
            body = msgspec.json.decode(response.content)
        except msgspec.DecodeError as exc:
            raise ProviderUnavailable(
                f"Stripe sent an unreadable body (HTTP {response.status_code}) on {path}"
            ) from exc
        if not isinstance(body, dict):
            raise ProviderUnavailable(f"Stripe sent an unexpected body (HTTP {response.status_code}) on {path}")
        if response.status_code < 400:
            return body
        raise _error(response.status_code, body, path)


def _error(status: int, body: dict[str, Any], path: str) -> Exception:
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(error, dict)
    kind, code, message = error.get("type"), error.get("code"), error.get("message") or f"HTTP {status}"
    if status == 402 or kind == "card_error":
        pi = error.get("payment_intent") if isinstance(error.get("payment_intent"), dict) else {}
        # The failed charge names this try (the core records the decline under it): the
        # `charge.failed` webhook then merges with it, and a second decline is a second try.
        return PaymentDeclined(
            message,
            decline_code=error.get("decline_code") or code,
            psp_reference=error.get("charge") or (pi or {}).get("id"),
        )
    if status == 429 or status >= 500:
        return ProviderUnavailable(f"Stripe answered {status} on {path}: {message}")
    if status == 409 and kind == "idempotency_error":
        return ProviderUnavailable(f"Stripe is still processing the same request: {message}")
    return ProviderRejected(f"Stripe refused {path} ({status} {kind}/{code}): {message}")
