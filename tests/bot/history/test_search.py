"""Finding an invoice in the history from what a customer quotes.

Against both real backends (`tests.bot.history.conftest`): the same history, the
same customer texts read by `read_customer_query`, the same answers. The columns
searched are filled the way the pipeline fills them (`invoice_columns` of a
lookup's facts).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from bot.history.invoices import display_key, invoice_columns, name_key, tax_id_key
from bot.history.records import AttemptRecord, amount_text
from bot.history.store import HistoryStore
from providers.base import InvoiceFacts
from providers.customers import CustomerQuery, Month, SearchKind, read_customer_query

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
TODAY = date(2026, 3, 15)
BOUND = 12.0
INVOICE_COLUMNS = (
    "customer_name",
    "customer_key",
    "customer_tax_id",
    "issued_on",
    "total",
    "currency",
    "display_number",
)

#: What lookups said about the invoices of the history below.
ESTA = InvoiceFacts(
    provider="lummy",
    reference="inv-esta",
    customer_name="Ésta Empresa S.A. de C.V.",
    customer_id_type="RFC",
    customer_id="EDE-010101-AB1",
    issued_on=date(2026, 2, 10),
    total=Decimal("11600.00"),
    currency="mxn",
    display_number="a-001234",
)
NANDU_NOV = InvoiceFacts(
    provider="tusfacturas",
    reference="FACTURA A|V|1|10",
    customer_name="Panadería Ñandú SRL",
    customer_id_type="CUIT",
    customer_id="30-71234567-1",
    issued_on=date(2025, 11, 20),
    total=Decimal("138900.50"),
    currency="ARS",
)
NANDU_FEB = NANDU_NOV.model_copy(
    update={"reference": "FACTURA A|V|1|42", "issued_on": date(2026, 2, 3), "total": Decimal(1210)}
)
OTRA = InvoiceFacts(
    provider="lummy",
    reference="inv-otra",
    customer_name="Otra Empresa",
    customer_id="OEM990101ZZ9",
    issued_on=date(2026, 2, 10),
    total=Decimal("500"),
    display_number="B-77",
)


def attempt(
    facts: InvoiceFacts | None,
    at: datetime,
    *,
    key: str | None = None,
    outcome: str = "success",
    **extra: Any,
) -> AttemptRecord:
    """An attempt at ``facts``' invoice, with the search columns its lookup gives."""
    provider = facts.provider if facts else "lummy"
    reference = facts.reference if facts else "inv-nothing-known"
    values: dict[str, Any] = {
        "attempt_id": str(uuid4()),
        "created_at": at,
        "user_id": "U0AGENT01",
        "provider": provider,
        "invoice_key": key or f"{provider}:{reference}",
        "reference": reference,
        "outcome": outcome,
        **invoice_columns(facts),
        **extra,
    }
    return AttemptRecord(**values)


ESTA_REJECTED = attempt(ESTA, T0, outcome="rejected", recipients=("Pagos@Esta.mx",))
ESTA_SENT = attempt(ESTA, T0 + timedelta(hours=1), recipients=("Pagos@Esta.mx",))
#: Its lookup had not answered yet: nothing to search by, and the row before it counts.
ESTA_UNKNOWN = attempt(None, T0 + timedelta(hours=2), key=ESTA_SENT.invoice_key, outcome="unknown")
NANDU_NOV_SENT = attempt(
    NANDU_NOV,
    T0 + timedelta(hours=3),
    recipients=("ventas@nandu.com.ar",),
    alternative_email="Contador@Estudio.com",
)
NANDU_FEB_SENT = attempt(NANDU_FEB, T0 + timedelta(hours=4), recipients=("ventas@nandu.com.ar",))
OTRA_SENT = attempt(OTRA, T0 + timedelta(hours=5), recipients=("xzy@otra.mx",))
#: Rows that are no attempt to send, even with the search columns filled.
REFUSED = attempt(NANDU_NOV, T0 + timedelta(hours=6), key="tusfacturas:refused", outcome="refused")
WARNED = attempt(
    NANDU_NOV, T0 + timedelta(hours=7), key="tusfacturas:warned", outcome="duplicate_warning"
)
HISTORY = (
    ESTA_REJECTED,
    ESTA_SENT,
    ESTA_UNKNOWN,
    NANDU_NOV_SENT,
    NANDU_FEB_SENT,
    OTRA_SENT,
    REFUSED,
    WARNED,
)


@pytest.fixture
async def searched(store: HistoryStore) -> HistoryStore:
    """A started store holding `HISTORY`, recorded out of order."""
    await store.record_many([(row, False) for row in reversed(HISTORY)])
    return store


# --- what a customer says, and the invoices it finds ------------------------------------


@pytest.mark.parametrize(
    ("said", "found"),
    [
        pytest.param("mi CUIT es 30-71234567-1", [NANDU_FEB_SENT, NANDU_NOV_SENT], id="cuit"),
        pytest.param("30712345671", [NANDU_FEB_SENT, NANDU_NOV_SENT], id="cuit-digits"),
        pytest.param("RFC ede-010101-ab1", [ESTA_SENT], id="rfc-latest-with-facts"),
        pytest.param("OEM 990101 ZZ9", [OTRA_SENT], id="rfc-spaced"),
        pytest.param("pagos@esta.MX", [ESTA_SENT], id="recipient-any-case"),
        pytest.param("agos@esta.mx", [], id="part-of-an-address"),
        pytest.param("ventas@nandu.com.ar", [NANDU_FEB_SENT, NANDU_NOV_SENT], id="recipient"),
        pytest.param("contador@estudio.com", [NANDU_NOV_SENT], id="alternative-email"),
        pytest.param("XZY@otra.mx", [OTRA_SENT], id="recipient-upper-case"),
        pytest.param("x_y@otra.mx", [], id="email-wildcard-literal"),
        pytest.param("buscar esta empresa", [ESTA_SENT], id="name-every-word"),
        pytest.param("buscar empresa", [OTRA_SENT, ESTA_SENT], id="name-one-word"),
        pytest.param("buscar Ñandú panaderia", [NANDU_FEB_SENT, NANDU_NOV_SENT], id="name-folded"),
        pytest.param("buscar e_presa", [], id="name-wildcard-literal"),
        pytest.param("buscar empresa demo", [], id="name-a-word-missing"),
        pytest.param("la A-01234", [ESTA_SENT], id="serie-folio"),
        pytest.param("B-77", [OTRA_SENT], id="serie-folio-exact"),
        pytest.param("A-77", [], id="serie-folio-other-serie"),
        pytest.param("del 10/02/2026", [OTRA_SENT, ESTA_SENT], id="date"),
        pytest.param("10/02/2026 $11.600,00", [ESTA_SENT], id="date-and-amount"),
        pytest.param("10/02/2026 $11.600,01", [], id="date-and-another-amount"),
        pytest.param("30712345671 noviembre", [NANDU_NOV_SENT], id="month-of-last-year"),
        pytest.param("30712345671 febrero 2026", [NANDU_FEB_SENT], id="month-and-year"),
        pytest.param("30712345671 marzo", [], id="month-without-invoices"),
        pytest.param("30712345671 $1.210,00", [NANDU_FEB_SENT], id="amount-whole"),
        pytest.param("30712345671 138900.50", [NANDU_NOV_SENT], id="amount-with-cents"),
        pytest.param("20123456786", [], id="unknown-cuit"),
    ],
)
async def test_what_a_customer_says_finds_the_latest_attempt_of_each_invoice(
    searched: HistoryStore, said: str, found: list[AttemptRecord]
) -> None:
    query = read_customer_query(said, today=TODAY)
    assert isinstance(query, CustomerQuery), query

    async with asyncio.timeout(BOUND):
        assert await searched.invoices_matching(query, today=TODAY) == found


async def test_results_come_back_as_recorded_dates_and_amounts_included(
    searched: HistoryStore,
) -> None:
    (found,) = await searched.invoices_matching(CustomerQuery(SearchKind.RFC, "EDE010101AB1"))

    assert found == ESTA_SENT
    assert (found.issued_on, found.total, found.currency) == (date(2026, 2, 10), 11600, "MXN")
    assert isinstance(found.total, Decimal)
    assert (found.customer_name, found.customer_key) == (
        ESTA.customer_name,
        "ESTA EMPRESA S.A. DE C.V.",
    )
    assert (found.customer_tax_id, found.display_number) == ("EDE010101AB1", "A-1234")


async def test_provider_and_limit_narrow_the_results(store: HistoryStore) -> None:
    same_customer = [
        attempt(
            NANDU_NOV.model_copy(update={"reference": f"FACTURA A|V|1|{n}"}),
            T0 + timedelta(minutes=n),
        )
        for n in range(6)
    ]
    await store.record_many([(row, False) for row in same_customer])
    by_cuit = CustomerQuery(SearchKind.CUIT, "30712345671")

    newest_first = list(reversed(same_customer))
    assert await store.invoices_matching(by_cuit) == newest_first
    assert await store.invoices_matching(by_cuit, limit=2) == newest_first[:2]
    assert await store.invoices_matching(by_cuit, provider="tusfacturas") == newest_first
    assert await store.invoices_matching(by_cuit, provider="lummy") == []


async def test_a_month_without_a_year_is_the_latest_one_begun_by_today(
    searched: HistoryStore,
) -> None:
    february = CustomerQuery(SearchKind.CUIT, "30712345671", month=Month(2))

    assert await searched.invoices_matching(february, today=TODAY) == [NANDU_FEB_SENT]
    # Before February 2026 began, "febrero" is February 2025: nothing then.
    assert await searched.invoices_matching(february, today=date(2026, 1, 31)) == []
    december = CustomerQuery(SearchKind.CUIT, "30712345671", month=Month(12, 2025))
    assert await searched.invoices_matching(december, today=TODAY) == []


async def test_attempts_without_a_finished_lookup_are_never_found(store: HistoryStore) -> None:
    await store.record(blind := attempt(None, T0, recipients=("cliente@empresa.com",)))

    assert await store.invoices_matching(CustomerQuery(SearchKind.NAME, "inv")) == []
    assert await store.invoices_matching(CustomerQuery(SearchKind.DATE, "2026-03-02")) == []
    # The addresses it went to are known without a lookup.
    by_email = CustomerQuery(SearchKind.EMAIL, "cliente@empresa.com")
    assert await store.invoices_matching(by_email) == [blind]


# --- the search columns, as a lookup's facts fill them ----------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("30-71234567-1", "30712345671"),
        ("30 71234567 1", "30712345671"),
        ("ede-010101-ab1", "EDE010101AB1"),
        ("ÑA&010101AB1", "ÑA&010101AB1"),
        ("  ", None),
        (None, None),
    ],
)
def test_tax_ids_are_kept_without_separators(raw: str | None, key: str | None) -> None:
    assert tax_id_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("A-1234", "A-1234"),
        ("a-001234", "A-1234"),
        ("FAC - 0077", "FAC-77"),
        ("00123", "123"),
        ("CFDI 2026/7", "CFDI 2026/7"),
        ("", None),
        (None, None),
    ],
)
def test_display_numbers_are_kept_as_customers_quote_them(raw: str | None, key: str | None) -> None:
    assert display_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Panadería  Ñandú SRL", "PANADERIA NANDU SRL"),
        ("Ésta Empresa S.A. de C.V.", "ESTA EMPRESA S.A. DE C.V."),
        ("", None),
        (None, None),
    ],
)
def test_names_are_folded_for_search(raw: str | None, key: str | None) -> None:
    assert name_key(raw) == key


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Decimal("1210.00"), "1210"),
        (Decimal(1210), "1210"),
        (Decimal("138900.50"), "138900.5"),
        (Decimal("1E+3"), "1000"),
        (Decimal("0.00"), "0"),
        (Decimal("NaN"), None),
        (Decimal("1E+50"), None),  # longer than the column
        (None, None),
    ],
)
def test_equal_amounts_are_kept_as_the_same_text(amount: Decimal | None, text: str | None) -> None:
    assert amount_text(amount) == text


def test_no_facts_fill_no_column() -> None:
    assert invoice_columns(None) == {}
    nothing_known = invoice_columns(InvoiceFacts(provider="lummy", reference="x"))
    assert set(nothing_known) == set(INVOICE_COLUMNS)
    assert set(nothing_known.values()) == {None}
