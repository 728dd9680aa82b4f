"""The search modal: the query, "buscando…", the matches as options, nothing found, and
the limits of a provider that lists no invoices. Every view is valid Block Kit."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.search_results import Match, ProviderFailure, SearchOutcome
from bot.ui import strings
from bot.ui.resend_modal import ModalContext
from bot.ui.search_modal import (
    PICK_ACTION,
    PICK_BLOCK,
    QUERY_BLOCK,
    SEARCH_CALLBACK_ID,
    match_option,
    match_value,
    read_match_value,
    search_modal,
    searched_what,
)
from providers.base import InvoiceStatus, PaymentStatus
from providers.customers import CustomerQuery, Month, SearchKind
from providers.errors import AuthenticationError, RateLimitedError
from providers.search import Customer, SearchResult
from tests.blockkit import assert_valid_modal
from tests.bot.ui.conftest import CONTEXT, LEAKS, block_ids, texts
from tests.conftest import REGISTRY, SEED_LUMMY_ID

CUIT = CustomerQuery(SearchKind.CUIT, "30712345671")
RFC = CustomerQuery(SearchKind.RFC, "EDE010101AB1")


def voucher(numero: int, day: int, **extra: object) -> Match:
    values: dict[str, object] = {
        "provider": "tusfacturas",
        "reference": f"FACTURA B 0002-{numero:08d}",
        "invoice_key": f"tusfacturas:FACTURA B|V|2|{numero}",
        "issued_on": date(2026, 11, day),
        "total": Decimal("138900.00"),
        "currency": "ARS",
        "customer_name": "Distribuidora Andina S.A.",
        "customer_tax_id": "30712345671",
        "payment": PaymentStatus.UNPAID,
    }
    values.update(extra)
    return Match(**values)  # type: ignore[arg-type]


def outcome(query: CustomerQuery, *matches: Match, **extra: object) -> SearchOutcome:
    searched = (SearchResult(provider="tusfacturas", query=query, searched_in=("2",)),)
    values: dict[str, object] = {"searched": searched}
    values.update(extra)
    return SearchOutcome(query, "tusfacturas", matches=matches, **values)  # type: ignore[arg-type]


def all_text(view: dict[str, object]) -> str:
    return "\n".join(texts(view["blocks"]))


def test_searching_shows_the_query_and_what_is_searched_where() -> None:
    searching = "Buscando el CUIT en TusFacturas…"
    view = search_modal("30-71234567-1", CONTEXT, registry=REGISTRY, searching=searching)
    assert_valid_modal(view)
    assert view["callback_id"] == SEARCH_CALLBACK_ID
    assert ModalContext.from_metadata(view["private_metadata"]) == CONTEXT
    query = next(b for b in view["blocks"] if b.get("block_id") == QUERY_BLOCK)
    assert query["dispatch_action"] is True
    assert query["element"]["initial_value"] == "30-71234567-1"
    assert searching in all_text(view)
    assert strings.SEARCH_MANUAL in all_text(view)
    assert PICK_BLOCK not in block_ids(view)


def test_matches_are_options_newest_first_with_customer_and_status() -> None:
    view = search_modal(
        "30-71234567-1",
        CONTEXT,
        registry=REGISTRY,
        outcome=outcome(CUIT, voucher(7, 20), voucher(6, 15, payment=PaymentStatus.PAID)),
    )
    assert_valid_modal(view)
    (pick,) = [b for b in view["blocks"] if b.get("block_id") == PICK_BLOCK]
    element = pick["element"]
    assert element["action_id"] == PICK_ACTION
    first, second = element["options"]
    assert first["text"]["text"] == "Factura B 0002-00000007 · 20/11/2026 · $ 138.900,00"
    assert first["description"]["text"] == "Distribuidora Andina S.A. · impaga"
    assert second["description"]["text"] == "Distribuidora Andina S.A. · pagada"
    assert read_match_value(first["value"]) == ("tusfacturas", "FACTURA B 0002-00000007")
    assert "*2 comprobantes* para el CUIT 30-71234567-1" in all_text(view)
    assert not any(leak in all_text(view) for leak in LEAKS)


def test_option_texts_stay_within_slacks_limits() -> None:
    long = voucher(
        87,
        3,
        reference="FACTURA DE CREDITO ELECTRONICA MiPyME (FCE) A 0003-00000087",
        customer_name="Cooperativa de Trabajo Limitada de Servicios Integrales " * 2,
        status=InvoiceStatus.QUEUED,
        last_sent_at=datetime(2026, 12, 1, 12, tzinfo=UTC),
    )
    option = match_option(long, REGISTRY)
    assert len(option["text"]["text"]) <= 75
    assert len(option["description"]["text"]) <= 75
    assert len(option["value"]) <= 150
    view = search_modal("x", CONTEXT, registry=REGISTRY, outcome=outcome(CUIT, *[long] * 10))
    assert_valid_modal(view)


def test_a_lummy_invoice_is_named_by_its_serie_folio() -> None:
    match = Match(
        provider="lummy",
        reference=SEED_LUMMY_ID,
        invoice_key=f"lummy:{SEED_LUMMY_ID}",
        display_number="A-1234",
        total=Decimal("11600"),
        currency="MXN",
        issued_on=date(2026, 11, 2),
    )
    text = match_option(match, REGISTRY)["text"]["text"]
    assert text == "Factura A-1234 (550e8400) · 02/11/2026 · $11,600.00"
    assert match_value(match) == f"lummy|{SEED_LUMMY_ID}"


def test_nothing_found_says_what_was_searched_and_where_and_offers_the_form() -> None:
    view = search_modal("30-71234567-1", CONTEXT, registry=REGISTRY, outcome=outcome(CUIT))
    assert_valid_modal(view)
    shown = all_text(view)
    assert (
        "No se encontraron comprobantes para el CUIT 30-71234567-1 en TusFacturas "
        "(punto de venta 2) ni en el historial del bot." in shown
    )
    assert strings.SEARCH_NOTHING_NEXT in shown
    assert strings.SEARCH_MANUAL in shown


def test_a_provider_that_lists_no_invoices_says_so_and_names_the_customer() -> None:
    lummy = SearchResult(
        provider="lummy",
        query=RFC,
        lists_invoices=False,
        customers=(
            Customer(
                provider="lummy", name="Empresa Demo SA de CV", tax_id_type="RFC", tax_id=RFC.value
            ),
        ),
    )
    found = SearchOutcome(RFC, "lummy", customers=lummy.customers, searched=(lummy,))
    view = search_modal("EDE010101AB1", CONTEXT, registry=REGISTRY, outcome=found)
    assert_valid_modal(view)
    shown = all_text(view)
    assert "Cliente en Lummy: Empresa Demo SA de CV (RFC EDE010101AB1)" in shown
    assert strings.SEARCH_NO_INVOICE_LIST["lummy"] in shown


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (ProviderFailure("tusfacturas"), "timeout"),
        (
            ProviderFailure("tusfacturas", RateLimitedError("429", provider="tusfacturas")),
            "rate_limited",
        ),
        (
            ProviderFailure("tusfacturas", AuthenticationError("401", provider="tusfacturas")),
            "authentication",
        ),
    ],
)
def test_a_failed_provider_is_named_and_the_history_still_shown(
    failure: ProviderFailure, reason: str
) -> None:
    found = outcome(CUIT, voucher(6, 15), failures=(failure,), searched=())
    view = search_modal("30-71234567-1", CONTEXT, registry=REGISTRY, outcome=found)
    assert_valid_modal(view)
    assert strings.SEARCH_FAILURE_REASONS[reason] in all_text(view)
    assert PICK_BLOCK in block_ids(view)


def test_a_problem_is_shown_under_the_query_and_nothing_is_searched() -> None:
    view = search_modal(
        "30-71234567-2", CONTEXT, registry=REGISTRY, problem="El CUIT no es válido."
    )
    assert_valid_modal(view)
    assert ":warning: El CUIT no es válido." in all_text(view)
    assert PICK_BLOCK not in block_ids(view)


def test_more_matches_than_shown_asks_to_narrow_the_search() -> None:
    found = outcome(CUIT, *(voucher(n, 1 + n) for n in range(10)), more=True)
    view = search_modal("30-71234567-1", CONTEXT, registry=REGISTRY, outcome=found)
    assert_valid_modal(view)
    assert strings.SEARCH_MORE in all_text(view)


@pytest.mark.parametrize(
    ("query", "words"),
    [
        (CUIT, "el CUIT 30-71234567-1"),
        (CustomerQuery(SearchKind.DATE, "2026-11-15"), "el 15/11/2026"),
        (CustomerQuery(SearchKind.NAME, "Pan & Co <b>"), "«Pan &amp; Co &lt;b&gt;»"),
        (
            CustomerQuery(
                SearchKind.CUIT, "30712345671", month=Month(11, 2026), amount=Decimal("138900.5")
            ),
            "el CUIT 30-71234567-1 en noviembre de 2026 por $ 138.900,50",
        ),
    ],
)
def test_what_was_searched_in_words(query: CustomerQuery, words: str) -> None:
    assert searched_what(query, REGISTRY) == words
