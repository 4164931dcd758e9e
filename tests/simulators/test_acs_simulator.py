"""The ACS Courier simulator, exercised over real HTTP exactly as a plugin would call ACS."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from plugins.courier_acs.simulator.simulator import ACSSimulator
from tests.simulators.conftest import ACS_NOW

pytestmark = pytest.mark.timeout(20)

KEY = {"AcsApiKey": "demo"}
CREDENTIALS = {
    "Company_ID": "demo",
    "Company_Password": "demo",
    "User_ID": "demo",
    "User_Password": "demo",
}
TODAY = ACS_NOW.date().isoformat()  # the pinned simulator's day
NOT_FOUND_0 = "\u039do Acs shipment found for your company with voucher no: 0"
# One pooled client for the module: building an httpx.Client (TLS context) costs ~30 ms.
HTTP = httpx.Client(timeout=5.0)


@pytest.fixture(scope="module", autouse=True)
def _close_http_client() -> Iterator[None]:
    yield
    HTTP.close()


def call(sim: ACSSimulator, alias: str, timeout: float = 5.0, **params: Any) -> dict[str, Any]:
    """POST one ACSAutoRest call and return the decoded envelope (asserting HTTP 200)."""
    body = {"ACSAlias": alias, "ACSInputParameters": {**CREDENTIALS, **params}}
    response = HTTP.post(sim.api_url, headers=KEY, json=body, timeout=timeout)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def voucher_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "Pickup_Date": TODAY,
        "Sender": "EMPORIO",
        "Recipient_Name": "ΜΑΡΙΑ ΠΑΠΑΔΟΠΟΥΛΟΥ",
        "Recipient_Address": "Π. ΡΑΛΛΗ",
        "Recipient_Address_Number": 45,
        "Recipient_Zipcode": 17778,  # ACS accepts numbers here, like its manual's sample
        "Recipient_Region": "ΤΑΥΡΟΣ",
        "Recipient_Phone": None,
        "Recipient_Cell_Phone": "6999999999",
        "Recipient_Country": "GR",
        "Billing_Code": "2ΑΘ999999",
        "Charge_Type": 2,
        "Item_Quantity": 1,
        "Weight": 1.5,
        "Cod_Ammount": None,
        "Cod_Payment_Way": None,
        "Acs_Delivery_Products": None,
        "Reference_Key1": "shp_1",
        "Reference_Key2": None,
        "With_Return_Voucher": None,
        "Content_Type_ID": None,
        "Language": None,
    }
    fields.update(overrides)
    return fields


def value_row(envelope: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = envelope["ACSOutputResponce"]["ACSValueOutput"][0]
    return row


def table(envelope: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = envelope["ACSOutputResponce"]["ACSTableOutput"]["Table_Data"]
    return rows


def create(sim: ACSSimulator, **overrides: Any) -> str:
    """Create a voucher and return its bare number (ACS pads it with a leading space)."""
    row = value_row(call(sim, "ACS_Create_Voucher", **voucher_fields(**overrides)))
    assert row["Error_Message"] == "", row
    number: str = row["Voucher_No"]
    return number.strip()


def print_pdf(sim: ACSSimulator, vouchers: str, print_type: int = 2) -> bytes:
    envelope = call(sim, "ACS_Print_Voucher", Voucher_No=vouchers, Print_Type=print_type)
    return base64.b64decode(envelope["ACSOutputResponce"]["ACSObjectOutput"]["PDFData"])


def assert_valid_pdf(pdf: bytes) -> int:
    """Check header, trailer and that every xref entry points at its object; return pages."""
    assert pdf.startswith(b"%PDF-1.4\n")
    assert pdf.rstrip().endswith(b"%%EOF")
    startxref = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    assert pdf[startxref:].startswith(b"xref\n")
    header = re.match(rb"xref\n0 (\d+)\n", pdf[startxref:])
    assert header is not None
    size = int(header.group(1))
    entries = pdf[startxref + header.end() :].split(b"\n")[:size]
    assert entries[0] == b"0000000000 65535 f "
    for number, entry in enumerate(entries[1:], start=1):
        assert len(entry) == 19 and entry.endswith(b" n "), entry  # 20 bytes with the \n
        assert pdf[int(entry[:10]) :].startswith(b"%d 0 obj" % number)
    assert b"/Size %d" % size in pdf
    count = re.search(rb"/Type /Pages /Kids \[[^\]]*\] /Count (\d+)", pdf)
    assert count is not None
    return int(count.group(1))


# --- create ---------------------------------------------------------------------------------


def test_create_voucher_answers_acs_exact_shape(acs_simulator: ACSSimulator) -> None:
    body = {
        "ACSAlias": "ACS_Create_Voucher",
        "ACSInputParameters": {**CREDENTIALS, **voucher_fields()},
    }
    response = HTTP.post(acs_simulator.api_url, headers=KEY, json=body)

    assert response.status_code == 200
    assert response.json() == {
        "ACSExecution_HasError": False,
        "ACSExecutionErrorMessage": "",
        "ACSOutputResponce": {
            "ACSValueOutput": [{"Voucher_No": " 7227889174", "Voucher_No_Return": None, "Error_Message": ""}],
            "ACSTableOutput": {},
        },
    }
    [voucher] = acs_simulator.vouchers
    assert voucher["Voucher_No"] == "7227889174"
    assert voucher["reference_key1"] == "shp_1"
    assert voucher["recipient"]["zipcode"] == "17778"
    assert (voucher["printed"], voucher["deleted"], voucher["pickup_list_no"]) == (
        False,
        False,
        None,
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Weight": 0.4}, "Μη αποδεκτή τιμή βάρους (0,5-999)"),
        ({"Weight": 1000}, "Μη αποδεκτή τιμή βάρους (0,5-999)"),
        (
            {"Pickup_Date": (ACS_NOW.date() - timedelta(days=1)).isoformat()},
            "Μη αποδεκτή ημ/νία παραλαβής",
        ),
        ({"Pickup_Date": "22/11/2030"}, "Μη αποδεκτή ημ/νία παραλαβής"),
        # Latin "A" instead of Greek "Α": a classic copy-paste bug ACS rejects.
        ({"Billing_Code": "2AΘ999999"}, "Ανύπαρκτος επί πιστώσει κωδικός χρέωσης"),
        ({"Item_Quantity": 100}, "Δεν υποστηρίζονται πάνω από 99 τεμάχια ανά αποστολή"),
        ({"Cod_Ammount": 10, "Cod_Payment_Way": 0}, "Δεν βρέθηκε το προϊόν αντικαταβολής (ΑΝ)"),
        (
            {"Acs_Delivery_Products": "SAT,REC"},
            "Τα προϊόντα της αποστολής δεν συνδυάζονται μεταξύ τους",
        ),
        ({"Recipient_Country": "DE"}, "Μη αποδεκτός ταχ. Κωδικός ή χώρα προορισμού"),
        ({"Charge_Type": 3}, "Μη αποδεκτή τιμή χρέωσης μεταφορικών"),
    ],
)
def test_create_validation_errors_are_greek_business_errors(
    acs_simulator: ACSSimulator, overrides: dict[str, Any], message: str
) -> None:
    envelope = call(acs_simulator, "ACS_Create_Voucher", **voucher_fields(**overrides))

    assert envelope["ACSExecution_HasError"] is False
    assert value_row(envelope) == {
        "Voucher_No": None,
        "Voucher_No_Return": None,
        "Error_Message": message,
    }
    assert acs_simulator.vouchers == []


def test_cyprus_needs_content_type(acs_simulator: ACSSimulator) -> None:
    cyprus = {"Recipient_Country": "CY", "Recipient_Zipcode": "1010"}
    row = value_row(call(acs_simulator, "ACS_Create_Voucher", **voucher_fields(**cyprus)))
    assert "Content_Type_ID" in row["Error_Message"]
    assert create(acs_simulator, **cyprus, Content_Type_ID=1)


def test_cod_is_kept_as_sent_and_exposed_in_cents(acs_simulator: ACSSimulator) -> None:
    create(acs_simulator, Cod_Ammount=12.5, Cod_Payment_Way=0, Acs_Delivery_Products="COD")

    [voucher] = HTTP.get(f"{acs_simulator.base_url}/_simulator/vouchers").json()
    assert voucher["cod_amount"] == 1250
    assert voucher["cod_amount_wire"] == 12.5


def test_no_idempotency_and_lookup_by_reference(acs_simulator: ACSSimulator) -> None:
    create(acs_simulator, Reference_Key1="shp_A")
    create(acs_simulator, Reference_Key1="shp_A")  # ACS happily makes a duplicate
    create(acs_simulator, Reference_Key1="shp_B")

    assert len(acs_simulator.vouchers_for_reference("shp_A")) == 2
    listed = HTTP.get(f"{acs_simulator.base_url}/_simulator/vouchers", params={"reference_key1": "shp_B"})
    assert [v["reference_key1"] for v in listed.json()] == ["shp_B"]


def test_return_voucher(acs_simulator: ACSSimulator) -> None:
    envelope = call(acs_simulator, "ACS_Create_Voucher", **voucher_fields(With_Return_Voucher=1))
    row = value_row(envelope)
    assert re.fullmatch(r" \d{10}", row["Voucher_No"])
    assert re.fullmatch(r" \d{10}", row["Voucher_No_Return"])
    assert acs_simulator.vouchers[0]["Voucher_No_Return"] == row["Voucher_No_Return"].strip()


# --- envelope-level errors, key, rate ----------------------------------------------------------


def test_wrong_or_missing_api_key_is_403(acs_simulator: ACSSimulator) -> None:
    body = {"ACSAlias": "ACS_Trackingsummary", "ACSInputParameters": CREDENTIALS}
    assert HTTP.post(acs_simulator.api_url, json=body).status_code == 403
    assert HTTP.post(acs_simulator.api_url, headers={"AcsApiKey": "nope"}, json=body).status_code == 403


def test_bad_credentials_and_unknown_alias_are_execution_errors(
    acs_simulator: ACSSimulator,
) -> None:
    envelope = call(acs_simulator, "ACS_Trackingsummary", User_Password="wrong", Voucher_No="1")
    assert envelope["ACSExecution_HasError"] is True
    assert envelope["ACSExecutionErrorMessage"]
    assert envelope["ACSOutputResponce"] is None

    envelope = call(acs_simulator, "ACS_Teleport_Parcel")
    assert envelope["ACSExecution_HasError"] is True
    assert "ACS_Teleport_Parcel" in envelope["ACSExecutionErrorMessage"]


def test_over_the_rate_is_406_and_recovers() -> None:
    sim = ACSSimulator(max_calls_per_second=3)
    with sim.running(), httpx.Client(headers=KEY) as client:
        body = {
            "ACSAlias": "ACS_Trackingsummary",
            "ACSInputParameters": {**CREDENTIALS, "Voucher_No": "0"},
        }
        codes = [client.post(sim.api_url, json=body).status_code for _ in range(6)]
        assert codes[:3] == [200, 200, 200]
        assert 406 in codes[3:]
        time.sleep(1.05)  # rejected calls do not count, so one quiet second is enough
        assert client.post(sim.api_url, json=body).status_code == 200


def test_help_returns_parameter_template(acs_simulator: ACSSimulator) -> None:
    response = HTTP.post(acs_simulator.help_url, headers=KEY, json={"ACSAlias": "ACS_Print_Voucher"})

    assert response.status_code == 200
    assert response.json() == {
        "ACSAlias": "ACS_Print_Voucher",
        "ACSInputParameters": {
            **dict.fromkeys(CREDENTIALS),
            "Voucher_No": None,
            "Print_Type": None,
            "Start_Position": None,
        },
    }


# --- print, delete, pickup list ----------------------------------------------------------------


def test_print_returns_a_valid_pdf_and_marks_printed(acs_simulator: ACSSimulator) -> None:
    number = create(acs_simulator, Cod_Ammount=12.5, Cod_Payment_Way=0, Acs_Delivery_Products="COD")

    pdf = print_pdf(acs_simulator, number, print_type=1)

    assert assert_valid_pdf(pdf) == 1
    assert f"(ACS {number}) Tj".encode() in pdf
    assert b"(COD: 12,50 EUR) Tj" in pdf
    assert b"(Recipient: MARIA PAPADOPOYLOY) Tj" in pdf  # Greek transliterated for Helvetica
    assert acs_simulator.vouchers[0]["printed"] is True


def test_print_shape_value_and_batch_limit(acs_simulator: ACSSimulator) -> None:
    first, second = create(acs_simulator), create(acs_simulator)
    acs_simulator.print_shape = "value"

    envelope = call(acs_simulator, "ACS_Print_Voucher", Voucher_No=f"{first},{second}", Print_Type=2)

    row = value_row(envelope)
    assert row["Error_Message"] == ""
    assert row["ACSObjectOutput"]["Voucher_No"] == f"{first},{second}"
    assert assert_valid_pdf(base64.b64decode(row["ACSObjectOutput"]["PDFData"])) == 1  # 2 labels, 1 A4
    too_many = ",".join([first] * 11)
    row = value_row(call(acs_simulator, "ACS_Print_Voucher", Voucher_No=too_many, Print_Type=2))
    assert row["ACSObjectOutput"] is None and row["Error_Message"]


def test_delete_before_and_after_pickup_list(acs_simulator: ACSSimulator) -> None:
    doomed, kept = create(acs_simulator), create(acs_simulator)

    assert value_row(call(acs_simulator, "ACS_Delete_Voucher", Voucher_No=doomed)) == {"Error_Message": None}
    print_pdf(acs_simulator, kept)
    pickup = call(acs_simulator, "ACS_Issue_Pickup_List", Language="GR", Pickup_Date=TODAY, MyData=None)
    list_no = value_row(pickup)["PickupList_No"]
    assert re.fullmatch(r"\d{10}", list_no)

    row = value_row(call(acs_simulator, "ACS_Delete_Voucher", Voucher_No=kept))
    assert row["Error_Message"] == (
        "Δεν μπορεί να γίνει διαγραφή αποστολής ACS, όταν έχει εκτυπωθεί η λίστα παραλαβής του courier"
    )
    states = {v["Voucher_No"]: (v["deleted"], v["pickup_list_no"]) for v in acs_simulator.vouchers}
    assert states == {doomed: (True, None), kept: (False, list_no)}


def test_pickup_list_refused_while_vouchers_are_unprinted(acs_simulator: ACSSimulator) -> None:
    printed, unprinted = create(acs_simulator), create(acs_simulator)
    print_pdf(acs_simulator, printed)

    envelope = call(acs_simulator, "ACS_Issue_Pickup_List", Language="GR", Pickup_Date=TODAY, MyData=None)

    row = value_row(envelope)
    assert (row["PickupList_No"], row["Unprinted_Found"]) == (None, 1)
    assert "ατύπωτες" in row["Error_Message"]
    assert table(envelope) == [{"Unprinted_Vouchers": unprinted}]

    print_pdf(acs_simulator, unprinted)
    envelope = call(acs_simulator, "ACS_Issue_Pickup_List", Language="GR", Pickup_Date=TODAY, MyData=None)
    assert value_row(envelope)["Unprinted_Found"] == 0
    assert value_row(envelope)["Error_Message"] == ""
    details = table(call(acs_simulator, "ACS_TrackingDetails", Language=None, Voucher_No=printed))
    assert details[0]["checkpoint_action"].startswith("ΑΝΑΧΩΡΗΣΗ")


def test_multipart_returns_main_voucher_and_lists_parts(acs_simulator: ACSSimulator) -> None:
    main = create(acs_simulator, Item_Quantity=3, Reference_Key1="shp_multi")

    parts = table(call(acs_simulator, "ACS_Get_Multipart_Vouchers", Language=None, Main_Voucher_No=main))

    assert len(parts) == 2 and all(re.fullmatch(r"\d{10}", p["MultiPart_Voucher_No"]) for p in parts)
    [shipment] = acs_simulator.vouchers_for_reference("shp_multi")  # one shipment, not three
    assert shipment["parts"] == [p["MultiPart_Voucher_No"] for p in parts]
    assert assert_valid_pdf(print_pdf(acs_simulator, main, print_type=1)) == 3  # a label per piece


# --- tracking ------------------------------------------------------------------------------------


def test_tracking_after_scripted_absent_then_delivered(acs_simulator: ACSSimulator) -> None:
    number = create(acs_simulator)
    print_pdf(acs_simulator, number)
    call(acs_simulator, "ACS_Issue_Pickup_List", Language="GR", Pickup_Date=TODAY, MyData=None)

    scripted = HTTP.post(
        f"{acs_simulator.base_url}/_simulator/vouchers/{number}/status",
        json={
            "shipment_status": 3,
            "non_delivery_reason_code": "ΑΣ1",
            "delivery_flag": 0,
            "returned_flag": 0,
        },
    )
    assert scripted.status_code == 200

    envelope = call(acs_simulator, "ACS_Trackingsummary", Language=None, Voucher_No=number)
    [row] = table(envelope)
    assert value_row(envelope) == {"Error_Message": None}
    assert row["shipment_status"] == 3
    assert row["non_delivery_reason_code"] == "ΑΣ1"
    assert (row["delivery_flag"], row["returned_flag"]) == (0, 0)
    assert row["voucher_no"] == number and row["pickup_date"] == f"{TODAY}T00:00:00"
    details = table(call(acs_simulator, "ACS_TrackingDetails", Language=None, Voucher_No=number))
    assert details[-1]["checkpoint_action"] == "ΑΠΟΤΥΧΙΑ ΠΑΡΑΔΟΣΗΣ"

    acs_simulator.set_status(number, 4, consignee="ΜΑΡΙΑ")
    [row] = table(call(acs_simulator, "ACS_Trackingsummary", Language=None, Voucher_No=number))
    assert (row["shipment_status"], row["delivery_flag"], row["consignee"]) == (4, 1, "ΜΑΡΙΑ")
    assert row["delivery_date"] == f"{TODAY}T00:00:00"


def test_unknown_voucher_message(acs_simulator: ACSSimulator) -> None:
    envelope = call(acs_simulator, "ACS_Trackingsummary", Language=None, Voucher_No=0)

    assert envelope["ACSExecution_HasError"] is False
    assert value_row(envelope)["Error_Message"] == NOT_FOUND_0
    assert table(envelope) == []


def test_control_api_rejects_inconsistent_status(acs_simulator: ACSSimulator) -> None:
    number = create(acs_simulator)
    url = f"{acs_simulator.base_url}/_simulator/vouchers/{number}/status"

    assert HTTP.post(url, json={"shipment_status": 4, "non_delivery_reason_code": "ΑΣ1"}).status_code == 400
    assert HTTP.post(url, json={"shipment_status": 9}).status_code == 400
    unknown = f"{acs_simulator.base_url}/_simulator/vouchers/1111111111/status"
    assert HTTP.post(unknown, json={"shipment_status": 4}).status_code == 404


def test_cod_reconciliation_after_delivery(acs_simulator: ACSSimulator) -> None:
    number = create(acs_simulator, Cod_Ammount=30.4, Cod_Payment_Way=0, Acs_Delivery_Products="COD")
    acs_simulator.set_status(number, 4)

    envelope = call(acs_simulator, "ACS_COD_Beneficiary_Info", User_locals="GR", COD_Payment_Date=TODAY)

    assert value_row(envelope) == {"Error_msg": None}  # ACS spells this method's error field so
    [row] = table(envelope)
    assert (row["POD"], row["Parcel_COD_Amount"], row["Customer_RefNo_1"]) == (
        number,
        30.4,
        "shp_1",
    )


def test_price_and_areas_are_deterministic(acs_simulator: ACSSimulator) -> None:
    price = value_row(
        call(
            acs_simulator,
            "ACS_Price_Calculation",
            Billing_Code="2ΑΘ999999",
            Acs_Station_Destination="ΧΝ",  # Chania: an island surcharge
            Weight=0.5,
            Charge_Type=2,
            Acs_Delivery_Products="COD",
        )
    )
    assert price == {
        "Basic_Ammount": 6.0,
        "Extra_Service_Ammount": 1.5,
        "Total_Ammount": 7.5,
        "Total_Vat_Ammount": 1.8,
        "Info_Message": "",
        "Error_Message": "",
    }
    areas = table(
        call(
            acs_simulator,
            "ACS_Area_Find_By_Zip_Code",
            Zip_Code="13679",
            Show_Only_Inaccessible_Areas=1,
        )
    )
    assert {a["Inaccessible_Area_Kind"] for a in areas} == {"ΔΠ"}


def test_error_key_spelling_is_configurable() -> None:
    sim = ACSSimulator(error_keys={"ACS_Delete_Voucher": "error_message"})
    with sim.running():
        row = value_row(call(sim, "ACS_Delete_Voucher", Voucher_No="0"))
    assert row == {"error_message": NOT_FOUND_0}


# --- faults ------------------------------------------------------------------------------------


def test_500_and_malformed_faults_do_not_create(acs_simulator: ACSSimulator) -> None:
    body = {
        "ACSAlias": "ACS_Create_Voucher",
        "ACSInputParameters": {**CREDENTIALS, **voucher_fields()},
    }
    faults = f"{acs_simulator.base_url}/_simulator/faults"
    assert HTTP.post(faults, json={"kind": "500", "count": 1}).status_code == 200
    acs_simulator.inject_faults("malformed")

    assert HTTP.post(acs_simulator.api_url, headers=KEY, json=body).status_code == 500
    malformed = HTTP.post(acs_simulator.api_url, headers=KEY, json=body)
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        malformed.json()
    assert acs_simulator.vouchers == []
    assert create(acs_simulator)  # faults used up


def test_alias_specific_406_fault(acs_simulator: ACSSimulator) -> None:
    acs_simulator.inject_faults("406", count=2, alias="ACS_Create_Voucher")
    body = {
        "ACSAlias": "ACS_Create_Voucher",
        "ACSInputParameters": {**CREDENTIALS, **voucher_fields()},
    }

    assert call(acs_simulator, "ACS_Trackingsummary", Voucher_No="0")["ACSExecution_HasError"] is False
    codes = [HTTP.post(acs_simulator.api_url, headers=KEY, json=body).status_code for _ in range(3)]
    assert codes == [406, 406, 200]


def test_timeout_fault_does_no_work(acs_simulator: ACSSimulator) -> None:
    acs_simulator.inject_faults("timeout", alias="ACS_Create_Voucher")
    body = {
        "ACSAlias": "ACS_Create_Voucher",
        "ACSInputParameters": {**CREDENTIALS, **voucher_fields()},
    }

    with pytest.raises(httpx.ReadTimeout):
        HTTP.post(acs_simulator.api_url, headers=KEY, json=body, timeout=0.3)
    assert acs_simulator.vouchers == []


def test_timeout_after_commit_creates_the_voucher_the_client_never_saw(
    acs_simulator: ACSSimulator,
) -> None:
    acs_simulator.inject_faults("timeout_after_commit", alias="ACS_Create_Voucher")
    body = {
        "ACSAlias": "ACS_Create_Voucher",
        "ACSInputParameters": {**CREDENTIALS, **voucher_fields()},
    }

    with pytest.raises(httpx.ReadTimeout):
        HTTP.post(acs_simulator.api_url, headers=KEY, json=body, timeout=0.3)

    # The voucher exists: a blind retry would make a second one (ACS has no idempotency keys).
    assert len(acs_simulator.vouchers_for_reference("shp_1")) == 1


def test_server_stops_promptly_with_a_parked_request() -> None:
    sim = ACSSimulator()
    started = time.monotonic()
    with sim.running():
        sim.inject_faults("timeout")
        with pytest.raises(httpx.ReadTimeout):
            call(sim, "ACS_Trackingsummary", timeout=0.2, Voucher_No="0")
    assert time.monotonic() - started < 5


def test_bad_fault_kind_and_reset(acs_simulator: ACSSimulator) -> None:
    base = acs_simulator.base_url
    assert HTTP.post(f"{base}/_simulator/faults", json={"kind": "gremlins"}).status_code == 400
    create(acs_simulator)
    acs_simulator.inject_faults("500", count=5)

    assert HTTP.post(f"{base}/_simulator/reset").json() == {"reset": True}

    assert acs_simulator.vouchers == []
    assert create(acs_simulator) == "7227889174"  # numbering restarts, faults are gone
