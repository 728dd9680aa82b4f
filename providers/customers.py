"""What customers quote instead of a provider's reference, read into typed facts.

A customer writes their CUIT or RFC, their company's name, the serie-folio printed
on the PDF, a date, an amount, or "todas las de noviembre". `read_customer_query`
reads such a text into a `CustomerQuery`: one thing to search by (a tax id, an
e-mail, a date, a serie-folio or a name) and the filters to narrow its results
(a month, an amount). Like every reader in ``providers``, it answers with facts
and `FieldProblem` codes, never with words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Final

from providers.base import FieldProblem
from providers.parsing import fold, normalise_email, quote

#: A CUIT whose check digit does not match its first ten digits (a typo).
CUIT_CHECK_DIGIT: Final = "cuit_check_digit"
#: A date that does not exist (31/02) or lies in the future.
DATE_INVALID: Final = "date_invalid"
#: Text with nothing to search by (only a month or an amount, or nothing at all).
NOTHING_TO_SEARCH: Final = "nothing_to_search"

_CUIT_WEIGHTS: Final = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
# 20-12345678-9, 20 12345678 9, 20123456789; the prefixes ARCA assigns.
_CUIT = re.compile(r"(?<![\d-])((?:20|23|24|25|26|27|30|33|34)-?\s?\d{8}-?\s?\d)(?![\d-])")
# EDE010101AB1, EDE-010101-AB1, EDE 010101 AB1 (Ñ kept: it is part of the RFC).
_RFC = re.compile(r"(?<![A-Z0-9Ñ&])([A-ZÑ&]{3,4})[- ]?(\d{6})[- ]?([A-Z0-9]{3})(?![A-Z0-9Ñ&])")
# 15/11, 15/11/2026, 15/11/26, and with a year 15-11-2026 or 15.11.2026 (2-6 is a voucher).
_DATE = re.compile(
    r"(?<![\d/.-])(\d{1,2})(?:/(\d{1,2})(?:/(\d{4}|\d{2}))?|([.-])(\d{1,2})\4(\d{4}))(?![\d/.-])"
)
_SERIE_FOLIO = re.compile(r"(?<![\w-])([A-Z]{1,10})-(\d{1,12})(?![\w-])")
# $138.900,50 · $ 11,600.00 · 138900.50 · 138.900,50 (a decimal part or a "$" makes an amount)
_AMOUNT = re.compile(r"(?<![\w.,])(\$\s?\d[\d.,]*\d|\$\s?\d|\d[\d.,]*[.,]\d{2})(?![\w.,])")
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
_MONTHS: Final = {
    name: number
    for number, names in enumerate(
        (
            ("ENERO", "ENE"),
            ("FEBRERO", "FEB"),
            ("MARZO", "MAR"),
            ("ABRIL", "ABR"),
            ("MAYO", "MAY"),
            ("JUNIO", "JUN"),
            ("JULIO", "JUL"),
            ("AGOSTO", "AGO"),
            ("SEPTIEMBRE", "SETIEMBRE", "SEP", "SET"),
            ("OCTUBRE", "OCT"),
            ("NOVIEMBRE", "NOV"),
            ("DICIEMBRE", "DIC"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = re.compile(
    r"\b(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\b(?:\s+(?:DE\s+)?(\d{4}))?"
)
#: The word that makes the rest of the text a customer's name.
_SEARCH_WORD = re.compile(r"(?i)^\s*busca(?:r)?\b[\s:]*")


class SearchKind(StrEnum):
    """What a search goes by."""

    CUIT = "cuit"
    RFC = "rfc"
    EMAIL = "email"
    DATE = "date"
    SERIE_FOLIO = "serie_folio"
    NAME = "name"


@dataclass(frozen=True)
class Month:
    """A calendar month; ``year`` None means the latest one not in the future."""

    month: int
    year: int | None = None

    def resolve(self, today: date) -> tuple[int, int]:
        """(year, month), the latest such month that has begun by ``today``."""
        if self.year is not None:
            return self.year, self.month
        year = today.year if self.month <= today.month else today.year - 1
        return year, self.month


@dataclass(frozen=True)
class CustomerQuery:
    """One thing to search by, and the filters that narrow its results."""

    kind: SearchKind
    #: The value searched, normalised: 11 CUIT digits, an upper-case RFC, an address,
    #: ``YYYY-MM-DD``, ``SERIE-FOLIO``, or the name as the agent wrote it.
    value: str
    month: Month | None = None
    amount: Decimal | None = None

    @property
    def searched_date(self) -> date | None:
        """The date searched, for a `SearchKind.DATE` query."""
        return date.fromisoformat(self.value) if self.kind is SearchKind.DATE else None


def cuit_check_digit(first_ten: str) -> int:
    """The mod-11 check digit of a CUIT's first ten digits (ARCA's weights)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_ten, _CUIT_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {11: 0, 10: 9}.get(check, check)


def format_cuit(digits: str) -> str:
    """``30712345671`` as it is printed: ``30-71234567-1``."""
    return f"{digits[:2]}-{digits[2:10]}-{digits[10:]}"


def parse_amount(text: str) -> Decimal | None:
    """An amount as agents write it in either country, or None.

    With both separators the last one is the decimal point (``138.900,50``,
    ``11,600.00``); with one, it is decimal when two digits follow it, else it
    groups thousands (``$138.900``).
    """
    digits = text.replace("$", "").replace(" ", "")
    if not digits or not digits[0].isdigit():
        return None
    last_dot, last_comma = digits.rfind("."), digits.rfind(",")
    decimal_at = max(last_dot, last_comma)
    if decimal_at >= 0 and (
        (last_dot >= 0 and last_comma >= 0) or len(digits) - decimal_at - 1 == 2
    ):
        whole, cents = digits[:decimal_at], digits[decimal_at + 1 :]
    else:
        whole, cents = digits, ""
    whole = whole.replace(".", "").replace(",", "")
    if not whole.isdigit() or (cents and not cents.isdigit()):
        return None
    try:
        return Decimal(f"{whole}.{cents or '0'}").quantize(Decimal("0.01"))
    except InvalidOperation:
        return None


def read_customer_query(text: str, *, today: date) -> CustomerQuery | FieldProblem:
    """What the customer quoted, or the problem with it.

    The first of these that the text holds is what the search goes by: a CUIT,
    an RFC, an e-mail address, a date, a serie-folio; or, after the word
    ``buscar``, the rest as a customer's name. A month and an amount are filters
    only: alone, they search nothing.
    """
    named = _SEARCH_WORD.match(text)
    rest = text[named.end() :] if named else text
    amount, rest = _take_amount(rest)
    month, rest = _take_month(rest)
    folded = fold(rest)
    query = (
        _cuit(folded)
        or _rfc(rest.upper())
        or _email(rest)
        or _date(folded, today)
        or _serie_folio(folded)
        or (_name(rest) if named else None)
    )
    if isinstance(query, FieldProblem):
        return query
    if query is None:
        return FieldProblem(NOTHING_TO_SEARCH, text=quote(text))
    return CustomerQuery(query[0], query[1], month=month, amount=amount)


_Found = tuple[SearchKind, str] | FieldProblem | None


def _without(text: str, match: re.Match[str]) -> str:
    return " ".join((text[: match.start()] + " " + text[match.end() :]).split())


def _take_amount(text: str) -> tuple[Decimal | None, str]:
    for match in _AMOUNT.finditer(text):
        amount = parse_amount(match.group(1))
        if amount is not None:
            return amount, _without(text, match)
    return None, text


def _take_month(text: str) -> tuple[Month | None, str]:
    # Month names carry no accents, so the text is matched upper-cased as written.
    match = _MONTH.search(text.upper())
    if match is None:
        return None, text
    year = int(match.group(2)) if match.group(2) else None
    return Month(_MONTHS[match.group(1)], year), _without(text, match)


def _cuit(text: str) -> _Found:
    match = _CUIT.search(text)
    if match is None:
        return None
    digits = re.sub(r"\D", "", match.group(1))
    if cuit_check_digit(digits[:10]) != int(digits[10]):
        return FieldProblem(CUIT_CHECK_DIGIT, text=format_cuit(digits))
    return SearchKind.CUIT, digits


def _rfc(text: str) -> _Found:
    match = _RFC.search(text)
    if match is None:
        return None
    letters, yymmdd, homoclave = match.groups()
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return SearchKind.RFC, letters + yymmdd + homoclave


def _email(text: str) -> _Found:
    match = _EMAIL.search(text)
    if match is None:
        return None
    address = normalise_email(match.group(0))
    return (SearchKind.EMAIL, address) if address is not None else None


def _date(text: str, today: date) -> _Found:
    match = _DATE.search(text)
    if match is None:
        return None
    day = int(match.group(1))
    month = int(match.group(2) or match.group(5))
    year_text = match.group(3) or match.group(6)
    try:
        if year_text is None:
            found = date(today.year, month, day)
            if found > today:
                found = date(today.year - 1, month, day)
        else:
            year = int(year_text) + (2000 if len(year_text) == 2 else 0)
            found = date(year, month, day)
    except ValueError:
        return FieldProblem(DATE_INVALID, text=match.group(0))
    if found > today:
        return FieldProblem(DATE_INVALID, text=match.group(0))
    return SearchKind.DATE, found.isoformat()


def _serie_folio(text: str) -> _Found:
    match = _SERIE_FOLIO.search(text)
    if match is None:
        return None
    return SearchKind.SERIE_FOLIO, f"{match.group(1)}-{int(match.group(2))}"


def _name(text: str) -> _Found:
    # As the agent wrote it (accents and case): the provider matches names loosely.
    name = " ".join(text.split())
    return (SearchKind.NAME, name) if any(ch.isalpha() for ch in name) else None
