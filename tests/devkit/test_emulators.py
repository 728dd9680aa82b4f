"""The provider emulators, exercised directly over loopback HTTP with httpx."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from devkit.emulators import (
    Fault,
    FaultKind,
    LummyEmulator,
    TusFacturasCredentials,
    TusFacturasEmulator,
)

pytestmark = pytest.mark.timeout(10)

API_KEY = "lk_test_123"
ORG_ID = "0b7c6f1e-3d2a-4c5b-9e8f-1a2b3c4d5e6f"
SEED_ID = "550e8400-e29b-41d4-a716-446655440000"
OTHER_ID = "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13"
LUMMY_HEADERS = {
    "Authorization": f"Bearer {API_KEY}",
    "x-organization-id": ORG_ID,
    "x-api-key": API_KEY,
}
TF_ALL = TusFacturasCredentials("key-all", "tok-all", "user-all")
TF_PV3 = TusFacturasCredentials("key-pv3", "tok-pv3", "user-pv3", punto_venta=3)


class FakeClock:
    """A settable clock for rate-limit windows and timestamps."""

    def __init__(self) -> None:
        self.current = datetime(2025, 1, 20, 10, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2.0) as http:
        yield http


@pytest.fixture
async def lummy(clock: FakeClock) -> AsyncIterator[LummyEmulator]:
    async with LummyEmulator(API_KEY, ORG_ID, clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def tf(clock: FakeClock) -> AsyncIterator[TusFacturasEmulator]:
    async with TusFacturasEmulator([TF_ALL, TF_PV3], clock=clock) as emulator:
        yield emulator


def resend_url(emulator: LummyEmulator, invoice_id: str = SEED_ID) -> str:
    return f"{emulator.base_url}/invoices/{invoice_id}/resend-pdf"


def tf_body(
    tipo: Any = "NOTA DE DEBITO B",
    punto_venta: Any = "2",
    numero: Any = "6",
    operacion: Any = "V",
    credentials: TusFacturasCredentials = TF_ALL,
) -> dict[str, Any]:
    return {
        "usertoken": credentials.usertoken,
        "apikey": credentials.apikey,
        "apitoken": credentials.apitoken,
        "comprobante": {
            "tipo": tipo,
            "operacion": operacion,
            "punto_venta": punto_venta,
            "numero": numero,
        },
    }


def tf_url(emulator: TusFacturasEmulator) -> str:
    return f"{emulator.base_url}/facturacion/reenviar"


# -- Lummy -------------------------------------------------------------------


async def test_lummy_seed_success(lummy: LummyEmulator, client: httpx.AsyncClient) -> None:
    response = await client.post(resend_url(lummy), headers=LUMMY_HEADERS)

    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {
        "success": True,
        "sentTo": "cliente@empresa.com",
        "sentAt": "2025-01-20T10:30:00.000Z",
    }
    assert body["timestamp"] == "2025-01-20T10:30:00.000Z"
    assert body["path"] == f"/invoices/{SEED_ID}/resend-pdf"
    assert body["method"] == "POST"
    assert re.fullmatch(r"[0-9a-f]{6}-[0-9a-f]{6}", body["requestId"])
    assert response.headers["x-request-id"] == body["requestId"]
    assert [(s.invoice_id, s.to) for s in lummy.sends] == [(SEED_ID, "cliente@empresa.com")]
    assert lummy.requests[0].headers["x-api-key"] == API_KEY
    assert lummy.base_url.startswith("http://127.0.0.1:")
    assert lummy.base_url.endswith("/v1")


async def test_lummy_alternative_email_and_uppercase_id(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        resend_url(lummy, SEED_ID.upper()),
        headers=LUMMY_HEADERS,
        json={"email": "otro-email@cliente.com"},
    )

    assert response.status_code == 200
    assert response.json()["data"]["sentTo"] == "otro-email@cliente.com"


@pytest.mark.parametrize(
    ("access_token", "override", "status", "code"),
    [
        (None, {"x-api-key": "nope"}, 401, "UnauthorizedException"),
        (None, {"Authorization": "Bearer nope"}, 401, "UnauthorizedException"),
        ("jwt-abc", {}, 401, "UnauthorizedException"),  # bearer must be the access token
        ("jwt-abc", {"Authorization": "Bearer jwt-abc"}, 200, None),
        (None, {"x-organization-id": "another-org"}, 403, "ForbiddenException"),
    ],
)
async def test_lummy_auth(
    client: httpx.AsyncClient,
    access_token: str | None,
    override: dict[str, str],
    status: int,
    code: str | None,
) -> None:
    async with LummyEmulator(API_KEY, ORG_ID, access_token=access_token) as emulator:
        response = await client.post(resend_url(emulator), headers=LUMMY_HEADERS | override)

    assert response.status_code == status
    if code is not None:
        assert response.json()["error"]["code"] == code
        assert emulator.sends == []


async def test_lummy_missing_headers_is_401(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    response = await client.post(resend_url(lummy))

    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401


@pytest.mark.parametrize(
    ("invoice_id", "content", "status", "message"),
    [
        ("not-a-uuid", b"", 400, "invoiceId debe ser un UUID"),
        (SEED_ID, b'{"email": "sin-arroba.com"}', 400, "Email invalido"),
        (SEED_ID, b'{"email": ""}', 400, "Email invalido"),
        (SEED_ID, b'{"email": ', 400, None),
        ("00000000-0000-4000-8000-000000000000", b"", 404, "Invoice not found"),
    ],
)
async def test_lummy_client_errors(
    lummy: LummyEmulator,
    client: httpx.AsyncClient,
    invoice_id: str,
    content: bytes,
    status: int,
    message: str | None,
) -> None:
    response = await client.post(
        resend_url(lummy, invoice_id), headers=LUMMY_HEADERS, content=content
    )

    assert response.status_code == status
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"] == ("NotFoundException" if status == 404 else "ValidationError")
    if message is not None:
        assert error["message"] == message
    assert lummy.sends == []


async def test_lummy_unknown_route_and_wrong_method(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    missing = await client.post(f"{lummy.base_url}/invoices", headers=LUMMY_HEADERS)
    wrong_method = await client.get(resend_url(lummy), headers=LUMMY_HEADERS)

    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NotFoundException"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["status"] == 405


async def test_lummy_rate_limit_sliding_hour(
    lummy: LummyEmulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    for _ in range(10):
        ok = await client.post(resend_url(lummy), headers=LUMMY_HEADERS)
        assert ok.status_code == 200
        clock.advance(60)
    # Now 10 minutes after the first send: it leaves the window in 50 minutes.
    limited = await client.post(resend_url(lummy), headers=LUMMY_HEADERS)
    other_invoice = await client.post(resend_url(lummy, OTHER_ID), headers=LUMMY_HEADERS)
    clock.advance(3000)
    after = await client.post(resend_url(lummy), headers=LUMMY_HEADERS)

    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "TooManyRequestsException"
    assert limited.json()["error"]["message"].startswith("Has alcanzado el limite")
    assert limited.headers["Retry-After"] == "3000"
    assert other_invoice.status_code == 200
    assert after.status_code == 200


async def test_lummy_idempotency_replays_without_sending(
    lummy: LummyEmulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    headers = LUMMY_HEADERS | {"x-idempotency": "6f1c2d3e-4b5a-4c6d-8e7f-901234567890"}
    first = await client.post(resend_url(lummy), headers=headers)
    clock.advance(30)
    replay = await client.post(resend_url(lummy), headers=headers)
    fresh = await client.post(resend_url(lummy), headers=LUMMY_HEADERS)

    assert first.status_code == replay.status_code == 200
    assert replay.content == first.content
    assert replay.headers["x-request-id"] == first.headers["x-request-id"]
    assert fresh.json()["requestId"] != first.json()["requestId"]
    assert len(lummy.sends) == 2
    assert lummy.sends[0].idempotency_key == headers["x-idempotency"]


async def test_lummy_customers_search_and_page(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    url = f"{lummy.base_url}/customers"
    first = await client.get(url, params={"limit": 1}, headers=LUMMY_HEADERS)
    second = await client.get(url, params={"limit": 1, "page": 2}, headers=LUMMY_HEADERS)
    found = await client.get(url, params={"search": "guadalupe"}, headers=LUMMY_HEADERS)

    assert first.status_code == 200
    assert first.json()["path"] == "/customers"
    assert first.json()["data"] == [
        {
            "id": first.json()["data"][0]["id"],
            "rfc": "EDE010101AB1",
            "legalName": "Empresa Demo S.A. de C.V.",
            "fiscalRegime": "601",
            "fiscalZipCode": "06600",
            "email": "cliente@empresa.com",
        }
    ]
    assert [c["rfc"] for c in second.json()["data"]] == ["AGU150312QW4"]
    assert [c["legalName"] for c in found.json()["data"]] == ["Abarrotes La Guadalupe"]
    assert lummy.requests[0].route == "customers"
    assert lummy.sends == []


@pytest.mark.parametrize(
    ("params", "headers", "status"),
    [
        ({"limit": 1}, {**LUMMY_HEADERS, "x-api-key": "nope"}, 401),
        ({"limit": 1}, {**LUMMY_HEADERS, "x-organization-id": "other"}, 403),
        ({"limit": 0}, LUMMY_HEADERS, 400),
        ({"limit": 101}, LUMMY_HEADERS, 400),
        ({"page": "x"}, LUMMY_HEADERS, 400),
    ],
)
async def test_lummy_customers_refusals(
    lummy: LummyEmulator,
    client: httpx.AsyncClient,
    params: dict[str, Any],
    headers: dict[str, str],
    status: int,
) -> None:
    response = await client.get(f"{lummy.base_url}/customers", params=params, headers=headers)

    assert response.status_code == status
    assert response.json()["error"]["status"] == status


# -- TusFacturas -------------------------------------------------------------


async def test_tf_seed_success_with_string_numbers(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    response = await client.post(tf_url(tf), json=tf_body())

    assert response.status_code == 200
    body = response.json()
    assert body["error"] == "N"
    assert body["errores"] == []
    assert "compras@panaderialaespiga.com.ar" in body["rta"]
    assert [s.key for s in tf.sends] == ["NOTA DE DEBITO B|V|2|6"]
    assert tf.base_url.endswith("/app/api/v2")


async def test_tf_validation_errors_one_per_problem(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    body = tf_body(tipo="FACTURA Z", operacion="X", punto_venta=0, numero="123456789")
    response = await client.post(tf_url(tf), json=body)

    assert response.status_code == 200
    payload = response.json()
    assert payload["error"] == "S"
    assert len(payload["errores"]) == 4
    codes = [detail["code"] for detail in payload["error_details"]]
    assert codes == ["TFC-1002", "TFC-1003", "TFC-1004", "TFC-1005"]
    assert [detail["text"] for detail in payload["error_details"]] == payload["errores"]
    assert tf.sends == []


@pytest.mark.parametrize(
    ("body", "code", "needle"),
    [
        (tf_body(tipo="FACTURA B", numero=999), "TFC-8004", "no existe"),
        (tf_body(tipo="FACTURA C", numero=41), "TFC-8010", "mail"),
    ],
)
async def test_tf_business_errors(
    tf: TusFacturasEmulator,
    client: httpx.AsyncClient,
    body: dict[str, Any],
    code: str,
    needle: str,
) -> None:
    response = await client.post(tf_url(tf), json=body)

    assert response.status_code == 200
    payload = response.json()
    assert payload["error"] == "S"
    assert payload["error_details"][0]["code"] == code
    assert needle in payload["errores"][0]
    assert tf.sends == []


async def test_tf_access_errors_have_no_json(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    bad_creds = tf_body() | {"apikey": "wrong"}
    answers = {
        400: await client.post(tf_url(tf), content=b"not json"),
        401: await client.post(tf_url(tf), json=bad_creds),
        405: await client.get(tf_url(tf)),
    }

    for status, response in answers.items():
        assert response.status_code == status
        assert not response.headers["content-type"].startswith("application/json")
    assert answers[401].text == "Unauthorized"


async def test_tf_lookup_with_wrong_credentials_is_401(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    body = tf_body() | {"apitoken": "wrong"}

    response = await client.post(f"{tf.base_url}/facturacion/consulta", json=body)

    assert (response.status_code, response.text) == (401, "Unauthorized")


async def test_tf_credentials_per_punto_de_venta(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    other_pv = await client.post(tf_url(tf), json=tf_body(credentials=TF_PV3))
    own_pv = await client.post(
        tf_url(tf),
        json=tf_body(
            tipo="FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A",
            punto_venta=3,
            numero=87,
            credentials=TF_PV3,
        ),
    )

    assert other_pv.status_code == 403
    assert own_pv.status_code == 200
    assert own_pv.json()["error"] == "N"


async def test_tf_rate_limit_per_second(
    tf: TusFacturasEmulator, client: httpx.AsyncClient, clock: FakeClock
) -> None:
    statuses = [(await client.post(tf_url(tf), json=tf_body())).status_code for _ in range(6)]
    clock.advance(1)
    after = await client.post(tf_url(tf), json=tf_body())

    assert statuses == [200] * 5 + [429]
    assert after.status_code == 200


# -- Faults ------------------------------------------------------------------


async def test_fault_latency_answers_after_delay(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=0.3))
    started = time.monotonic()
    response = await client.post(resend_url(lummy), headers=LUMMY_HEADERS)

    assert time.monotonic() - started >= 0.25
    assert response.status_code == 200


async def test_fault_server_error_is_html(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    tf.inject(Fault(FaultKind.SERVER_ERROR))
    response = await client.post(tf_url(tf), json=tf_body())

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == "<html><body><h1>503 Service Unavailable</h1></body></html>"
    assert len(tf.requests) == 1
    assert tf.sends == []


async def test_fault_malformed_json(tf: TusFacturasEmulator, client: httpx.AsyncClient) -> None:
    tf.inject(Fault(FaultKind.MALFORMED_JSON))
    response = await client.post(tf_url(tf), json=tf_body())

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


async def test_fault_hang_times_out_client(lummy: LummyEmulator, client: httpx.AsyncClient) -> None:
    lummy.inject(Fault(FaultKind.HANG))

    with pytest.raises(httpx.ReadTimeout):
        await client.post(resend_url(lummy), headers=LUMMY_HEADERS, timeout=0.3)
    assert len(lummy.requests) == 1
    assert lummy.sends == []


async def test_fault_reset_is_transport_error(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    lummy.inject(Fault(FaultKind.RESET, times=1))

    with pytest.raises(httpx.TransportError):
        await client.post(resend_url(lummy), headers=LUMMY_HEADERS)
    retry = await client.post(resend_url(lummy), headers=LUMMY_HEADERS)
    assert retry.status_code == 200
    assert len(lummy.sends) == 1


async def test_fault_times_and_key_scoping(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    tf.inject(Fault(FaultKind.SERVER_ERROR, status=502, times=1), key="NOTA DE DEBITO B|V|2|6")
    # Strings with leading zeros still map onto the integer key.
    targeted = await client.post(tf_url(tf), json=tf_body(punto_venta="0002", numero="00000006"))
    again = await client.post(tf_url(tf), json=tf_body())
    other = await client.post(tf_url(tf), json=tf_body(tipo="FACTURA B"))

    assert targeted.status_code == 502
    assert again.status_code == 200
    assert other.status_code == 200


async def test_fault_key_takes_precedence_and_clear(
    lummy: LummyEmulator, client: httpx.AsyncClient
) -> None:
    lummy.inject(Fault(FaultKind.SERVER_ERROR))
    lummy.inject(Fault(FaultKind.LATENCY), key=SEED_ID.upper())
    keyed = await client.post(resend_url(lummy), headers=LUMMY_HEADERS)
    unkeyed = await client.post(resend_url(lummy, OTHER_ID), headers=LUMMY_HEADERS)
    lummy.clear_faults()
    cleared = await client.post(resend_url(lummy, OTHER_ID), headers=LUMMY_HEADERS)

    assert (keyed.status_code, unkeyed.status_code, cleared.status_code) == (200, 503, 200)


async def test_stop_with_hanging_request_is_prompt(client: httpx.AsyncClient) -> None:
    arrived = asyncio.Event()

    def clock() -> datetime:  # the emulator reads it when a request is recorded
        arrived.set()
        return datetime.now(UTC)

    emulator = LummyEmulator(API_KEY, ORG_ID, clock=clock)
    await emulator.start()
    emulator.inject(Fault(FaultKind.HANG))
    pending = asyncio.create_task(
        client.post(resend_url(emulator), headers=LUMMY_HEADERS, timeout=5.0)
    )
    try:
        await asyncio.wait_for(arrived.wait(), timeout=1.0)
        started = time.monotonic()
        await emulator.stop()
        elapsed = time.monotonic() - started
    finally:
        await emulator.stop()  # idempotent; never leak a server on failure

    assert elapsed < 0.5
    with pytest.raises(httpx.TransportError):
        await asyncio.wait_for(pending, timeout=1.0)
