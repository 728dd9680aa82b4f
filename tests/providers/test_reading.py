"""The one reader of what agents type: re-send fields, a search, or a problem, by precedence."""

from __future__ import annotations

from datetime import date

import pytest

from providers.customers import CUIT_CHECK_DIGIT, DATE_INVALID, Month, SearchKind
from providers.reading import SearchProblem, ToResend, ToSearch, read_agent_text
from providers.registry import builtin_registry

REGISTRY = builtin_registry()
TODAY = date(2026, 12, 7)


def read(text: str) -> ToResend | ToSearch | SearchProblem:
    return read_agent_text(text, REGISTRY, today=TODAY)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "FACTURA B 0002-00000006",
        "FC B 2-6",
        "550e8400-e29b-41d4-a716-446655440000",
        "lummy 550e8400-e29b-41d4-a716-446655440000 otro@cliente.com",
        # Not a customer identifier: the re-send parser explains what it understood.
        "0002-00000006",
        "2-6",
        "FCX Z 2-6",
        "hola",
        "noviembre",
    ],
)
def test_references_and_unknown_text_go_to_the_resend_fields(text: str) -> None:
    assert read(text) == ToResend(text.strip())


@pytest.mark.parametrize(
    ("text", "kind", "value", "provider"),
    [
        # A CUIT, with or without dashes (TusFacturas alone would take it for a voucher).
        ("30-71543210-9", SearchKind.CUIT, "30715432109", "tusfacturas"),
        ("30715432109", SearchKind.CUIT, "30715432109", "tusfacturas"),
        ("CUIT 20-12345678-6 noviembre", SearchKind.CUIT, "20123456786", "tusfacturas"),
        ("EDE010101AB1", SearchKind.RFC, "EDE010101AB1", "lummy"),
        ("compras@cliente.com", SearchKind.EMAIL, "compras@cliente.com", None),
        ("15/11", SearchKind.DATE, "2026-11-15", None),
        ("A-1234", SearchKind.SERIE_FOLIO, "A-1234", None),
        ("lummy A-1234", SearchKind.SERIE_FOLIO, "A-1234", "lummy"),
        ("buscar Panadería La Espiga", SearchKind.NAME, "Panadería La Espiga", None),
        ("tf buscar Panadería La Espiga", SearchKind.NAME, "Panadería La Espiga", "tusfacturas"),
    ],
)
def test_customer_identifiers_go_to_search(
    text: str, kind: SearchKind, value: str, provider: str | None
) -> None:
    found = read(text)
    assert isinstance(found, ToSearch), found
    assert (found.query.kind, found.query.value, found.provider) == (kind, value, provider)
    assert found.overruled is None


def test_a_provider_word_that_cannot_own_the_tax_id_is_overruled() -> None:
    found = read("lummy 30-71543210-9")
    assert found == ToSearch(read("30-71543210-9").query, "tusfacturas", overruled="lummy")  # type: ignore[union-attr]
    rfc = read("tf EDE010101AB1")
    assert isinstance(rfc, ToSearch)
    assert (rfc.provider, rfc.overruled) == ("lummy", "tusfacturas")


def test_filters_ride_along_with_the_search() -> None:
    found = read("30-71543210-9 noviembre $138.900,50")
    assert isinstance(found, ToSearch)
    assert found.query.month == Month(11)
    assert str(found.query.amount) == "138900.50"


@pytest.mark.parametrize(
    ("text", "code", "provider"),
    [
        ("30-71543210-8", CUIT_CHECK_DIGIT, "tusfacturas"),
        ("lummy 30-71543210-8", CUIT_CHECK_DIGIT, "tusfacturas"),
        ("31/02/2026", DATE_INVALID, None),
        ("15/12/2026", DATE_INVALID, None),
    ],
)
def test_an_identifier_that_cannot_be_right_is_a_problem_and_searches_nothing(
    text: str, code: str, provider: str | None
) -> None:
    found = read(text)
    assert isinstance(found, SearchProblem), found
    assert (found.problem.code, found.provider) == (code, provider)


def test_a_provider_word_decides_when_its_own_reference_is_there() -> None:
    # The shape of a voucher wins over the date inside it.
    assert read("tf FACTURA B 0002-00000006") == ToResend("tf FACTURA B 0002-00000006")
