"""What stands in front of the simulated Stripe API: injected faults, idempotency keys, request log.

Faults model the network and Stripe's edge, so they strike before the idempotency layer: a
retried request after an injected 500 is executed afresh. Only `timeout_after_commit` lets the
request run (and be remembered under its key) and then loses the answer.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from plugins.psp_stripe.simulator.wire import StripeAPIError

FAULT_KINDS = ("timeout", "timeout_after_commit", "slow", "500", "503", "429", "malformed")
MAX_IDEMPOTENCY_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class Fault:
    """The fault one request suffers."""

    kind: str
    delay_seconds: float | None  # None: the simulator's default delay


@dataclass(slots=True)
class _FaultRule:
    kind: str
    remaining: int
    path_contains: str | None
    method: str | None
    delay_seconds: float | None


class FaultPlan:
    """Faults waiting for the next matching API requests, first-in first-out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_FaultRule] = []

    def add(
        self,
        kind: str,
        count: int = 1,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        delay_seconds: float | None = None,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if count < 1:
            raise ValueError(f"fault count must be at least 1, got {count}")
        rule = _FaultRule(kind, count, path_contains, method.upper() if method else None, delay_seconds)
        with self._lock:
            self._rules.append(rule)

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one fault for this request, if a rule matches it."""
        with self._lock:
            for rule in self._rules:
                if rule.path_contains is not None and rule.path_contains not in path:
                    continue
                if rule.method is not None and rule.method != method:
                    continue
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._rules.remove(rule)
                return Fault(rule.kind, rule.delay_seconds)
        return None

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {
                    "kind": r.kind,
                    "count": r.remaining,
                    "path_contains": r.path_contains,
                    "method": r.method,
                    "delay_seconds": r.delay_seconds,
                }
                for r in self._rules
            ]

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first answer given under an idempotency key, replayed byte for byte."""

    status: int
    body: bytes
    request_id: str


@dataclass(slots=True)
class _KeyRecord:
    endpoint: str
    params: str
    response: StoredResponse | None = None  # None while the first request is in flight
    created: float = field(default_factory=time.time)


class IdempotencyStore:
    """Stripe's idempotency layer: one outcome per (API key, Idempotency-Key)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[tuple[str, str], _KeyRecord] = {}

    def begin(self, api_key: str, key: str, endpoint: str, params: str) -> StoredResponse | None:
        """Claim the key: the stored answer to replay, or None to go ahead (key now in flight).

        Raises Stripe's idempotency errors for a key reused on another endpoint, with other
        parameters, or while its first request is still running.
        """
        if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            raise StripeAPIError(
                400,
                "invalid_request_error",
                f"Invalid Idempotency-Key: the key must be {MAX_IDEMPOTENCY_KEY_LENGTH} "
                f"characters or fewer (got {len(key)}).",
                saved=False,
            )
        with self._lock:
            record = self._records.get((api_key, key))
            if record is None:
                self._records[(api_key, key)] = _KeyRecord(endpoint, params)
                return None
        if record.endpoint != endpoint:
            raise _idempotency_error(
                "Keys for idempotent requests can only be used for the same endpoint they were "
                f"first used for ('{record.endpoint}' vs '{endpoint}'). Try using a key other "
                f"than '{key}' if you meant to execute a different request."
            )
        if record.params != params:
            raise _idempotency_error(
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request."
            )
        if record.response is None:
            raise StripeAPIError(
                409,
                "idempotency_error",
                "There is currently another in-progress request using this Stripe API key and "
                "idempotency key. Please try again later.",
                code="idempotency_key_in_use",
                saved=False,
            )
        return record.response

    def finish(self, api_key: str, key: str, response: StoredResponse | None) -> None:
        """Remember the answer, or forget the key when Stripe would not have saved the result."""
        with self._lock:
            if response is None:
                self._records.pop((api_key, key), None)
            else:
                self._records[(api_key, key)].response = response

    def clear(self) -> None:
        with self._lock:
            self._records.clear()


def _idempotency_error(message: str) -> StripeAPIError:
    return StripeAPIError(400, "idempotency_error", message, saved=False)


@dataclass(slots=True)
class LoggedRequest:
    """One API request as the simulator saw it; `status` is None until (unless) it was answered."""

    request_id: str
    method: str
    path: str
    idempotency_key: str | None
    at: float = field(default_factory=time.time)
    status: int | None = None
    fault: str | None = None
    replayed: bool = False

    def report(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "method": self.method,
            "path": self.path,
            "idempotency_key": self.idempotency_key,
            "status": self.status,
            "fault": self.fault,
            "replayed": self.replayed,
            "at": self.at,
        }


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[LoggedRequest] = []

    def add(self, entry: LoggedRequest) -> LoggedRequest:
        with self._lock:
            self._entries.append(entry)
        return entry

    def report(self) -> list[dict[str, Any]]:
        with self._lock:
            return [e.report() for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
