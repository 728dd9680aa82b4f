"""TusFacturasClient.lookup (``facturacion/consulta``) against the TusFacturas emulator over
loopback HTTP, answers in shapes nobody documented, and the lookup's own fault switches."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import httpx
import pytest

from devkit.emulators import (
    ALL_ROUTES,
    LOOKUP_ROUTE,
    Fault,
    FaultKind,
    TusFacturasEmulator,
)
from devkit.emulators import TusFacturasCredentials as EmulatorCredentials
from providers.base import InvoiceStatus
from providers.errors import NotFoundError, OutcomeUnknownError, RateLimitedError
from providers.tusfacturas.client import TusFacturasClient
from tests.providers.conftest import CannedServer, FakeClock, voucher

pytestmark = pytest.mark.timeout(10)

KEY = "3f0e9b9c-1111-4a5b-8c7d-000000000042"


async def test_tusfacturas_lookup_reads_customer_and_voucher(
    tf_emulator: TusFacturasEmulator, tf_client: TusFacturasClient
) -> None:
    facts = await tf_client.lookup(voucher())

    assert facts.exists
    assert facts.customer_name == "Panadería La Espiga S.R.L."
    assert (facts.customer_id_type, facts.customer_id) == ("CUIT", "30715432109")
    assert facts.recipients == ("compras@panaderialaespiga.com.ar",)
    assert facts.issued_on == date(2026, 11, 14)
    assert facts.total == Decimal("45230.50")
    assert facts.currency == "ARS"  # TusFacturas' PES
    assert facts.status is InvoiceStatus.ISSUED
    assert facts.pdf_url is not None
    # The same body as the re-send, to its own endpoint; nothing was e-mailed.
    [received] = tf_emulator.requests
    assert received.path == "/app/api/v2/facturacion/consulta"
    assert received.route == LOOKUP_ROUTE
    assert tf_emulator.sends == []


async def test_tusfacturas_lookup_pdf_link_works_only_on_its_day(
    tf_client: TusFacturasClient, clock: FakeClock
) -> None:
    facts = await tf_client.lookup(voucher("FACTURA C", 2, 41))
    assert facts.pdf_url is not None

    async with httpx.AsyncClient() as http:
        today = await http.get(facts.pdf_url)
        clock.advance(86_400)
        tomorrow = await http.get(facts.pdf_url)

    assert today.status_code == 200
    assert today.headers["content-type"] == "application/pdf"
    assert today.content.startswith(b"%PDF")
    assert tomorrow.status_code == 404


async def test_tusfacturas_lookup_shows_an_empty_address_book_and_pending_status(
    tf_client: TusFacturasClient,
) -> None:
    no_email = await tf_client.lookup(voucher("FACTURA B", 2, 52))
    pending = await tf_client.lookup(voucher("FACTURA A", 1, 1540))

    assert no_email.recipients == ()
    assert no_email.customer_name == "Kiosco El Trébol"
    assert pending.status is InvoiceStatus.AWAITING_APPROVAL
    assert pending.status_text == "EN COLA, ESPERANDO APROBACION"


async def test_tusfacturas_lookup_of_an_unknown_voucher_is_not_found(
    tf_client: TusFacturasClient,
) -> None:
    with pytest.raises(NotFoundError):
        await tf_client.lookup(voucher(numero=999))


async def test_a_lookup_fault_leaves_the_resend_alone_and_vice_versa(
    tf_emulator: TusFacturasEmulator, tf_client: TusFacturasClient
) -> None:
    tf_emulator.inject(Fault(FaultKind.SERVER_ERROR), route=LOOKUP_ROUTE)

    with pytest.raises(OutcomeUnknownError):
        await tf_client.lookup(voucher())
    result = await tf_client.resend(voucher(), idempotency_key=KEY)

    assert result.recipients == ("compras@panaderialaespiga.com.ar",)
    tf_emulator.clear_faults()
    tf_emulator.inject(Fault(FaultKind.SERVER_ERROR, times=1))  # the re-send route, by default
    assert (await tf_client.lookup(voucher())).exists
    with pytest.raises(OutcomeUnknownError):
        await tf_client.resend(voucher(), idempotency_key=KEY)
    tf_emulator.inject(Fault(FaultKind.SERVER_ERROR, times=2), route=ALL_ROUTES)
    with pytest.raises(OutcomeUnknownError):
        await tf_client.lookup(voucher())
    with pytest.raises(OutcomeUnknownError):
        await tf_client.resend(voucher(), idempotency_key=KEY)


async def test_tusfacturas_429_is_a_throttle_worth_retrying(
    make_tf_client: Callable[..., TusFacturasClient], clock: FakeClock
) -> None:
    creds = EmulatorCredentials("k", "t", "u")
    async with TusFacturasEmulator([creds], clock=clock, requests_per_second=1) as emulator:
        client = make_tf_client(emulator.base_url, default=creds, by_punto_venta={})
        await client.lookup(voucher())
        with pytest.raises(RateLimitedError) as info:
            await client.resend(voucher(), idempotency_key=KEY)

    assert info.value.throttled
    assert info.value.offers_retry
    assert emulator.sends == []


async def test_tusfacturas_lookup_tolerates_missing_and_odd_fields(
    canned: CannedServer, make_tf_client: Callable[..., TusFacturasClient]
) -> None:
    canned.reply(
        200,
        {
            "error": "N",
            "cliente": {"razon_social": "  Cliente  ", "email": "a@x.com; b@x.com"},
            "comprobante": {"fecha": "2026-11-14", "total": "1210,5", "status": "ANULADO"},
        },
    )
    facts = await make_tf_client(canned.base_url).lookup(voucher())

    assert facts.customer_name == "Cliente"
    assert facts.recipients == ("a@x.com", "b@x.com")
    assert facts.issued_on is None  # not dd/mm/aaaa
    assert facts.total == Decimal("1210.5")
    assert facts.status is InvoiceStatus.CANCELLED
    assert facts.pdf_url is None
