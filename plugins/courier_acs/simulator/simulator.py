"""ACS Courier (Greece) REST API simulator: a real HTTP server for tests and the offline demo.

ACS has no sandbox host, so plugins are tested against this double. It speaks ACS's wire
format on ``127.0.0.1`` (uvicorn in a background thread for tests, foreground for
``emporio simulate acs --port P``) and keeps its state in memory.

Usage::

    sim = ACSSimulator()                       # demo/demo credentials, key "demo"
    with sim.running() as base_url:            # free port; base_url = "http://127.0.0.1:PORT"
        httpx.post(sim.api_url, headers={"AcsApiKey": "demo"}, json={
            "ACSAlias": "ACS_Create_Voucher",
            "ACSInputParameters": {"Company_ID": "demo", ..., "Reference_Key1": "SHP-1"}})
        assert len(sim.vouchers_for_reference("SHP-1")) == 1
        sim.set_status(voucher_no, 3, "ΑΣ1")   # tracking now reports "absent"
        sim.inject_faults("timeout_after_commit", alias="ACS_Create_Voucher")

    await serve("127.0.0.1", 8787)             # the CLI: foreground until cancelled

Endpoints (paths are case-insensitive, like IIS):

* ``POST /ACSRestServices/api/ACSAutoRest`` — header ``AcsApiKey`` (wrong/missing → 403);
  more than ``max_calls_per_second`` calls in any 1 s window → 406 (rejected calls do not
  count, so backing off one second always works). Everything else is HTTP 200: bad
  credentials/unknown alias → ``ACSExecution_HasError: true``; business errors →
  ``HasError: false`` with the Greek text in ``ACSValueOutput[0]``'s error field.
* ``POST /ACSRestServices/api/ACSAutoRestHelp`` ``{"ACSAlias": "X"}`` → the body template
  ``{"ACSAlias", "ACSInputParameters": {every parameter: null}}``; ``GET ...?ACSAlias=X`` → text.
* Aliases: ACS_Create_Voucher, ACS_Print_Voucher, ACS_Delete_Voucher, ACS_Issue_Pickup_List,
  ACS_Get_Multipart_Vouchers, ACS_Trackingsummary, ACS_TrackingDetails,
  ACS_COD_Beneficiary_Info, ACS_Area_Find_By_Zip_Code, ACS_Price_Calculation, ACS_Stations.

Control API (JSON, no key, never rate limited or faulted):

* ``GET /_simulator/vouchers[?reference_key1=R]`` → one entry per *shipment* (main voucher;
  pieces are listed in ``parts``): ``Voucher_No`` (bare digits), ``reference_key1/2``,
  ``recipient``, ``cod_amount`` (integer cents), ``cod_amount_wire`` (as sent, e.g. 12.5),
  ``status`` {shipment_status, non_delivery_reason_code, delivery_flag, returned_flag,
  delivery_date, consignee, picked_up}, ``printed``, ``deleted``, ``pickup_list_no``,
  ``created_at``, ``pickup_date``, ``item_quantity``, ``parts``, ``Voucher_No_Return``,
  ``products``, ``checkpoints``.
* ``POST /_simulator/vouchers/{voucher}/status`` ``{"shipment_status": 1..5,
  "non_delivery_reason_code": "ΑΣ1"|null, "delivery_flag": 0|1, "returned_flag": 0|1}``
  (+ optional ``consignee``, ``checkpoint_action``, ``checkpoint_location``,
  ``checkpoint_notes``) → what tracking reports next, plus one checkpoint. 400 when the code
  does not belong to the status, 404 unknown voucher, 409 deleted voucher.
* ``POST /_simulator/faults`` ``{"kind": "timeout"|"500"|"406"|"malformed"|
  "timeout_after_commit", "count": n, "alias": optional}`` → the next n matching ACSAutoRest
  calls fail that way. ``timeout`` holds the request open until the client disconnects (or
  ``hang_seconds``, then 504); ``timeout_after_commit`` does the work first; ``malformed`` is
  a truncated 200 body; ``500``/``406`` carry ASP.NET-style ``{"Message"}`` bodies. Only
  ``timeout_after_commit`` changes state.
* ``POST /_simulator/reset`` → empty state (numbering restarts, faults and rate window cleared).

Wire details and where they come from ([V] ACS's REST manual, [I] our inference):

* [V] ``ACSOutputResponce`` (sic); voucher numbers are 10 digits sent with a leading space
  (``" 7227889174"``); ``Cod_Ammount``/``Insurance_Ammount`` (sic); dates ``YYYY-MM-DD`` in,
  ``2019-01-11T00:00:00`` out; Greek station/reason codes.
* Error-field spelling by method ([V] from the manual's sample responses): ``Error_Message``
  for create, delete, pickup list, multipart, both tracking calls, zip areas and price;
  ``Error_msg`` for ACS_COD_Beneficiary_Info; ``error_message`` for ACS_Stations. [I] for
  ACS_Print_Voucher (``Error_Message``). On success the field is ``""`` for create, print,
  pickup list and price, ``null`` elsewhere (as in the samples). Override any of it with
  ``error_keys={"ACS_Delete_Voucher": "error_message"}``.
* Print shape is disputed, hence ``print_shape``: ``"object"`` (default) answers
  ``{"ACSOutputResponce": {"ACSObjectOutput": {"Voucher_No": "a,b", "PDFData": "<base64>"}}}``;
  ``"value"`` answers ``{"ACSOutputResponce": {"ACSValueOutput": [{"ACSObjectOutput": {...},
  "Error_Message": ""}], "ACSTableOutput": {}}}`` (what third-party clients report). Print
  errors come as ``ACSValueOutput[0].Error_Message`` in both shapes (with
  ``ACSObjectOutput: null``). The PDF is one real PDF 1.4 file: one 4x6" page per label for
  thermal (Print_Type 1), three labels per A4 from ``Start_Position`` for laser (2); printing
  a main voucher prints its pieces, and the return voucher on thermal only ([V]).
* [I] Unknown vouchers everywhere answer ``"Νο Acs shipment found for your company with
  voucher no: N"`` (Greek capital Nu + Latin o, [V]) where N is the number asked for (0 if
  none). Print and delete batches are all-or-nothing. Vouchers cannot be printed after
  their pickup list ([V] manual; exact message [I]). A pickup list with nothing to close
  answers an [I] message. Before pickup, tracking reports shipment_status 5 with no reason
  code and no checkpoints; the pickup list adds ``"ΑΝΑΧΩΡΗΣΗ <destination>"`` ([V] sample)
  and scripted statuses add ``ΑΦΙΞΗ ΣΕ ΚΑΤΑΣΤΗΜΑ`` → ``ΚΑΤΑΝΟΜΗ ΣΕ COURIER`` (status 5, no
  code), ``ΠΑΡΑΔΟΣΗ`` (4), ``ΑΠΟΤΥΧΙΑ ΠΑΡΑΔΟΣΗΣ`` (1/2/3 and other codes, [I]).
  Scripting a status on a voucher not yet picked up picks it up implicitly. COD is paid
  out (ACS_COD_Beneficiary_Info) on the delivery day, all as cash [I]. Prices are an
  invented deterministic tariff. No idempotency: creating twice makes two vouchers, as ACS.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from core.testing.asgi import serve_in_thread, uvicorn_server
from plugins.courier_acs.simulator.asgi import ACSApp
from plugins.courier_acs.simulator.params import ATHENS, BusinessError, ControlError
from plugins.courier_acs.simulator.state import FAULT_KINDS, ACSState, FaultKind, VoucherView
from plugins.courier_acs.simulator.wire import DEFAULT_ERROR_KEYS, Context, PrintShape

__all__ = [
    "FAULT_KINDS",
    "ACSSimulator",
    "ControlError",
    "FaultKind",
    "PrintShape",
    "VoucherView",
    "serve",
]

logger = logging.getLogger(__name__)
API_PATH = "/ACSRestServices/api/ACSAutoRest"
HELP_PATH = "/ACSRestServices/api/ACSAutoRestHelp"


def _athens_now() -> datetime:
    return datetime.now(ATHENS)


class ACSSimulator:
    """An in-memory ACS Courier account behind a real HTTP server (see the module docstring).

    Options are plain attributes: a test may change ``max_calls_per_second`` or
    ``print_shape`` while the server runs.
    """

    def __init__(
        self,
        *,
        api_key: str = "demo",
        company_id: str = "demo",
        company_password: str = "demo",
        user_id: str = "demo",
        user_password: str = "demo",
        billing_code: str = "2ΑΘ999999",
        max_calls_per_second: int | None = 10,
        print_shape: PrintShape = "object",
        error_keys: Mapping[str, str] | None = None,
        hang_seconds: float = 30.0,
        reject_sunday_pickup: bool = False,
        clock: Callable[[], datetime] | None = None,
        account_zipcodes: Iterable[str] = (),
    ) -> None:
        self.api_key = api_key
        self.credentials = {
            "Company_ID": company_id,
            "Company_Password": company_password,
            "User_ID": user_id,
            "User_Password": user_password,
        }
        self.billing_code = billing_code
        self.max_calls_per_second = max_calls_per_second  # None or 0 disables the limit
        self.print_shape: PrintShape = print_shape
        self.error_keys = {**DEFAULT_ERROR_KEYS, **(error_keys or {})}
        self.hang_seconds = hang_seconds
        # [I] The account's premises: a reverse pickup (return) delivered anywhere else points
        # the wrong way and is refused. Empty: any destination other than the pickup point.
        self.account_zipcodes = frozenset(z.replace(" ", "") for z in account_zipcodes)
        # Off by default: tests use today's date, and a Sunday CI run must not fail.
        self.state = ACSState(
            billing_code=billing_code,
            clock=clock or _athens_now,
            reject_sunday_pickup=reject_sunday_pickup,
        )
        self.stopping = threading.Event()
        self.app = ACSApp(self)
        self.base_url: str | None = None

    # --- wiring used by the ASGI app --------------------------------------------------------

    def context(self) -> Context:
        return Context(
            state=self.state,
            billing_code=self.billing_code,
            credentials=self.credentials,
            print_shape=self.print_shape,
            error_keys=self.error_keys,
            account_zipcodes=self.account_zipcodes,
        )

    @property
    def api_url(self) -> str:
        """``{base_url}/ACSRestServices/api/ACSAutoRest`` of the running server."""
        return f"{self._require_base_url()}{API_PATH}"

    @property
    def help_url(self) -> str:
        return f"{self._require_base_url()}{HELP_PATH}"

    def _require_base_url(self) -> str:
        if self.base_url is None:
            raise RuntimeError("the ACS simulator is not running; use `with sim.running():`")
        return self.base_url

    # --- Python-side control API --------------------------------------------------------------

    @property
    def vouchers(self) -> list[VoucherView]:
        """Every shipment created (including deleted ones), oldest first."""
        return self.state.views()

    def vouchers_for_reference(self, reference_key1: str, *, include_deleted: bool = True) -> list[VoucherView]:
        """Shipments with this ``Reference_Key1``: proves "exactly one voucher per shipment"."""
        return [self.state.view(s) for s in self.state.by_reference(reference_key1, include_deleted)]

    def voucher(self, voucher_no: str) -> VoucherView:
        """The shipment owning ``voucher_no`` (main, piece or return voucher; spaces ignored)."""
        try:
            return self.state.view(self.state.find(voucher_no))
        except BusinessError as error:
            raise KeyError(voucher_no) from error

    def set_status(
        self,
        voucher_no: str,
        shipment_status: int,
        non_delivery_reason_code: str | None = None,
        delivery_flag: int | None = None,
        returned_flag: int | None = None,
        *,
        consignee: str | None = None,
        checkpoint_action: str | None = None,
        checkpoint_location: str | None = None,
        checkpoint_notes: str | None = None,
    ) -> VoucherView:
        """Script the next tracking answer (4 delivered, 1 refused, 2 address, 3 absent, 5 other).

        ``delivery_flag`` defaults to 1 for status 4, else 0; a missing reason code for
        status 1/2/3 defaults to ΑΠ3/ΛΣ3/ΑΣ1. Raises :class:`ControlError` on bad input.
        """
        shipment = self.state.set_status(
            voucher_no,
            shipment_status,
            non_delivery_reason_code,
            delivery_flag,
            returned_flag,
            consignee=consignee,
            checkpoint_action=checkpoint_action,
            checkpoint_location=checkpoint_location,
            checkpoint_notes=checkpoint_notes,
        )
        return self.state.view(shipment)

    def set_status_from_json(self, voucher_no: str, body: Any) -> VoucherView:
        """``POST /_simulator/vouchers/{voucher}/status``: type-check the JSON, then set_status."""
        if not isinstance(body, dict):
            raise ControlError(400, "body must be a JSON object")
        status = body.get("shipment_status")
        if not isinstance(status, int) or isinstance(status, bool):
            raise ControlError(400, "shipment_status must be an integer 1..5")
        texts = (
            "non_delivery_reason_code",
            "consignee",
            "checkpoint_action",
            "checkpoint_location",
        )
        for name in (*texts, "checkpoint_notes"):
            if not isinstance(body.get(name), str | None):
                raise ControlError(400, f"{name} must be a string or null")
        for name in ("delivery_flag", "returned_flag"):
            if body.get(name) not in (None, 0, 1):
                raise ControlError(400, f"{name} must be 0 or 1")
        return self.set_status(
            voucher_no,
            status,
            body.get("non_delivery_reason_code"),
            body.get("delivery_flag"),
            body.get("returned_flag"),
            consignee=body.get("consignee"),
            checkpoint_action=body.get("checkpoint_action"),
            checkpoint_location=body.get("checkpoint_location"),
            checkpoint_notes=body.get("checkpoint_notes"),
        )

    def inject_faults(self, kind: FaultKind, count: int = 1, alias: str | None = None) -> None:
        """Make the next ``count`` ACSAutoRest calls (of ``alias``, if given) fail as ``kind``."""
        self.state.inject_faults(kind, count, alias)

    def reset(self) -> None:
        """Forget every voucher, pickup list, fault and the rate window; options stay."""
        self.state.reset()

    # --- serving --------------------------------------------------------------------------------

    @contextmanager
    def running(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve in a background thread; yields the base URL (``port=0`` picks a free port)."""
        if self.base_url is not None:
            raise RuntimeError("this ACSSimulator is already running")
        try:
            # On the way out `stopping` is set first: it releases requests parked by timeout faults.
            with serve_in_thread(
                self.app,
                host=host,
                port=port,
                name="acs-simulator",
                stopping=self.stopping,
                lifespan="off",
                access_log=False,
            ) as url:
                self.base_url = url
                yield url
        finally:
            self.base_url = None

    async def serve(self, host: str = "127.0.0.1", port: int = 8787) -> None:
        """Serve in the foreground on the current event loop (the CLI's entry point).

        Runs until cancelled or interrupted; like any uvicorn server it re-raises a caught
        SIGINT/SIGTERM once shut down, so Ctrl+C ends as KeyboardInterrupt for the caller.
        """
        self.base_url = f"http://{host}:{port}"
        logger.info("ACS simulator on %s%s (key %r)", self.base_url, API_PATH, self.api_key)
        try:
            await uvicorn_server(self.app, host, port, foreground=True, lifespan="off").serve()
        finally:
            self.base_url = None


async def serve(host: str = "127.0.0.1", port: int = 8787, **options: Any) -> None:
    """``emporio simulate acs --port P``: run an :class:`ACSSimulator` (``options`` → its
    constructor) in the foreground until interrupted."""
    await ACSSimulator(**options).serve(host, port)
