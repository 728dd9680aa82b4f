"""What the history keeps about an invoice, to find it again from what a customer quotes.

A finished lookup (`providers.base.InvoiceFacts`) describes the invoice and its
customer. `invoice_columns` turns that into an attempt row's search columns, each
in the form `providers.customers.read_customer_query` reads a customer's text into:
the tax id without separators (a CUIT's 11 digits, an upper-case RFC), the name
folded (`providers.parsing.fold`), the serie-folio upper case with the folio's
leading zeros dropped. `query_conditions` is the other half: what a row must hold
to match a `CustomerQuery`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Final, TypedDict

from sqlalchemy import ColumnElement, and_, false, func, literal, or_

from bot.history.records import amount_text
from bot.history.schema import attempts_table
from providers.base import InvoiceFacts
from providers.customers import CustomerQuery, SearchKind
from providers.parsing import fold

_SERIE_FOLIO: Final = re.compile(r"([A-Z]{1,10}) ?- ?0*(\d{1,12})")


class InvoiceColumns(TypedDict, total=False):
    """An attempt row's search columns (`bot.history.records.AttemptRecord`'s fields)."""

    customer_name: str | None
    customer_key: str | None
    customer_tax_id: str | None
    issued_on: date | None
    total: Decimal | None
    currency: str | None
    display_number: str | None


def tax_id_key(text: str | None) -> str | None:
    """A CUIT or RFC as searched: upper case, separators dropped (``20-12345678-9`` is
    ``20123456789``; an RFC keeps its Ñ and &)."""
    key = "".join(ch for ch in (text or "").upper() if ch.isalnum() or ch == "&")
    return key or None


def name_key(name: str | None) -> str | None:
    """A customer's name as searched: upper case, accents stripped, spaces collapsed."""
    return fold(name or "") or None


def display_key(number: str | None) -> str | None:
    """A document's number as searched: upper case; a serie-folio as ``A-1234``
    (``a - 001234`` too), since customers quote the folio without its zeros."""
    folded = fold(number or "")
    match = _SERIE_FOLIO.fullmatch(folded)
    if match is not None:
        return f"{match.group(1)}-{int(match.group(2))}"
    if folded.isdigit():
        return str(int(folded))
    return folded or None


def invoice_columns(facts: InvoiceFacts | None) -> InvoiceColumns:
    """The search columns of an attempt from what its lookup said (none without one)."""
    if facts is None:
        return {}
    return InvoiceColumns(
        customer_name=facts.customer_name,
        customer_key=name_key(facts.customer_name),
        customer_tax_id=tax_id_key(facts.customer_id),
        issued_on=facts.issued_on,
        total=facts.total,
        currency=(facts.currency or "").strip().upper() or None,
        display_number=display_key(facts.display_number),
    )


def query_conditions(query: CustomerQuery, *, today: date) -> list[ColumnElement[bool]]:
    """What an attempt row must hold to match ``query``.

    By kind: a CUIT or RFC is the tax id; an e-mail one of the recipients or the
    alternative address (any case); a name is every word of it within the folded
    name; a serie-folio the display number; a date the issue date. A month (resolved
    by ``today``) keeps the invoices issued in it, an amount those of that total.
    """
    columns = attempts_table.c
    conditions = [_searched(query)]
    if query.month is not None:
        year, month = query.month.resolve(today)
        after = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        conditions += [columns.issued_on >= date(year, month, 1), columns.issued_on < after]
    if query.amount is not None:
        conditions.append(columns.total == amount_text(query.amount))
    return conditions


def _searched(query: CustomerQuery) -> ColumnElement[bool]:
    columns = attempts_table.c
    match query.kind:
        case SearchKind.CUIT | SearchKind.RFC:
            return columns.customer_tax_id == tax_id_key(query.value)
        case SearchKind.EMAIL:
            address = query.value.lower()
            # "a@x.com, b@y.com": one whole address of the list, not part of one.
            listed = literal(", ").concat(func.lower(columns.recipients)).concat(",")
            return or_(
                func.lower(columns.alternative_email) == address,
                listed.contains(f", {address},", autoescape=True),
            )
        case SearchKind.NAME:
            words = (name_key(query.value) or "").split()
            if not words:
                return false()
            return and_(*(columns.customer_key.contains(w, autoescape=True) for w in words))
        case SearchKind.SERIE_FOLIO:
            return columns.display_number == display_key(query.value)
        case SearchKind.DATE:
            return columns.issued_on == query.searched_date
