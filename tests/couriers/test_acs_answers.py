"""ACS answers the simulator never gives: odd shapes, other HTTP statuses, BOMs, COD rows,
print answers without a PDF — built by hand with httpx.MockTransport."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest

from core.hookspecs.couriers import CourierMisconfigured, CourierRejected, CourierUnavailable
from plugins.courier_acs import AcsCourier, AcsSettings
from tests.couriers.support import athens_today


def answer(payload: Any, status: int = 200) -> httpx.MockTransport:
    body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
    return httpx.MockTransport(lambda request: httpx.Response(status, content=body))


def envelope(output: Any) -> dict[str, Any]:
    return {"ACSExecution_HasError": False, "ACSExecutionErrorMessage": "", "ACSOutputResponce": output}


SETTINGS = AcsSettings(
    api_key="k", company_id="c", company_password="p", user_id="u", user_password="w", billing_code="2ΑΘ999999"
)


@pytest.mark.parametrize(
    ("transport", "error", "message"),
    [
        (answer([1, 2]), CourierUnavailable, "JSON list"),
        (answer({"ACSExecution_HasError": False}), CourierUnavailable, "without an ACSOutputResponce"),
        (answer({"Message": "Bad Gateway"}, 502), CourierUnavailable, "Bad Gateway"),
        (answer(b"<html>busy</html>", 503), CourierUnavailable, "HTTP 503"),
        (answer({"Message": "No HTTP resource"}, 404), CourierMisconfigured, "EMPORIO_ACS_API_BASE"),
        (answer({"Message": "Authorization has been denied"}, 401), CourierMisconfigured, "EMPORIO_ACS_API_KEY"),
        (
            answer({"ACSExecution_HasError": True, "ACSExecutionErrorMessage": "Invalid credentials"}),
            CourierMisconfigured,
            "Invalid credentials.*EMPORIO_ACS_COMPANY_ID",
        ),
        (answer({"Message": "Bad Request"}, 400), CourierRejected, "EMPORIO_ACS_API_BASE"),
        (
            answer(envelope({"ACSValueOutput": [{"Error_Message": ""}], "ACSTableOutput": {}})),
            CourierUnavailable,
            "without a tracking row",
        ),
    ],
)
async def test_unexpected_answers(transport: httpx.MockTransport, error: type[Exception], message: str) -> None:
    courier = AcsCourier(SETTINGS, transport=transport)
    with pytest.raises(error, match=message):
        await courier.track("7227889174")
    await courier.aclose()


async def test_bom_and_correctly_spelled_output_are_accepted() -> None:
    row = {
        "voucher_no": "1",
        "shipment_status": 4,
        "delivery_flag": 1,
        "returned_flag": 0,
        "delivery_date": "2024-07-15T00:00:00",
        "delivery_time": "14:30",
    }
    body = (
        b"\xef\xbb\xbf"
        + json.dumps(
            {
                "ACSExecution_HasError": False,
                "ACSOutputResponse": {"ACSValueOutput": [{}], "ACSTableOutput": {"Table_Data": [row]}},
            }
        ).encode()
    )
    courier = AcsCourier(SETTINGS, transport=answer(body))
    snapshot = await courier.track("1")
    assert snapshot.delivered_at is not None and snapshot.delivered_at.hour == 11  # 14:30 EEST
    await courier.aclose()


async def test_cod_report_reads_euros_exactly_and_refuses_unreadable_rows() -> None:
    rows = [
        {"POD": " 7227889174", "Parcel_COD_Amount": 19.99, "Parcel_Delivery_Date": "2024-07-15T00:00:00"},
        {"POD": "7227889175", "Parcel_COD_Amount": None, "COD_Amount_Cach": 0.1, "COD_Amount_CreditCard": 0.2},
    ]
    courier = AcsCourier(
        SETTINGS,
        transport=answer(envelope({"ACSValueOutput": [{"Error_msg": None}], "ACSTableOutput": {"Table_Data": rows}})),
    )
    report = await courier.cod_report(athens_today())
    assert [(r.tracking_number, r.amount, r.collected_on) for r in report] == [
        ("7227889174", 1999, date(2024, 7, 15)),
        ("7227889175", 30, None),
    ]
    await courier.aclose()
    bad = [{"POD": "7227889176", "Parcel_COD_Amount": 12.345}]
    courier = AcsCourier(
        SETTINGS, transport=answer(envelope({"ACSValueOutput": [{}], "ACSTableOutput": {"Table_Data": bad}}))
    )
    with pytest.raises(CourierRejected, match="7227889176"):
        await courier.cod_report(athens_today())
    await courier.aclose()
    no_data = envelope(
        {
            "ACSValueOutput": [{"Error_msg": "Δεν βρέθηκαν δεδομένα με αυτά τα κριτήρια."}],
            "ACSTableOutput": {"Table_Data": []},
        }
    )
    courier = AcsCourier(SETTINGS, transport=answer(no_data))
    assert await courier.cod_report(athens_today()) == []
    await courier.aclose()


async def test_close_without_a_list_of_the_unprinted_is_refused() -> None:
    output = {
        "ACSValueOutput": [{"PickupList_No": None, "Unprinted_Found": 2, "Error_Message": "..."}],
        "ACSTableOutput": {},
    }
    courier = AcsCourier(SETTINGS, transport=answer(envelope(output)))
    with pytest.raises(CourierRejected, match="2 unprinted vouchers"):
        await courier.close_dispatch("athens-wh", athens_today())
    await courier.aclose()


async def test_print_answers_without_a_pdf_are_unavailable() -> None:
    for document in ({"PDFData": None}, {"PDFData": "%%%"}, {"PDFData": "aGVsbG8="}):
        courier = AcsCourier(SETTINGS, transport=answer(envelope({"ACSObjectOutput": document})))
        with pytest.raises(CourierUnavailable, match="PDFData"):
            await courier.label_pdf(["7227889174"])
        await courier.aclose()


def test_parse_webhook_says_tracking_is_polled() -> None:
    with pytest.raises(CourierRejected, match="tracking is polled"):
        AcsCourier(SETTINGS).parse_webhook({}, b"{}")
