"""LummyClient.lookup (``GET invoices/{id}``) against the Lummy emulator over loopback HTTP,
and answers in the shapes its documentation leaves open."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

import pytest

from devkit.emulators import (
    LOOKUP_ROUTE,
    LummyEmulator,
)
from providers.base import InvoiceStatus
from providers.errors import NotFoundError
from providers.lummy.client import LummyClient
from providers.lummy.model import LummyInvoice

if TYPE_CHECKING:
    from tests.providers.conftest import CannedServer

pytestmark = pytest.mark.timeout(10)

SEED_LUMMY = UUID("550e8400-e29b-41d4-a716-446655440000")


async def test_lummy_lookup_reads_the_assumed_shape(
    lummy_emulator: LummyEmulator, lummy_client: LummyClient
) -> None:
    facts = await lummy_client.lookup(LummyInvoice(invoice_id=SEED_LUMMY))

    assert facts.display_number == "A-1234"
    assert facts.customer_name == "Empresa Demo S.A. de C.V."
    assert (facts.customer_id_type, facts.customer_id) == ("RFC", "EDE010101AB1")
    assert facts.recipients == ("cliente@empresa.com",)
    assert facts.total == Decimal("11600.0")
    assert facts.currency == "MXN"
    assert facts.status is InvoiceStatus.ISSUED
    [received] = lummy_emulator.requests
    assert (received.method, received.route) == ("GET", LOOKUP_ROUTE)
    assert received.header("x-api-key") is not None
    assert lummy_emulator.sends == []


async def test_lummy_lookup_of_an_unknown_invoice_is_not_found(lummy_client: LummyClient) -> None:
    with pytest.raises(NotFoundError):
        await lummy_client.lookup(LummyInvoice(invoice_id=UUID(int=1)))


@pytest.mark.parametrize(
    "body",
    [
        {"requestId": "r", "data": None},
        {"requestId": "r", "data": ["unexpected"]},
        {"requestId": "r", "data": {"cfdiUuid": "X", "total": {"amount": 1}, "customer": "Ana"}},
        {"requestId": "r"},
        ["not", "an", "envelope"],
    ],
)
async def test_lummy_lookup_of_an_unknown_shape_gives_empty_facts(
    canned: CannedServer, make_lummy_client: Callable[..., LummyClient], body: object
) -> None:
    canned.reply(200, body)

    facts = await make_lummy_client(canned.base_url).lookup(LummyInvoice(invoice_id=SEED_LUMMY))

    assert facts.exists
    assert facts.is_empty


async def test_lummy_lookup_reads_a_nested_invoice_and_spanish_names(
    canned: CannedServer, make_lummy_client: Callable[..., LummyClient]
) -> None:
    canned.reply(
        200,
        {
            "data": {
                "invoice": {
                    "folio": 77,
                    "receptor": {"nombre": "Tacos El Güero", "email": "pagos@tacos.mx"},
                    "fecha": "2026-11-02",
                    "status": "cancelada",
                }
            }
        },
    )

    facts = await make_lummy_client(canned.base_url).lookup(LummyInvoice(invoice_id=SEED_LUMMY))

    assert facts.display_number == "77"
    assert facts.customer_name == "Tacos El Güero"
    assert facts.recipients == ("pagos@tacos.mx",)
    assert facts.issued_on == date(2026, 11, 2)
    assert facts.status is InvoiceStatus.CANCELLED
