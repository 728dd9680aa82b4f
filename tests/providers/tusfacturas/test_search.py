"""TusFacturasClient.search against the TusFacturas emulator over loopback HTTP: by CUIT
(the customer's account) and by date (the advanced search, paged), from every credential
set, spaced per set, throttles tried again; and answers in shapes nobody documented."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from devkit.emulators import (
    CONSULTA_AVANZADA_ROUTE,
    CUENTA_CORRIENTE_ROUTE,
    Fault,
    FaultKind,
    TusFacturasEmulator,
    VoucherKey,
    VoucherRecord,
    page_key,
)
from devkit.emulators import TusFacturasCredentials as EmulatorCredentials
from providers.base import PaymentStatus
from providers.customers import CustomerQuery, SearchKind
from providers.errors import (
    AuthenticationError,
    OutcomeUnknownError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    RejectedError,
)
from providers.http import HttpOptions
from providers.search import Customer, SearchClient
from providers.tusfacturas.client import TusFacturasClient
from providers.tusfacturas.provider import TUSFACTURAS
from tests.providers.conftest import TF_ALL, TF_PV3, CannedServer, FakeClock, voucher

pytestmark = pytest.mark.timeout(10)

MakeClient = Callable[..., TusFacturasClient]
FERRETERIA = "30712345671"
FERRETERIA_NAME = "Ferretería Industrial Norte S.A."
BY_CUIT = CustomerQuery(SearchKind.CUIT, FERRETERIA)
DAY = date(2026, 11, 10)
BY_DAY = CustomerQuery(SearchKind.DATE, DAY.isoformat())


def pages_asked(emulator: TusFacturasEmulator, creds: EmulatorCredentials) -> list[int]:
    """The ``pagina`` of each advanced search the emulator got from ``creds``, in order."""
    return [
        r.json["pagina"]
        for r in emulator.requests
        if r.route == CONSULTA_AVANZADA_ROUTE
        and isinstance(r.json, dict)
        and r.json.get("apikey") == creds.apikey
    ]


def busy_day() -> dict[VoucherKey, VoucherRecord]:
    """Seven vouchers on `DAY` (three on punto de venta 3) and one the day before."""
    on_day = [("FACTURA B", 2, n) for n in (10, 11, 12, 13)] + [
        ("FACTURA A", 3, n) for n in (1, 2, 3)
    ]
    vouchers = {
        (tipo, "V", pv, n): VoucherRecord(
            ("cliente@ejemplo.com.ar",), issued_on=DAY, total=f"{n}000.00", ctacte_status="PAGADA"
        )
        for tipo, pv, n in on_day
    }
    vouchers[("FACTURA B", "V", 2, 9)] = VoucherRecord((), issued_on=DAY - timedelta(days=1))
    return vouchers


EXPECTED_DAY = [
    "FACTURA A 0003-00000003",
    "FACTURA A 0003-00000002",
    "FACTURA A 0003-00000001",
    "FACTURA B 0002-00000013",
    "FACTURA B 0002-00000012",
    "FACTURA B 0002-00000011",
    "FACTURA B 0002-00000010",
]


# -- by CUIT ------------------------------------------------------------------------


def test_tusfacturas_declares_its_searches() -> None:
    assert TUSFACTURAS.searches == frozenset({SearchKind.CUIT, SearchKind.DATE})
    assert TUSFACTURAS.tax_id is SearchKind.CUIT


async def test_a_cuit_lists_the_customers_vouchers_newest_first(
    tf_emulator: TusFacturasEmulator, tf_client: TusFacturasClient
) -> None:
    client: SearchClient = tf_client
    result = await client.search(BY_CUIT)

    assert (result.provider, result.query, result.lists_invoices) == ("tusfacturas", BY_CUIT, True)
    assert not result.truncated
    rows = [(f.reference, f.issued_on, f.total, f.payment) for f in result.invoices]
    assert rows == [
        ("FACTURA A 0002-00000131", date(2026, 11, 14), Decimal("76300.00"), PaymentStatus.UNPAID),
        ("FACTURA A 0003-00000045", date(2026, 11, 3), Decimal("210000.00"), PaymentStatus.UNPAID),
        ("NOTA DE CREDITO A 0002-00000009", date(2026, 10, 15), Decimal("12000.00"), None),
        ("FACTURA A 0002-00000118", date(2026, 10, 7), Decimal("98500.00"), PaymentStatus.PARTIAL),
        ("FACTURA A 0002-00000101", date(2026, 9, 5), Decimal("150000.00"), PaymentStatus.PAID),
    ]
    for facts in result.invoices:
        assert (facts.customer_name, facts.customer_id_type) == (FERRETERIA_NAME, "CUIT")
        assert facts.customer_id == FERRETERIA
        # Each reference reads back into the voucher a re-send takes.
        assert TUSFACTURAS.parse(facts.reference).reference == facts.reference
    assert result.customers == (
        Customer(
            provider="tusfacturas", name=FERRETERIA_NAME, tax_id_type="CUIT", tax_id=FERRETERIA
        ),
    )
    assert result.searched_in == ("2", "3")
    # Both credential sets were asked (the account is the company's: same lines twice).
    asked = tf_emulator.calls_by_credentials(CUENTA_CORRIENTE_ROUTE)
    assert {key: len(calls) for key, calls in asked.items()} == {TF_ALL.apikey: 1, TF_PV3.apikey: 1}
    bodies = [r.json for r in tf_emulator.requests]
    assert all(
        b["cliente"] == {"documento_tipo": "CUIT", "documento_nro": FERRETERIA} for b in bodies
    )
    assert tf_emulator.sends == []


async def test_one_credential_set_shared_by_several_puntos_de_venta_is_asked_once(
    tf_emulator: TusFacturasEmulator, make_tf_client: MakeClient
) -> None:
    client = make_tf_client(
        tf_emulator.base_url, default=TF_ALL, by_punto_venta={2: TF_ALL, 5: TF_ALL}
    )

    result = await client.search(BY_CUIT)

    assert len(result.invoices) == 5
    assert len(tf_emulator.requests) == 1
    assert result.searched_in == ("2", "3", "5")


async def test_a_cuit_nobody_has_finds_nothing_and_is_not_an_error(
    tf_client: TusFacturasClient,
) -> None:
    result = await tf_client.search(CustomerQuery(SearchKind.CUIT, "30712293841"))

    assert (result.invoices, result.customers) == ((), ())
    assert result.lists_invoices
    assert result.searched_in == ("3",)


async def test_wrong_credentials_fail_the_search(
    tf_emulator: TusFacturasEmulator, make_tf_client: MakeClient
) -> None:
    wrong = EmulatorCredentials(TF_ALL.apikey, "wrong", TF_ALL.usertoken)
    client = make_tf_client(tf_emulator.base_url, default=wrong, by_punto_venta={3: TF_PV3})

    with pytest.raises(AuthenticationError):
        await client.search(BY_CUIT)
    with pytest.raises(AuthenticationError):
        await client.search(BY_DAY)


async def test_a_failing_server_is_unavailable_and_one_failing_set_fails_the_search(
    tf_emulator: TusFacturasEmulator, tf_client: TusFacturasClient
) -> None:
    tf_emulator.inject(Fault(FaultKind.SERVER_ERROR), route=CUENTA_CORRIENTE_ROUTE)
    with pytest.raises(ProviderUnavailableError) as info:
        await tf_client.search(BY_CUIT)
    assert info.value.status_code == 503

    tf_emulator.clear_faults()
    tf_emulator.inject(
        Fault(FaultKind.SERVER_ERROR, status=502, times=1), route=CUENTA_CORRIENTE_ROUTE
    )
    with pytest.raises(ProviderUnavailableError):
        await tf_client.search(BY_CUIT)


async def test_a_lookup_reads_where_the_voucher_stands_in_the_account(
    tf_client: TusFacturasClient,
) -> None:
    partial = await tf_client.lookup(voucher("FACTURA A", 2, 118))
    paid = await tf_client.lookup(voucher("FACTURA A", 2, 101))

    assert (partial.payment, paid.payment) == (PaymentStatus.PARTIAL, PaymentStatus.PAID)


# -- by date ------------------------------------------------------------------------


async def test_a_date_reads_every_page_of_every_credential_set(
    make_tf_client: MakeClient, clock: FakeClock
) -> None:
    async with TusFacturasEmulator(
        [TF_ALL, TF_PV3], busy_day(), clock=clock, requests_per_second=10_000
    ) as emulator:
        client = make_tf_client(emulator.base_url)
        client.search_page_size = 2
        result = await client.search(BY_DAY)

    assert [f.reference for f in result.invoices] == EXPECTED_DAY
    assert all(f.issued_on == DAY and f.payment is PaymentStatus.PAID for f in result.invoices)
    assert result.invoices[0].customer_name == "Consumidor Final"
    assert result.invoices[0].pdf_url is not None  # mapped as the lookup maps its answer
    assert not result.truncated
    assert result.searched_in == ("2", "3")
    # The default set sees both puntos de venta (4 pages of 2), the set for 3 its own (2).
    assert pages_asked(emulator, TF_ALL) == [0, 1, 2, 3]
    assert pages_asked(emulator, TF_PV3) == [0, 1]
    first = emulator.requests[0].json
    assert isinstance(first, dict)
    assert first["busqueda_tipo"] == "F"
    assert first["comprobante"] == {"fecha": "10/11/2026", "operacion": "V"}
    assert first["limite"] == 2


async def test_a_date_stops_at_the_cap_and_says_the_result_is_truncated(
    make_tf_client: MakeClient, clock: FakeClock
) -> None:
    async with TusFacturasEmulator(
        [TF_ALL], busy_day(), clock=clock, requests_per_second=10_000
    ) as emulator:
        client = make_tf_client(emulator.base_url, by_punto_venta={})
        client.search_page_size, client.search_cap = 2, 3
        result = await client.search(BY_DAY)

    assert [f.reference for f in result.invoices] == EXPECTED_DAY[:3]
    assert result.truncated
    assert pages_asked(emulator, TF_ALL) == [0, 1]


async def test_a_day_without_vouchers_is_an_empty_result(tf_client: TusFacturasClient) -> None:
    result = await tf_client.search(CustomerQuery(SearchKind.DATE, "2026-01-02"))

    assert (result.invoices, result.truncated, result.lists_invoices) == ((), False, True)
    assert result.searched_in == ("3",)


async def test_calls_of_one_credential_set_are_spaced_at_least_100_ms(
    make_tf_client: MakeClient,
) -> None:
    # The emulator's own clock: arrival times are real.
    async with TusFacturasEmulator(
        [TF_ALL, TF_PV3], busy_day(), requests_per_second=10_000
    ) as emulator:
        client = make_tf_client(emulator.base_url)
        client.search_page_size = 2
        await client.search(BY_DAY)
        await client.search(BY_CUIT)
        calls = emulator.calls_by_credentials()

    assert {key: len(times) for key, times in calls.items()} == {
        TF_ALL.apikey: 5,
        TF_PV3.apikey: 3,
    }
    for times in calls.values():
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert min(gaps) >= timedelta(milliseconds=100), gaps
    # The two sets are paced apart, not one after the other.
    assert calls[TF_PV3.apikey][0] - calls[TF_ALL.apikey][0] < timedelta(milliseconds=100)


async def test_a_throttled_page_is_asked_again_and_nothing_is_lost_or_doubled(
    make_tf_client: MakeClient, clock: FakeClock
) -> None:
    async with TusFacturasEmulator(
        [TF_ALL, TF_PV3], busy_day(), clock=clock, requests_per_second=10_000
    ) as emulator:
        emulator.inject(
            Fault(FaultKind.SERVER_ERROR, status=429, times=2),
            key=page_key("F", 2),
            route=CONSULTA_AVANZADA_ROUTE,
        )
        client = make_tf_client(emulator.base_url, by_punto_venta={})
        client.search_page_size = 2
        result = await client.search(BY_DAY)

    assert [f.reference for f in result.invoices] == EXPECTED_DAY
    assert pages_asked(emulator, TF_ALL) == [0, 1, 2, 2, 2, 3]


async def test_a_throttle_that_lasts_gives_up_after_three_tries(
    tf_emulator: TusFacturasEmulator, make_tf_client: MakeClient
) -> None:
    tf_emulator.inject(Fault(FaultKind.SERVER_ERROR, status=429), route=CUENTA_CORRIENTE_ROUTE)
    client = make_tf_client(tf_emulator.base_url, by_punto_venta={})

    with pytest.raises(RateLimitedError) as info:
        await client.search(BY_CUIT)

    assert info.value.throttled
    assert len(tf_emulator.requests) == 3


# -- answers nobody documented ------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"error": "S", "errores": ["No existe un cliente con ese documento."]},
        {"error": "S", "errores": ["Sin resultados para la busqueda."]},
        {
            "error": "S",
            "errores": [],
            "error_details": [{"code": "X", "text": "No hay comprobantes"}],
        },
        {"error": "N"},
        {"error": "N", "resultados": "ninguno", "comprobantes": None},
    ],
)
async def test_an_answer_that_found_nothing_is_an_empty_result(
    canned: CannedServer, make_tf_client: MakeClient, body: dict[str, Any]
) -> None:
    canned.reply(200, body)
    client = make_tf_client(canned.base_url, by_punto_venta={})

    by_cuit = await client.search(BY_CUIT)
    by_day = await client.search(BY_DAY)

    assert by_cuit.invoices == by_day.invoices == ()
    assert len(canned.requests) == 2


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (200, {"error": "S", "errores": ["El apitoken no es valido."]}, AuthenticationError),
        (200, {"error": "S", "errores": ["El campo fecha es obligatorio."]}, RejectedError),
        (200, {"resultados": []}, ProviderUnavailableError),
        (200, "<html>mantenimiento</html>", ProviderUnavailableError),
        (200, [1, 2], ProviderUnavailableError),
        (504, "", ProviderUnavailableError),
        (404, "Not Found", AuthenticationError),
    ],
)
async def test_a_search_failure_is_never_outcome_unknown(
    canned: CannedServer,
    make_tf_client: MakeClient,
    status: int,
    body: Any,
    error: type[ProviderError],
) -> None:
    canned.reply(status, body)
    client = make_tf_client(canned.base_url, by_punto_venta={})

    for query in (BY_CUIT, BY_DAY):
        with pytest.raises(error) as info:
            await client.search(query)
        assert not isinstance(info.value, OutcomeUnknownError)


async def test_a_search_without_an_answer_in_time_is_unavailable(
    canned: CannedServer, make_tf_client: MakeClient, hang_options: HttpOptions
) -> None:
    canned.reply(200, {"error": "N"}, delay=2.0)
    client = make_tf_client(canned.base_url, by_punto_venta={}, http_options=hang_options)

    with pytest.raises(ProviderUnavailableError):
        await client.search(BY_DAY)


async def test_lines_and_items_that_name_no_voucher_are_left_out(
    canned: CannedServer, make_tf_client: MakeClient
) -> None:
    line = {"fecha": "03/11/2026", "debe": "100.00", "haber": "0.00"}
    canned.reply(
        200,
        {
            "error": "N",
            "resultados": [
                "not a line",
                line | {"concepto": "COBRANZA (ACME S.A.)"},
                line | {"concepto": "SALDO INICIAL"},
                line | {"concepto": "FACTURA Z 0002-00000001 (ACME S.A.)"},
                line
                | {
                    "concepto": "FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A 0003-00000087 "
                    "(ACME (Sucursal 2-3) S.A.)",
                    "resta_abonar_de_este_comprobante": "100",
                },
                {"concepto": "FACTURA B 0002-00000007 (ACME S.A.)", "fecha": "ayer"},
            ],
        },
    )
    client = make_tf_client(canned.base_url, by_punto_venta={})

    result = await client.search(BY_CUIT)

    fce, bare = result.invoices
    assert fce.reference == "FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A 0003-00000087"
    assert fce.customer_name == "ACME (Sucursal 2-3) S.A."
    assert (fce.total, fce.payment, fce.issued_on) == (
        Decimal("100.00"),
        PaymentStatus.UNPAID,
        date(2026, 11, 3),
    )
    # A line in a shape nobody documented gives what it can.
    assert bare.reference == "FACTURA B 0002-00000007"
    assert (bare.issued_on, bare.total, bare.payment) == (None, None, None)
    assert result.customers[0].name == "ACME (Sucursal 2-3) S.A."


async def test_other_kinds_are_not_listed_and_ask_nothing(
    canned: CannedServer, make_tf_client: MakeClient
) -> None:
    client = make_tf_client(canned.base_url)

    result = await client.search(CustomerQuery(SearchKind.EMAIL, "compras@ejemplo.com.ar"))

    assert (result.invoices, result.lists_invoices) == ((), False)
    assert canned.requests == []
