"""A small async client for ACS's one REST endpoint, with ACS's errors mapped onto the courier
hook's two error classes.

Every call is ``POST {base}/ACSAutoRest`` with the ``AcsApiKey`` header and the envelope
``{"ACSAlias": ..., "ACSInputParameters": {Company_ID, Company_Password, User_ID,
User_Password, ...}}``. What comes back, and what it becomes:

* HTTP 401/403 (bad key, or this server's IP not allow-listed) → `CourierMisconfigured`
  naming EMPORIO_ACS_API_KEY.
* HTTP 404/405 (nothing of ACS's at that path) and a refused connection or an unknown host
  (nothing there at all) → `CourierMisconfigured` naming EMPORIO_ACS_API_BASE.
* HTTP 406 (over ACS's calls-per-second limit), 408, 429, 5xx, timeouts, other transport
  errors, bodies that are not a JSON object (a truncated answer) → `CourierUnavailable`.
* Other HTTP statuses → `CourierRejected` naming EMPORIO_ACS_API_BASE (a wrong base URL).
* HTTP 200 with ``ACSExecution_HasError: true`` (bad credentials, unknown alias) →
  `CourierMisconfigured` with ACS's message, naming the account settings. [I] ACS documents no
  transient use of this channel.
* HTTP 200 otherwise → an `AcsAnswer`; business errors stay in it (``AcsAnswer.error``)
  because some callers read them as answers (unprinted vouchers, nothing to close).

Credentials live only in the request body and are never logged or put in a message.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

import httpx
import msgspec
import structlog

from core.hookspecs.couriers import CourierMisconfigured, CourierRejected, CourierUnavailable
from core.settings import SettingSpec, read
from plugins.courier_acs import settings as acs
from plugins.courier_acs.settings import DEFAULT_API_BASE

log = structlog.get_logger("emporio.couriers.acs")

# The error field of ACSValueOutput[0] is spelled three ways depending on the method ([V]).
ERROR_KEYS: Final = ("Error_Message", "error_message", "Error_msg")
_ERROR_KEYS_LOWER: Final = frozenset(key.lower() for key in ERROR_KEYS)
_TRANSIENT_STATUSES: Final = frozenset({406, 408, 429})
ACCOUNT_SETTINGS: Final = (
    "EMPORIO_ACS_COMPANY_ID, EMPORIO_ACS_COMPANY_PASSWORD, EMPORIO_ACS_USER_ID, EMPORIO_ACS_USER_PASSWORD"
)
# Decimal for every JSON number with a fraction, so euro amounts convert to cents exactly.
_DECODER: Final = msgspec.json.Decoder(float_hook=Decimal)
_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")  # 12.5, not "12.5"


@dataclass(frozen=True, kw_only=True)
class AcsSettings:
    """The ACS account and options; secrets are left out of ``repr``.

    Read from EMPORIO_ACS_* by `from_env` (see the package docstring for the list).
    """

    api_key: str = field(repr=False)
    company_id: str
    company_password: str = field(repr=False)
    user_id: str
    user_password: str = field(repr=False)
    billing_code: str
    api_base: str = DEFAULT_API_BASE
    timeout_s: float = 15.0
    # [I] Below ACS's default of 10 calls/s so that network jitter does not cross it; per
    # process only (more workers can still meet a 406, which is retried like any transient).
    max_calls_per_second: int = 8
    print_type: int = 2  # 1 thermal 4x6" labels, 2 laser (three labels per A4)
    language: str | None = "GR"
    sender: str | None = None  # printed as the sender's name; defaults to the shipping location
    with_return_voucher: bool = False
    cy_content_type_id: str | None = None  # mandatory for Cyprus; the code comes from ACS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AcsSettings | None:
        """None when EMPORIO_ACS_API_KEY is unset; a ValueError naming the variable when a
        required one is missing or a value is malformed."""
        api_key = read(acs.API_KEY, env)
        if not api_key:
            return None

        def required(spec: SettingSpec[str | None]) -> str:
            value = read(spec, env)
            if not value:
                raise ValueError(f"{spec.name} is required when EMPORIO_ACS_API_KEY is set (ACS account details)")
            return value

        return cls(
            api_key=api_key,
            company_id=required(acs.COMPANY_ID),
            company_password=required(acs.COMPANY_PASSWORD),
            user_id=required(acs.USER_ID),
            user_password=required(acs.USER_PASSWORD),
            billing_code=required(acs.BILLING_CODE),
            api_base=read(acs.API_BASE, env),
            timeout_s=read(acs.TIMEOUT_S, env),
            max_calls_per_second=read(acs.MAX_CALLS_PER_SECOND, env),
            print_type=read(acs.PRINT_TYPE, env),
            language=read(acs.LANGUAGE, env),
            sender=read(acs.SENDER, env),
            with_return_voucher=read(acs.WITH_RETURN_VOUCHER, env),
            cy_content_type_id=read(acs.CY_CONTENT_TYPE_ID, env),
        )


def business_error(row: Mapping[str, Any]) -> str | None:
    """The business error text of an ``ACSValueOutput`` row under any of its three spellings."""
    for key, value in row.items():
        if str(key).lower() in _ERROR_KEYS_LOWER and isinstance(value, str) and value.strip():
            return value.strip()
    return None


@dataclass(frozen=True)
class AcsAnswer:
    """One successful execution: ``ACSOutputResponce`` (sic) and its usual parts."""

    alias: str
    output: Mapping[str, Any]

    @property
    def row(self) -> Mapping[str, Any]:
        """``ACSValueOutput[0]``, or an empty mapping when the method answers without one."""
        rows = self.output.get("ACSValueOutput")
        if isinstance(rows, list) and rows and isinstance(rows[0], dict):
            return rows[0]
        return {}

    @property
    def table(self) -> Sequence[Mapping[str, Any]]:
        """``ACSTableOutput.Table_Data`` rows (empty when absent)."""
        table = self.output.get("ACSTableOutput")
        rows = table.get("Table_Data") if isinstance(table, dict) else None
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    @property
    def error(self) -> str | None:
        """The Greek business error ACS put in ``ACSValueOutput[0]``, if any."""
        return business_error(self.row)


def _message_of(response: httpx.Response) -> str:
    """ASP.NET's ``{"Message": ...}`` error body, else a short excerpt of the text."""
    try:
        body = msgspec.json.decode(response.content)
    except msgspec.DecodeError:
        return response.text[:200].strip()
    if isinstance(body, dict) and isinstance(body.get("Message"), str):
        return str(body["Message"])
    return response.text[:200].strip()


class CallPacer:
    """At most ``per_second`` calls started in any one-second window (0: no limit).

    No lock: the check and the append run without an await between them, so waiters on one
    event loop never over-admit; they simply re-check after sleeping."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._started: deque[float] = deque()

    async def wait(self) -> None:
        if self.per_second <= 0:
            return
        while True:
            now = time.monotonic()
            while self._started and now - self._started[0] >= 1.0:
                self._started.popleft()
            if len(self._started) < self.per_second:
                self._started.append(now)
                return
            await asyncio.sleep(max(0.001, 1.0 - (now - self._started[0])))


class AcsClient:
    """Calls ACSAutoRest: `call` adds the credentials, maps HTTP and envelope errors, and
    returns the `AcsAnswer` with any business error left for the caller to read."""

    def __init__(self, settings: AcsSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.endpoint = f"{settings.api_base.rstrip('/')}/ACSAutoRest"
        self.pacer = CallPacer(settings.max_calls_per_second)
        self._transport = transport
        # One connection pool per event loop: the courier is registered once per process but
        # may be used from more than one loop (an API and a worker, tests), and a pool must
        # not cross loops.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            s = self.settings
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(s.timeout_s, connect=min(5.0, s.timeout_s)),
                headers={"AcsApiKey": s.api_key, "Content-Type": "application/json; charset=utf-8"},
                transport=self._transport,
            )
            self._clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Close the connection pool of the running loop (the others went with their loops)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def envelope(self, alias: str, params: Mapping[str, Any], *, billing: bool = False) -> dict[str, Any]:
        """The request body. ``Billing_Code`` goes only where ACS wants it (create voucher,
        price calculation): ``billing=True``."""
        s = self.settings
        inputs: dict[str, Any] = {
            "Company_ID": s.company_id,
            "Company_Password": s.company_password,
            "User_ID": s.user_id,
            "User_Password": s.user_password,
        }
        if billing:
            inputs["Billing_Code"] = s.billing_code
        inputs.update(params)
        return {"ACSAlias": alias, "ACSInputParameters": inputs}

    async def call(self, alias: str, params: Mapping[str, Any], *, billing: bool = False) -> AcsAnswer:
        """One ACSAutoRest call. Raises `CourierUnavailable` (transient: retry later) or
        `CourierRejected` (won't work as asked); business errors are in the answer."""
        body = _ENCODER.encode(self.envelope(alias, params, billing=billing))
        await self.pacer.wait()
        started = time.perf_counter()
        try:
            response = await self._http().post(self.endpoint, content=body)
        except httpx.TimeoutException as exc:
            log.warning("acs.call", alias=alias, outcome="timeout")
            raise CourierUnavailable(
                f"ACS did not answer {alias} within {self.settings.timeout_s:g} s; whether it acted is unknown"
            ) from exc
        except httpx.ConnectError as exc:
            # Refused, or no such host: nothing of ACS's is where EMPORIO_ACS_API_BASE points. ACS
            # itself does not refuse connections when it is busy (it answers 406 or 5xx).
            log.warning("acs.call", alias=alias, outcome="unreachable", error=type(exc).__name__)
            raise CourierMisconfigured(
                f"ACS is unreachable ({type(exc).__name__}) on {alias}: nothing answers at "
                f"{self.settings.api_base}; check EMPORIO_ACS_API_BASE and this server's network",
                setting="EMPORIO_ACS_API_BASE",
                unreachable=True,
            ) from exc
        except httpx.TransportError as exc:
            log.warning("acs.call", alias=alias, outcome="unreachable", error=type(exc).__name__)
            raise CourierUnavailable(f"ACS is unreachable ({type(exc).__name__}) on {alias}") from exc
        status = response.status_code
        log.debug("acs.call", alias=alias, http_status=status, ms=round((time.perf_counter() - started) * 1e3, 1))
        if status != 200:
            raise self._http_error(alias, response)
        content = response.content.removeprefix(b"\xef\xbb\xbf")  # IIS may prepend a BOM
        try:
            decoded = _DECODER.decode(content)
        except msgspec.DecodeError as exc:
            raise CourierUnavailable(
                f"ACS sent an unreadable answer to {alias} (HTTP 200, {len(content)} bytes, not JSON: "
                "truncated or garbled)"
            ) from exc
        if not isinstance(decoded, dict):
            raise CourierUnavailable(f"ACS sent an unexpected answer to {alias}: a JSON {type(decoded).__name__}")
        if decoded.get("ACSExecution_HasError") is True:
            message = str(decoded.get("ACSExecutionErrorMessage") or "no message").strip()
            raise CourierMisconfigured(
                f"ACS refused {alias}: {message} (execution error: check the EMPORIO_ACS_COMPANY_ID, "
                "EMPORIO_ACS_USER_ID and password settings)",
                setting=ACCOUNT_SETTINGS,
            )
        output = decoded.get("ACSOutputResponce", decoded.get("ACSOutputResponse"))  # sic, and in case ACS fixes it
        if not isinstance(output, dict):
            raise CourierUnavailable(f"ACS answered {alias} without an ACSOutputResponce object")
        return AcsAnswer(alias, output)

    def _http_error(self, alias: str, response: httpx.Response) -> Exception:
        status = response.status_code
        if status in (401, 403):
            return CourierMisconfigured(
                f"ACS refused the API key on {alias} (HTTP {status}): check EMPORIO_ACS_API_KEY, and ask ACS to "
                "allow-list this server's public IP address",
                setting="EMPORIO_ACS_API_KEY",
            )
        if status in (404, 405):
            return CourierMisconfigured(
                f"ACS answered HTTP {status} on {alias}: {_message_of(response)}. "
                f"Check EMPORIO_ACS_API_BASE (now {self.settings.api_base})",
                setting="EMPORIO_ACS_API_BASE",
            )
        if status == 406:
            return CourierUnavailable(
                f"ACS rate limit on {alias} (HTTP 406: over the calls-per-second limit, 10 by default); retry later"
            )
        if status in _TRANSIENT_STATUSES or status >= 500:
            return CourierUnavailable(f"ACS answered HTTP {status} on {alias}: {_message_of(response)}")
        return CourierRejected(
            f"ACS answered HTTP {status} on {alias}: {_message_of(response)}. "
            f"Check EMPORIO_ACS_API_BASE (now {self.settings.api_base})"
        )
