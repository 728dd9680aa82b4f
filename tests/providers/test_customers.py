"""Reading what customers quote: tax ids, names, dates, serie-folios, months, amounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.base import FieldProblem
from providers.customers import (
    CUIT_CHECK_DIGIT,
    DATE_INVALID,
    NOTHING_TO_SEARCH,
    CustomerQuery,
    Month,
    SearchKind,
    cuit_check_digit,
    format_cuit,
    parse_amount,
    read_customer_query,
)

TODAY = date(2026, 12, 7)


def read(text: str) -> CustomerQuery | FieldProblem:
    return read_customer_query(text, today=TODAY)


@pytest.mark.parametrize(
    ("cuit", "check"),
    [
        ("3071234567", 1),  # the customer, 30-71234567-1
        ("3071543210", 9),  # Panadería La Espiga: 30-71543210-9
        ("2012345678", 6),
        ("3050001091", 2),
    ],
)
def test_the_cuit_check_digit_follows_arcas_weights(cuit: str, check: int) -> None:
    assert cuit_check_digit(cuit) == check


@pytest.mark.parametrize(
    "text",
    [
        "30-71234567-1",
        "30712345671",
        "30 71234567 1",
        "CUIT 30-71234567-1",
        "mi cuit es 30712345671.",
    ],
)
def test_a_cuit_in_any_printed_form_is_read(text: str) -> None:
    assert read(text) == CustomerQuery(SearchKind.CUIT, "30712345671")


def test_a_cuit_with_a_wrong_check_digit_is_a_problem_that_quotes_it() -> None:
    assert read("30-71234567-2") == FieldProblem(CUIT_CHECK_DIGIT, text="30-71234567-2")
    assert read("30712345672") == FieldProblem(CUIT_CHECK_DIGIT, text="30-71234567-2")


@given(st.from_regex(r"(20|23|24|27|30|33)[0-9]{8}", fullmatch=True))
def test_every_cuit_with_its_own_check_digit_is_read_back(first_ten: str) -> None:
    digits = first_ten + str(cuit_check_digit(first_ten))
    assert read(format_cuit(digits)) == CustomerQuery(SearchKind.CUIT, digits)


@pytest.mark.parametrize(
    ("text", "rfc"),
    [
        ("EDE010101AB1", "EDE010101AB1"),  # a company: 12 characters
        ("rfc: ede-010101-ab1", "EDE010101AB1"),
        ("LOPM800101XY9", "LOPM800101XY9"),  # a person: 13
        ("ÑAND850315AB1", "ÑAND850315AB1"),  # Ñ belongs to the RFC
    ],
)
def test_an_rfc_of_sat_shape_is_read(text: str, rfc: str) -> None:
    assert read(text) == CustomerQuery(SearchKind.RFC, rfc)


def test_an_rfc_with_an_impossible_date_is_not_an_rfc() -> None:
    assert read("EDE011301AB1") == FieldProblem(NOTHING_TO_SEARCH, text="EDE011301AB1")


def test_an_email_alone_searches_by_it() -> None:
    assert read("<mailto:Compras@Cliente.com|Compras@Cliente.com>") == CustomerQuery(
        SearchKind.EMAIL, "Compras@cliente.com"
    )


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("15/11", "2026-11-15"),  # the latest 15/11 that has passed
        ("el 15/11/2026", "2026-11-15"),
        ("15/11/26", "2026-11-15"),
        ("15-11-2026", "2026-11-15"),
        ("15.11.2026", "2026-11-15"),
        ("20/12", "2025-12-20"),  # 20/12 this year is still ahead
    ],
)
def test_a_date_searches_that_day(text: str, day: str) -> None:
    query = read(text)
    assert query == CustomerQuery(SearchKind.DATE, day)
    assert isinstance(query, CustomerQuery)
    assert query.searched_date == date.fromisoformat(day)


@pytest.mark.parametrize("text", ["31/02/2026", "15/11/2027", "32/01"])
def test_an_impossible_or_future_date_is_a_problem(text: str) -> None:
    problem = read(text)
    assert isinstance(problem, FieldProblem)
    assert problem.code == DATE_INVALID


def test_a_voucher_number_is_not_a_date() -> None:
    assert read("2-6") == FieldProblem(NOTHING_TO_SEARCH, text="2-6")


@pytest.mark.parametrize(
    ("text", "serie_folio"),
    [("A-1234", "A-1234"), ("no me llegó la factura a-877", "A-877"), ("FAC-00012", "FAC-12")],
)
def test_a_serie_folio_is_read(text: str, serie_folio: str) -> None:
    assert read(text) == CustomerQuery(SearchKind.SERIE_FOLIO, serie_folio)


def test_a_name_needs_the_word_buscar_and_keeps_its_accents() -> None:
    assert read("buscar Panadería La Espiga") == CustomerQuery(
        SearchKind.NAME, "Panadería La Espiga"
    )
    assert read("Buscar:  Distribuidora   Andina") == CustomerQuery(
        SearchKind.NAME, "Distribuidora Andina"
    )
    assert read("Panadería La Espiga") == FieldProblem(
        NOTHING_TO_SEARCH, text="Panadería La Espiga"
    )


def test_a_month_and_an_amount_filter_what_the_search_finds() -> None:
    assert read("30-71234567-1 todas las de noviembre") == CustomerQuery(
        SearchKind.CUIT, "30712345671", month=Month(11)
    )
    assert read("buscar Panadería La Espiga $138.900,50 noviembre de 2025") == CustomerQuery(
        SearchKind.NAME,
        "Panadería La Espiga",
        month=Month(11, 2025),
        amount=Decimal("138900.50"),
    )


@pytest.mark.parametrize("text", ["noviembre", "$138.900,50", "", "   "])
def test_a_filter_alone_searches_nothing(text: str) -> None:
    problem = read(text)
    assert isinstance(problem, FieldProblem)
    assert problem.code == NOTHING_TO_SEARCH


def test_a_month_without_a_year_is_the_latest_that_has_begun() -> None:
    assert Month(11).resolve(TODAY) == (2026, 11)
    assert Month(12).resolve(TODAY) == (2026, 12)
    assert Month(12).resolve(date(2026, 11, 30)) == (2025, 12)
    assert Month(3, 2024).resolve(TODAY) == (2024, 3)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("$138.900,50", "138900.50"),  # Argentina: dots group thousands
        ("138900.50", "138900.50"),
        ("$11,600.00", "11600.00"),  # Mexico: commas group thousands
        ("$138.900", "138900.00"),
        ("$ 1.234.567,89", "1234567.89"),
        ("$5", "5.00"),
        ("12,5", "125.00"),  # one digit after the comma: not cents
    ],
)
def test_amounts_are_read_as_either_country_writes_them(text: str, amount: str) -> None:
    assert parse_amount(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["", "$", "abc", "1.2.3,4,5x"])
def test_what_is_not_an_amount_reads_as_none(text: str) -> None:
    assert parse_amount(text) is None
