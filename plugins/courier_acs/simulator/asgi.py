"""Raw ASGI application of the ACS simulator: ACS's two endpoints plus a JSON control API.

Raw ASGI rather than a framework because the fault kinds need control a framework
hides: answering with a truncated body, or holding a request open until the client
gives up (``timeout``) — after the work is done for ``timeout_after_commit``, which
is how a client's retry-after-timeout idempotency gets tested.

Order of checks on ``ACSAutoRest``: API key (403) → calls-per-second (406) →
injected fault → credentials/alias → handler. The control API (``/_simulator/...``)
needs no key, is never rate limited and never faulted.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import Any, Final, Protocol
from urllib.parse import parse_qs

from core.testing.asgi import Receive, Scope, Send, SimulatorApp, json_body, read_body, send_response
from plugins.courier_acs.simulator import handlers
from plugins.courier_acs.simulator.params import ControlError
from plugins.courier_acs.simulator.state import ACSState, VoucherView
from plugins.courier_acs.simulator.wire import Context

_API: Final = "/acsrestservices/api/"
_STATUS_PATH: Final = re.compile(r"^/_simulator/vouchers/\s*(\d+)/status$")
_MAX_BODY: Final = 1 << 20
# ASP.NET Web API's stock bodies: ACS runs on IIS, so this is what a client would parse.
_HTTP_500: Final = {"Message": "An error has occurred."}
_HTTP_403: Final = {"Message": "Authorization has been denied for this request."}
_HTTP_406: Final = {"Message": "Too many requests. The allowed number of calls per second was exceeded."}


class SimulatorConfig(Protocol):
    """What the app reads from its ``ACSSimulator`` on every request (options may change live)."""

    api_key: str
    max_calls_per_second: int | None
    hang_seconds: float
    state: ACSState
    stopping: threading.Event

    def context(self) -> Context: ...
    def set_status_from_json(self, voucher_no: str, body: Any) -> VoucherView: ...


async def _respond(send: Send, status: int, body: bytes, content_type: str = "application/json") -> None:
    # IIS names the charset on every answer; JSON bodies are compact, Greek as UTF-8 text (json_body).
    await send_response(send, status, body, content_type=f"{content_type}; charset=utf-8")


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8-sig"))  # tolerate a BOM, as IIS does
    except (UnicodeDecodeError, ValueError):
        return None


class ACSApp(SimulatorApp):
    """The ASGI callable; stateless itself, everything lives on the simulator."""

    def __init__(self, simulator: SimulatorConfig) -> None:
        self.sim = simulator

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        body = await read_body(receive, limit=_MAX_BODY)
        if body is None:  # too large, or the client already left (then nobody reads this)
            await _respond(send, 413, json_body({"Message": "Request body too large"}))
            return
        lowered = path.rstrip("/").lower()  # IIS routes are case-insensitive
        if lowered.startswith(_API):
            await self._acs(scope, method, lowered[len(_API) :], body, receive, send)
        elif path.startswith("/_simulator/"):
            await self._control(scope, method, path, body, send)
        else:
            await _respond(send, 404, json_body({"Message": f"No HTTP resource was found for {path}"}))

    # --- ACS endpoints --------------------------------------------------------------------------

    async def _acs(self, scope: Scope, method: str, endpoint: str, body: bytes, receive: Receive, send: Send) -> None:
        headers = {key.decode("latin-1").lower(): value for key, value in scope["headers"]}
        if headers.get("acsapikey", b"").decode("utf-8", "replace").strip() != self.sim.api_key:
            await _respond(send, 403, json_body(_HTTP_403))
            return
        if endpoint not in ("acsautorest", "acsautoresthelp"):
            await _respond(send, 404, json_body({"Message": "No HTTP resource was found"}))
            return
        if not self.sim.state.admit(self.sim.max_calls_per_second):
            await _respond(send, 406, json_body(_HTTP_406))
            return
        if endpoint == "acsautoresthelp":
            if method == "GET":
                query = parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"))
                text = handlers.help_text(query.get("ACSAlias", [None])[0])
                await _respond(send, 200, text.encode("utf-8"), "text/plain")
            else:
                await _respond(send, 200, json_body(handlers.help_for(_parse(body))))
            return
        if method != "POST":
            message = f"The requested resource does not support http method '{method}'."
            await _respond(send, 405, json_body({"Message": message}))
            return
        payload = _parse(body)
        fault = self.sim.state.take_fault(handlers.alias_of(payload))
        if fault == "500":
            await _respond(send, 500, json_body(_HTTP_500))
        elif fault == "406":
            await _respond(send, 406, json_body(_HTTP_406))
        elif fault == "malformed":
            # A response cut mid-way, as a proxy dropping the connection would leave it.
            await _respond(
                send,
                200,
                b'{"ACSExecution_HasError":false,"ACSExecutionErrorMessage":"","ACSOutputResp',
            )
        elif fault == "timeout":
            await self._hang(receive, send)
        else:
            response = json_body(handlers.execute(self.sim.context(), payload))
            if fault == "timeout_after_commit":
                await self._hang(receive, send)  # the work is done; the client never hears of it
            else:
                await _respond(send, 200, response)

    async def _hang(self, receive: Receive, send: Send) -> None:
        """Hold the request until the client disconnects, the server stops or hang_seconds pass.

        Polling a threading.Event (not an asyncio one) because the simulator is stopped from
        another thread; 50 ms keeps shutdown snappy without measurable CPU cost.
        """

        async def client_left() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        waiter = asyncio.ensure_future(client_left())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.sim.hang_seconds
        try:
            while not waiter.done() and not self.sim.stopping.is_set() and loop.time() < deadline:
                await asyncio.wait({waiter}, timeout=0.05)
            client_left_first = waiter.done()
        finally:
            waiter.cancel()
        if not client_left_first:  # nobody to answer otherwise
            await _respond(send, 504, json_body({"Message": "Gateway Timeout"}))

    # --- control API ----------------------------------------------------------------------------

    async def _control(self, scope: Scope, method: str, path: str, body: bytes, send: Send) -> None:
        try:
            status, payload = self._control_call(scope, method, path, _parse(body) if body else {})
        except ControlError as error:
            status, payload = error.status, {"error": error.message}
        await _respond(send, status, json_body(payload))

    def _control_call(self, scope: Scope, method: str, path: str, body: Any) -> tuple[int, Any]:
        state = self.sim.state
        if path == "/_simulator/vouchers" and method == "GET":
            query = parse_qs(scope.get("query_string", b"").decode("utf-8", "replace"))
            reference = query.get("reference_key1", [None])[0]
            return 200, state.views(reference)
        match = _STATUS_PATH.match(path)
        if match and method == "POST":
            return 200, self.sim.set_status_from_json(match.group(1), body)
        if path == "/_simulator/faults" and method == "POST":
            if not isinstance(body, dict) or not isinstance(body.get("kind"), str):
                raise ControlError(400, 'body must be {"kind": ..., "count": n, "alias": optional}')
            count = body.get("count", 1)
            alias = body.get("alias")
            if not isinstance(count, int) or isinstance(count, bool) or not (alias is None or isinstance(alias, str)):
                raise ControlError(400, "count must be an integer and alias a string or null")
            state.inject_faults(body["kind"], count, alias)
            return 200, {"faults": state.pending_faults()}
        if path == "/_simulator/faults" and method == "GET":
            return 200, {"faults": state.pending_faults()}
        if path == "/_simulator/reset" and method == "POST":
            state.reset()
            return 200, {"reset": True}
        raise ControlError(404, f"no control endpoint {method} {path}")
