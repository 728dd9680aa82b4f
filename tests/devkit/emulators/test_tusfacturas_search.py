"""The TusFacturas emulator's searches, over loopback HTTP with httpx: the customer's
account (``clientes/cuenta-corriente``) and the advanced search
(``facturacion/consulta_avanzada``), their refusals, paging and faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from devkit.emulators import (
    CONSULTA_AVANZADA_ROUTE,
    CUENTA_CORRIENTE_ROUTE,
    DEFAULT_TUSFACTURAS_VOUCHERS,
    LOOKUP_ROUTE,
    Fault,
    FaultKind,
    TusFacturasCredentials,
    TusFacturasEmulator,
    VoucherKey,
    VoucherRecord,
    page_key,
)
from providers.customers import cuit_check_digit

pytestmark = pytest.mark.timeout(10)

TF_ALL = TusFacturasCredentials("key-all", "tok-all", "user-all")
TF_PV3 = TusFacturasCredentials("key-pv3", "tok-pv3", "user-pv3", punto_venta=3)
FERRETERIA = "30712345671"
FERRETERIA_NAME = "Ferretería Industrial Norte S.A."


class FakeClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.current


@pytest.fixture
async def tf() -> AsyncIterator[TusFacturasEmulator]:
    async with TusFacturasEmulator(
        [TF_ALL, TF_PV3], clock=FakeClock(), requests_per_second=10_000
    ) as emulator:
        yield emulator


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=2.0) as http:
        yield http


def credentials(creds: TusFacturasCredentials) -> dict[str, str]:
    return {"apikey": creds.apikey, "apitoken": creds.apitoken, "usertoken": creds.usertoken}


async def account(
    tf: TusFacturasEmulator,
    client: httpx.AsyncClient,
    cliente: Any,
    creds: TusFacturasCredentials = TF_ALL,
) -> httpx.Response:
    body = credentials(creds) | {"cliente": cliente}
    return await client.post(f"{tf.base_url}/clientes/cuenta-corriente", json=body)


async def advanced(
    tf: TusFacturasEmulator,
    client: httpx.AsyncClient,
    creds: TusFacturasCredentials = TF_ALL,
    **fields: Any,
) -> httpx.Response:
    body = credentials(creds) | fields
    return await client.post(f"{tf.base_url}/facturacion/consulta_avanzada", json=body)


def by_date(day: str, **fields: Any) -> dict[str, Any]:
    return {"busqueda_tipo": "F", "comprobante": {"fecha": day, "operacion": "V"}, **fields}


def numbers_of(answer: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (
            item["comprobante"]["tipo"],
            item["comprobante"]["punto_venta"],
            item["comprobante"]["numero"],
        )
        for item in answer["comprobantes"]
    ]


# -- the customers ------------------------------------------------------------------


def test_every_emulated_cuit_has_a_valid_check_digit() -> None:
    cuits = {
        record.document_number
        for record in DEFAULT_TUSFACTURAS_VOUCHERS.values()
        if record.document_type == "CUIT"
    } | {VoucherRecord(()).document_number}

    assert "30715432109" in cuits  # Panadería La Espiga
    assert FERRETERIA in cuits
    for cuit in cuits:
        assert cuit_check_digit(cuit[:10]) == int(cuit[10]), cuit


# -- cuenta corriente ---------------------------------------------------------------


async def test_the_account_lists_the_customers_vouchers_as_a_statement(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    response = await account(tf, client, {"documento_tipo": "CUIT", "documento_nro": FERRETERIA})

    assert response.status_code == 200
    body = response.json()
    assert (body["error"], body["errores"]) == ("N", [])
    assert all(line["concepto"].endswith(f" ({FERRETERIA_NAME})") for line in body["resultados"])
    lines = [
        " | ".join(
            (
                line["fecha"],
                line["concepto"].removesuffix(f" ({FERRETERIA_NAME})"),
                line["debe"],
                line["haber"],
                line["resta_abonar_de_este_comprobante"],
                line["saldo"],
            )
        )
        for line in body["resultados"]
    ]
    assert lines == [
        "05/09/2026 | FACTURA A 0002-00000101 | 150000.00 | 0.00 | 0.00 | 150000.00",
        "12/09/2026 | COBRANZA | 0.00 | 150000.00 | 0.00 | 0.00",
        "07/10/2026 | FACTURA A 0002-00000118 | 98500.00 | 0.00 | 48500.00 | 98500.00",
        "14/10/2026 | COBRANZA | 0.00 | 50000.00 | 0.00 | 48500.00",
        "15/10/2026 | NOTA DE CREDITO A 0002-00000009 | 0.00 | 12000.00 | 0.00 | 36500.00",
        "03/11/2026 | FACTURA A 0003-00000045 | 210000.00 | 0.00 | 210000.00 | 246500.00",
        "14/11/2026 | FACTURA A 0002-00000131 | 76300.00 | 0.00 | 76300.00 | 322800.00",
    ]


async def test_the_account_is_the_companys_whatever_the_punto_de_venta(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    cliente = {"documento_tipo": "CUIT", "documento_nro": FERRETERIA}
    everywhere = await account(tf, client, cliente)
    from_pv3 = await account(tf, client, cliente, creds=TF_PV3)

    assert from_pv3.json()["resultados"] == everywhere.json()["resultados"]
    assert [r.route for r in tf.requests] == [CUENTA_CORRIENTE_ROUTE] * 2


@pytest.mark.parametrize(
    ("cliente", "codes"),
    [
        (None, ["TFC-1201"]),
        ({"documento_tipo": "PASAPORTE", "documento_nro": FERRETERIA}, ["TFC-1202"]),
        ({"documento_tipo": "CUIT", "documento_nro": "30-71234567-1"}, ["TFC-1203"]),
        ({"documento_tipo": "CUIT", "documento_nro": "30712345672"}, ["TFC-1203"]),
        ({"documento_tipo": "CUIT", "documento_nro": 30712345671}, ["TFC-1203"]),
        ({"documento_tipo": "CUIT", "documento_nro": "30712293841"}, ["TFC-8020"]),
    ],
)
async def test_the_account_refuses_bad_input_and_unknown_customers(
    tf: TusFacturasEmulator, client: httpx.AsyncClient, cliente: Any, codes: list[str]
) -> None:
    response = await account(tf, client, cliente)

    assert response.status_code == 200
    body = response.json()
    assert body["error"] == "S"
    assert [detail["code"] for detail in body["error_details"]] == codes
    assert body["errores"]
    assert "resultados" not in body


async def test_the_account_with_wrong_credentials_is_401_without_json(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    wrong = TusFacturasCredentials("key-all", "wrong", "user-all")
    response = await account(
        tf, client, {"documento_tipo": "CUIT", "documento_nro": FERRETERIA}, wrong
    )

    assert (response.status_code, response.text) == (401, "Unauthorized")


# -- consulta avanzada --------------------------------------------------------------


async def test_a_search_by_date_answers_items_shaped_like_the_lookup_newest_first(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    found = (await advanced(tf, client, **by_date("14/11/2026"))).json()
    lookup = (
        await client.post(
            f"{tf.base_url}/facturacion/consulta",
            json=credentials(TF_ALL)
            | {
                "comprobante": {
                    "tipo": "FACTURA B",
                    "operacion": "V",
                    "punto_venta": "2",
                    "numero": "6",
                }
            },
        )
    ).json()

    assert (found["error"], found["errores"], found["total"]) == ("N", [], 2)
    assert numbers_of(found) == [("FACTURA A", "2", "131"), ("FACTURA B", "2", "6")]
    [ferreteria, panaderia] = found["comprobantes"]
    assert set(panaderia) == {"cliente", "comprobante"}
    assert panaderia["cliente"] == lookup["cliente"]
    assert panaderia["comprobante"] == lookup["comprobante"]
    assert ferreteria["cliente"]["documento_nro"] == FERRETERIA
    assert ferreteria["comprobante"]["fecha"] == "14/11/2026"


async def test_a_search_answers_only_the_credentials_punto_de_venta(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    everywhere = (await advanced(tf, client, **by_date("03/11/2026"))).json()
    on_pv3 = (await advanced(tf, client, TF_PV3, **by_date("03/11/2026"))).json()
    elsewhere = (await advanced(tf, client, TF_PV3, **by_date("14/11/2026"))).json()

    assert numbers_of(everywhere) == numbers_of(on_pv3) == [("FACTURA A", "3", "45")]
    assert (elsewhere["error"], elsewhere["total"], elsewhere["comprobantes"]) == ("N", 0, [])


def _same_day(count: int) -> dict[VoucherKey, VoucherRecord]:
    return {
        ("FACTURA B", "V", 2, numero): VoucherRecord(
            ("cliente@ejemplo.com.ar",), issued_on=date(2026, 11, 10), total=f"{numero}00.00"
        )
        for numero in range(1, count + 1)
    }


async def test_a_search_pages_by_limite_from_pagina_0(client: httpx.AsyncClient) -> None:
    vouchers = _same_day(5) | {
        ("FACTURA B", "V", 2, 99): VoucherRecord((), issued_on=date(2026, 11, 9))
    }
    async with TusFacturasEmulator([TF_ALL], vouchers, clock=FakeClock()) as tf:
        pages = [
            (await advanced(tf, client, **by_date("10/11/2026", pagina=n, limite=2))).json()
            for n in range(4)
        ]

    assert [page["total"] for page in pages] == [5, 5, 5, 5]
    assert [[int(n) for _, _, n in numbers_of(page)] for page in pages] == [
        [5, 4],
        [3, 2],
        [1],
        [],
    ]


async def test_a_search_by_numbers_takes_a_range(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    comprobante = {
        "tipo": "FACTURA A",
        "operacion": "V",
        "punto_venta": "2",
        "numero_desde": "100",
        "numero_hasta": "120",
    }
    found = (await advanced(tf, client, busqueda_tipo="TN", comprobante=comprobante)).json()

    assert found["total"] == 2
    assert numbers_of(found) == [("FACTURA A", "2", "118"), ("FACTURA A", "2", "101")]


@pytest.mark.parametrize(
    ("fields", "codes"),
    [
        ({"busqueda_tipo": "X"}, ["TFC-1101"]),
        (by_date("14/11/2026", limite=1001), ["TFC-1103"]),
        (by_date("14/11/2026", limite=0, pagina=-1), ["TFC-1102", "TFC-1103"]),
        (by_date("2026-11-14"), ["TFC-1104"]),
        ({"busqueda_tipo": "F", "comprobante": {"fecha": "14/11/2026"}}, ["TFC-1003"]),
        (
            {"busqueda_tipo": "TN", "comprobante": {"operacion": "V"}},
            ["TFC-1002", "TFC-1004", "TFC-1005"],
        ),
        ({"busqueda_tipo": "EXT_REF", "operacion": "V"}, ["TFC-1105"]),
    ],
)
async def test_a_search_refuses_bad_input_with_error_s(
    tf: TusFacturasEmulator, client: httpx.AsyncClient, fields: dict[str, Any], codes: list[str]
) -> None:
    body = (await advanced(tf, client, **fields)).json()

    assert body["error"] == "S"
    assert [detail["code"] for detail in body["error_details"]] == codes
    assert "comprobantes" not in body


async def test_a_search_by_external_reference_finds_nothing(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    fields = {"busqueda_tipo": "EXT_REF", "external_reference": "pedido-1", "operacion": "V"}
    body = (await advanced(tf, client, **fields)).json()

    assert (body["error"], body["total"], body["comprobantes"]) == ("N", 0, [])


# -- faults and recorded calls ------------------------------------------------------


async def test_search_faults_are_scoped_to_their_route_and_page(
    tf: TusFacturasEmulator, client: httpx.AsyncClient
) -> None:
    tf.inject(
        Fault(FaultKind.SERVER_ERROR, status=429, times=1),
        key=page_key("F", 1),
        route=CONSULTA_AVANZADA_ROUTE,
    )
    tf.inject(Fault(FaultKind.SERVER_ERROR), route=CUENTA_CORRIENTE_ROUTE)

    first = await advanced(tf, client, **by_date("14/11/2026", pagina=0, limite=1))
    throttled = await advanced(tf, client, **by_date("14/11/2026", pagina=1, limite=1))
    again = await advanced(tf, client, **by_date("14/11/2026", pagina=1, limite=1))
    failed = await account(tf, client, {"documento_tipo": "CUIT", "documento_nro": FERRETERIA})
    lookup = await client.post(
        f"{tf.base_url}/facturacion/consulta",
        json=credentials(TF_ALL)
        | {"comprobante": {"tipo": "FACTURA B", "operacion": "V", "punto_venta": 2, "numero": 6}},
    )

    assert [first.status_code, throttled.status_code, again.status_code] == [200, 429, 200]
    assert numbers_of(again.json()) == [("FACTURA B", "2", "6")]
    assert failed.status_code == 503
    assert lookup.status_code == 200
    assert [r.route for r in tf.requests][-1] == LOOKUP_ROUTE
    # A document number is the key of an account's faults.
    tf.clear_faults()
    tf.inject(Fault(FaultKind.SERVER_ERROR), key=FERRETERIA, route=CUENTA_CORRIENTE_ROUTE)
    other = await account(tf, client, {"documento_tipo": "CUIT", "documento_nro": "30715432109"})
    assert other.status_code == 200
    assert (
        await account(tf, client, {"documento_tipo": "CUIT", "documento_nro": FERRETERIA})
    ).status_code == 503


async def test_calls_are_recorded_per_credential_set_with_their_times(
    client: httpx.AsyncClient,
) -> None:
    async with TusFacturasEmulator([TF_ALL, TF_PV3], requests_per_second=10_000) as tf:
        await advanced(tf, client, **by_date("14/11/2026"))
        await advanced(tf, client, TF_PV3, **by_date("14/11/2026"))
        await asyncio.sleep(0.05)
        await advanced(tf, client, **by_date("14/11/2026"))
        await account(tf, client, {"documento_tipo": "CUIT", "documento_nro": FERRETERIA})

        searches = tf.calls_by_credentials(CONSULTA_AVANZADA_ROUTE)
        every = tf.calls_by_credentials()

    assert set(searches) == {TF_ALL.apikey, TF_PV3.apikey}
    first, second = searches[TF_ALL.apikey]
    assert second - first >= timedelta(seconds=0.05)
    assert len(searches[TF_PV3.apikey]) == 1
    assert len(every[TF_ALL.apikey]) == 3
