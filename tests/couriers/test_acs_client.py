"""ACS on the wire: the envelope, field mapping, response quirks and error mapping, checked
against the ACS simulator (and a few hand-made answers the simulator never gives)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import structlog

from core.hookspecs.couriers import Address, CourierMisconfigured, CourierRejected, CourierUnavailable, Parcel
from plugins.courier_acs import AcsClient, AcsCourier
from plugins.courier_acs.simulator.simulator import ACSSimulator, FaultKind
from plugins.courier_acs.simulator.wire import DEFAULT_ERROR_KEYS
from tests.couriers.support import RecordingTransport, acs_settings, athens_today, voucher_request

pytestmark = pytest.mark.timeout(30)

MakeCourier = Callable[..., AcsCourier]


def envelopes(transport: RecordingTransport) -> list[dict[str, Any]]:
    return [json.loads(request.content.decode("utf-8")) for request in transport.requests]


def sent_params(sim: ACSSimulator, voucher: str) -> dict[str, Any]:
    """ACSInputParameters of a created voucher as the simulator received them."""
    return dict(sim.state.find(voucher).params)


# --- the envelope -----------------------------------------------------------------------------


async def test_every_call_carries_key_and_credentials_and_billing_only_on_create(
    acs: ACSSimulator, make_acs_courier: MakeCourier
) -> None:
    transport = RecordingTransport()
    courier = make_acs_courier(acs, transport=transport)
    voucher = await courier.create_voucher(
        voucher_request(parcels=[Parcel(weight_g=500, length_mm=0, width_mm=0, height_mm=0)] * 2)
    )
    await courier.label_pdf([voucher.tracking_number])
    await courier.track(voucher.tracking_number)
    await courier.close_dispatch("athens-wh", athens_today())
    await courier.cod_report(athens_today())
    await courier.cancel_voucher("1234567890")
    sent = envelopes(transport)
    assert [e["ACSAlias"] for e in sent] == [
        "ACS_Create_Voucher",
        "ACS_Get_Multipart_Vouchers",
        "ACS_Print_Voucher",
        "ACS_Trackingsummary",
        "ACS_TrackingDetails",
        "ACS_Issue_Pickup_List",
        "ACS_COD_Beneficiary_Info",
        "ACS_Delete_Voucher",
    ]
    for request, envelope in zip(transport.requests, sent, strict=True):
        assert request.method == "POST"
        assert request.url.path == "/ACSRestServices/api/ACSAutoRest"
        assert request.headers["AcsApiKey"] == "demo"
        assert request.headers["Content-Type"].startswith("application/json")
        params = envelope["ACSInputParameters"]
        assert {k: params[k] for k in ("Company_ID", "Company_Password", "User_ID", "User_Password")} == dict.fromkeys(
            ("Company_ID", "Company_Password", "User_ID", "User_Password"), "demo"
        )
        assert ("Billing_Code" in params) is (envelope["ACSAlias"] == "ACS_Create_Voucher")
    # Greek travels as UTF-8 text, not \u escapes.
    assert "2ΑΘ999999".encode() in transport.requests[0].content
    pickup_list = sent[5]["ACSInputParameters"]
    assert (pickup_list["Language"], pickup_list["Pickup_Date"], pickup_list["MyData"]) == (
        "GR",
        athens_today().isoformat(),
        None,
    )
    await transport.aclose()


async def test_create_voucher_maps_the_request(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    courier = make_acs_courier(acs, sender="Emporio Shop")
    request = voucher_request(
        "shp_map",
        order_id="ord_map",
        notes="Κουδούνι 3ος όροφος",
        parcels=[
            Parcel(weight_g=700, length_mm=301, width_mm=200, height_mm=100),
            Parcel(weight_g=540, length_mm=250, width_mm=260, height_mm=90),
        ],
    )
    voucher = await courier.create_voucher(request)
    params = sent_params(acs, voucher.tracking_number)
    assert params["Pickup_Date"] == athens_today().isoformat()
    assert params["Sender"] == "Emporio Shop"
    assert params["Recipient_Name"] == "Μαρία Παπαδοπούλου"
    assert (params["Recipient_Address"], params["Recipient_Address_Number"]) == ("Π. Ράλλη", "45")
    assert params["Recipient_Zipcode"] == "17778"
    assert params["Recipient_Region"] == "Ταύρος"
    assert (params["Recipient_Phone"], params["Recipient_Cell_Phone"]) == (None, "+30 699 999 9999")
    assert params["Recipient_Country"] == "GR"
    assert params["Recipient_Email"] == "maria@example.com"
    assert params["Item_Quantity"] == 2
    assert params["Weight"] == 1.24
    assert (params["Dimension_X_In_Cm"], params["Dimension_Y_in_Cm"], params["Dimension_Z_In_Cm"]) == (31, 26, 10)
    assert params["Charge_Type"] == 2
    assert (params["Reference_Key1"], params["Reference_Key2"]) == ("shp_map", "ord_map")
    assert params["Delivery_Notes"] == "Κουδούνι 3ος όροφος"
    assert params["Cod_Ammount"] is None and params["Acs_Delivery_Products"] is None
    assert params["With_Return_Voucher"] is None
    assert params["Language"] == "GR"
    assert voucher.tracking_url == f"https://www.acscourier.net/el/track-and-trace/?p={voucher.tracking_number}"


async def test_landline_goes_to_recipient_phone(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    courier = make_acs_courier(acs)
    recipient = Address(
        name="Νίκος", line1="Λεωφ. Κηφισίας", city="Αθήνα", postcode="10431", country="gr", phone="2101234567"
    )
    voucher = await courier.create_voucher(voucher_request(recipient=recipient))
    params = sent_params(acs, voucher.tracking_number)
    assert (params["Recipient_Phone"], params["Recipient_Cell_Phone"]) == ("2101234567", None)
    assert (params["Recipient_Address"], params["Recipient_Address_Number"]) == ("Λεωφ. Κηφισίας", None)
    assert params["Recipient_Country"] == "GR"


@pytest.mark.parametrize(
    ("cents", "wire"),
    [(1250, "12.5"), (1999, "19.99"), (5, "0.05"), (100000, "1000"), (1000, "10"), (123456789, "1234567.89")],
)
async def test_cod_is_sent_in_euros(acs: ACSSimulator, make_acs_courier: MakeCourier, cents: int, wire: str) -> None:
    transport = RecordingTransport()
    courier = make_acs_courier(acs, transport=transport)
    voucher = await courier.create_voucher(voucher_request(cod_amount=cents))
    assert f'"Cod_Ammount":{wire}'.encode() in transport.requests[0].content  # a JSON number
    view = acs.voucher(voucher.tracking_number)
    assert view["cod_amount"] == cents
    assert view["products"] == ["COD"]
    assert sent_params(acs, voucher.tracking_number)["Cod_Payment_Way"] == 0
    await transport.aclose()


@pytest.mark.parametrize(("grams", "wire"), [(1, "0.5"), (499, "0.5"), (501, "0.51"), (10_000, "10"), (999_000, "999")])
async def test_weight_in_kg_within_acs_bounds(
    acs: ACSSimulator, make_acs_courier: MakeCourier, grams: int, wire: str
) -> None:
    transport = RecordingTransport()
    courier = make_acs_courier(acs, transport=transport)
    voucher = await courier.create_voucher(
        voucher_request(parcels=[Parcel(weight_g=grams, length_mm=0, width_mm=0, height_mm=0)])
    )
    assert f'"Weight":{wire},'.encode() in transport.requests[0].content  # a plain JSON number
    params = sent_params(acs, voucher.tracking_number)
    assert Decimal(repr(params["Weight"])) == Decimal(wire)
    # Parcels without dimensions send none.
    assert (params["Dimension_X_In_Cm"], params["Dimension_Y_in_Cm"], params["Dimension_Z_In_Cm"]) == (None, None, None)
    await transport.aclose()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"parcels": [Parcel(weight_g=999_001, length_mm=1, width_mm=1, height_mm=1)]}, "at most 999 kg"),
        ({"parcels": [Parcel(weight_g=100, length_mm=1, width_mm=1, height_mm=1)] * 100}, "at most 99 parcels"),
        (
            {"recipient": Address(name="A", line1="Hauptstr. 1", city="Berlin", postcode="10115", country="DE")},
            "Greece",
        ),
        ({"cod_amount": 1000, "currency": "USD"}, "euros only"),
        ({"cod_amount": 1000, "is_return": True}, "return"),
    ],
)
async def test_impossible_vouchers_are_refused_before_calling(
    acs: ACSSimulator, make_acs_courier: MakeCourier, overrides: dict[str, Any], message: str
) -> None:
    transport = RecordingTransport()
    courier = make_acs_courier(acs, transport=transport)
    with pytest.raises(CourierRejected, match=message):
        await courier.create_voucher(voucher_request(**overrides))
    assert transport.requests == []
    await transport.aclose()


async def test_multipart_voucher_lists_its_pieces(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    courier = make_acs_courier(acs)
    parcel = Parcel(weight_g=800, length_mm=100, width_mm=100, height_mm=100)
    voucher = await courier.create_voucher(voucher_request(parcels=[parcel] * 3))
    view = acs.voucher(voucher.tracking_number)
    assert view["item_quantity"] == 3
    assert list(voucher.parts) == view["parts"] and len(voucher.parts) == 2
    assert all(part == part.strip() for part in voucher.parts)


async def test_a_failed_piece_lookup_never_fails_the_creation(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    courier = make_acs_courier(acs)
    acs.inject_faults("500", alias="ACS_Get_Multipart_Vouchers")
    parcel = Parcel(weight_g=800, length_mm=100, width_mm=100, height_mm=100)
    voucher = await courier.create_voucher(voucher_request("shp_parts", parcels=[parcel] * 2))
    assert voucher.parts == ()
    assert len(acs.vouchers_for_reference("shp_parts")) == 1


async def test_voucher_numbers_lose_acs_leading_space(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    transport = RecordingTransport()
    courier = make_acs_courier(acs, transport=transport, with_return_voucher=True)
    voucher = await courier.create_voucher(voucher_request())
    assert voucher.tracking_number == acs.vouchers[0]["Voucher_No"]
    assert voucher.return_tracking_number == acs.vouchers[0]["Voucher_No_Return"]
    assert voucher.tracking_number.isdigit() and (voucher.return_tracking_number or "").isdigit()
    assert envelopes(transport)[0]["ACSInputParameters"]["With_Return_Voucher"] == 1
    shop = Address(name="Αποθήκη", line1="Λεωφ. ΝΑΤΟ 100", city="Ασπρόπυργος", postcode="19300", country="GR")
    customer = voucher_request().recipient  # a return is collected at the customer's, delivered to the shop
    back = voucher_request("shp_back", is_return=True, recipient=shop, pickup=customer)
    returned = await courier.create_voucher(back)
    assert returned.return_tracking_number is None
    await transport.aclose()


# --- business errors: Greek messages, three spellings of the error field ----------------------


@pytest.fixture(params=["Error_Message", "error_message", "Error_msg"])
def acs_spelling(request: pytest.FixtureRequest) -> Iterator[ACSSimulator]:
    """A simulator whose every method spells its error field one way."""
    sim = ACSSimulator(error_keys=dict.fromkeys(DEFAULT_ERROR_KEYS, request.param))
    with sim.running():
        yield sim


async def test_business_errors_under_every_spelling(acs_spelling: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    sim = acs_spelling
    with pytest.raises(CourierRejected, match="Ανύπαρκτος επί πιστώσει κωδικός χρέωσης") as refused:
        await make_acs_courier(sim, billing_code="2ΑΘ000000").create_voucher(voucher_request("shp_bad"))
    assert "shp_bad" in str(refused.value)
    courier = make_acs_courier(sim)
    with pytest.raises(CourierRejected, match="Μη αποδεκτή ημ/νία παραλαβής"):
        await courier.create_voucher(voucher_request(pickup_date=athens_today() - timedelta(days=1)))
    with pytest.raises(CourierRejected, match="\u039do Acs shipment found for your company with voucher no: 999"):
        await courier.track("999")
    voucher = await courier.create_voucher(voucher_request())
    manifest = await courier.close_dispatch("athens-wh", athens_today())
    assert list(manifest.unprinted) == [voucher.tracking_number]
    await courier.label_pdf([voucher.tracking_number])
    assert (await courier.close_dispatch("athens-wh", athens_today())).reference is not None
    with pytest.raises(CourierRejected, match="Δεν μπορεί να γίνει διαγραφή αποστολής ACS"):
        await courier.cancel_voucher(voucher.tracking_number)
    with pytest.raises(CourierRejected, match="Δεν επιτρέπεται εκτύπωση voucher"):
        await courier.label_pdf([voucher.tracking_number])
    assert await courier.cod_report(athens_today()) == []


async def test_cancel_is_idempotent(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    courier = make_acs_courier(acs)
    voucher = await courier.create_voucher(voucher_request("shp_cancel"))
    await courier.cancel_voucher(f" {voucher.tracking_number}")
    await courier.cancel_voucher(voucher.tracking_number)  # a retry after a lost answer
    assert acs.vouchers_for_reference("shp_cancel", include_deleted=False) == []


async def test_execution_error_names_the_settings(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    courier = make_acs_courier(acs, user_password="wrong-password")
    with pytest.raises(CourierRejected, match="Λάθος στοιχεία πρόσβασης") as refused:
        await courier.track("7227889174")
    assert "EMPORIO_ACS_USER_ID" in str(refused.value)
    assert "wrong-password" not in str(refused.value)
    client = AcsClient(acs_settings(acs))
    with pytest.raises(CourierRejected, match="Ανύπαρκτη διαδικασία ACSAlias"):
        await client.call("ACS_No_Such_Alias", {})
    await client.aclose()


# --- labels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["object", "value"])
async def test_label_pdf_reads_both_print_shapes(acs: ACSSimulator, make_acs_courier: MakeCourier, shape: Any) -> None:
    acs.print_shape = shape
    transport = RecordingTransport()
    courier = make_acs_courier(acs, transport=transport, print_type=1)
    first = await courier.create_voucher(voucher_request("shp_a"))
    second = await courier.create_voucher(voucher_request("shp_b"))
    pdf = await courier.label_pdf([first.tracking_number, second.tracking_number])
    assert pdf.startswith(b"%PDF-1.4") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf.count(b"/Type /Page ") == 2  # thermal: one label per page
    params = envelopes(transport)[-1]["ACSInputParameters"]
    assert params["Voucher_No"] == f"{first.tracking_number},{second.tracking_number}"
    assert (params["Print_Type"], params["Start_Position"]) == (1, 1)
    await transport.aclose()


async def test_label_pdf_takes_at_most_ten_vouchers(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    transport = RecordingTransport()
    courier = make_acs_courier(acs, transport=transport)
    with pytest.raises(CourierRejected, match="at most 10 vouchers per call"):
        await courier.label_pdf([str(7227889174 + i) for i in range(11)])
    with pytest.raises(CourierRejected, match="no ACS voucher"):
        await courier.label_pdf([" "])
    assert transport.requests == []
    await transport.aclose()


# --- HTTP and transport failures ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "message"),
    [("500", "HTTP 500"), ("406", "rate limit"), ("malformed", "unreadable"), ("timeout", "did not answer")],
)
async def test_transient_failures_are_unavailable(
    acs: ACSSimulator, make_acs_courier: MakeCourier, fault: Any, message: str
) -> None:
    courier = make_acs_courier(acs, timeout_s=0.5)
    acs.inject_faults(fault, alias="ACS_Trackingsummary")
    with pytest.raises(CourierUnavailable, match=message):
        await courier.track("7227889174")


async def test_a_lost_create_answer_warns_against_creating_again(
    acs: ACSSimulator, make_acs_courier: MakeCourier
) -> None:
    courier = make_acs_courier(acs, timeout_s=0.5)
    acs.inject_faults("timeout_after_commit", alias="ACS_Create_Voucher")
    with pytest.raises(CourierUnavailable, match="second voucher") as lost:
        await courier.create_voucher(voucher_request("shp_lost"))
    assert "shp_lost" in str(lost.value)
    assert len(acs.vouchers_for_reference("shp_lost")) == 1


async def test_forbidden_key_is_rejected_with_the_reason(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    courier = make_acs_courier(acs, api_key="not-the-key")
    with pytest.raises(CourierMisconfigured, match="HTTP 403") as refused:
        await courier.track("7227889174")
    assert "allow-list" in str(refused.value) and "EMPORIO_ACS_API_KEY" in str(refused.value)
    assert (refused.value.setting, refused.value.unreachable) == ("EMPORIO_ACS_API_KEY", False)
    assert isinstance(refused.value, CourierRejected)  # code knowing only the two classes still stops


async def test_wrong_base_url_is_rejected_naming_the_setting(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    courier = make_acs_courier(acs, api_base=f"{acs.base_url}/ACSRestServices/apx")
    with pytest.raises(CourierMisconfigured, match="EMPORIO_ACS_API_BASE") as refused:
        await courier.track("7227889174")
    assert (refused.value.setting, refused.value.unreachable) == ("EMPORIO_ACS_API_BASE", False)


async def test_refused_connection_is_a_misconfigured_base_url(acs: ACSSimulator, make_acs_courier: MakeCourier) -> None:
    """ACS answers 406 or 5xx when busy; a refused connection means the base URL is wrong."""
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    courier = make_acs_courier(acs, api_base=f"http://127.0.0.1:{port}/ACSRestServices/api")
    with pytest.raises(CourierMisconfigured, match="unreachable") as refused:
        await courier.track("7227889174")
    assert (refused.value.setting, refused.value.unreachable) == ("EMPORIO_ACS_API_BASE", True)
    assert f"127.0.0.1:{port}" in str(refused.value)


async def test_real_rate_limit_is_unavailable_and_pacing_avoids_it(
    acs: ACSSimulator, make_acs_courier: MakeCourier
) -> None:
    acs.max_calls_per_second = 3
    unpaced = make_acs_courier(acs, max_calls_per_second=0)
    with pytest.raises(CourierUnavailable, match="HTTP 406"):
        for _ in range(4):
            await unpaced.cod_report(athens_today())
    acs.reset()
    paced = make_acs_courier(acs, max_calls_per_second=2)  # below ACS's limit, as by default (8 < 10)
    for _ in range(4):  # the third waits for the window instead of ever meeting a 406
        await paced.cod_report(athens_today())


# --- secrets ----------------------------------------------------------------------------------------


async def test_credentials_are_never_logged_or_shown(make_acs_courier: MakeCourier) -> None:
    secrets = {"api_key": "KEY-5ecret", "company_password": "CP-5ecret", "user_password": "UP-5ecret"}
    sim = ACSSimulator(
        company_password=secrets["company_password"], user_password=secrets["user_password"], api_key=secrets["api_key"]
    )
    messages: list[str] = []
    with sim.running(), structlog.testing.capture_logs() as logs:
        courier = make_acs_courier(sim)
        impatient = make_acs_courier(sim, timeout_s=0.5)  # only for the faults: the timeout costs 0.5 s
        voucher = await courier.create_voucher(voucher_request())
        await courier.track(voucher.tracking_number)
        faults: tuple[FaultKind, ...] = ("500", "malformed", "timeout")
        for fault in faults:
            sim.inject_faults(fault)
            with pytest.raises(CourierUnavailable) as failed:
                await impatient.track(voucher.tracking_number)
            messages.append(str(failed.value))
        for wrong in (make_acs_courier(sim, api_key="bad"), make_acs_courier(sim, company_password="bad")):
            with pytest.raises(CourierRejected) as refused:
                await wrong.track(voucher.tracking_number)
            messages.append(str(refused.value))
        messages += [repr(courier), repr(courier.settings)]
    shown = " ".join(messages) + repr(logs)
    assert logs, "the client logs its calls"
    for secret in secrets.values():
        assert secret not in shown
