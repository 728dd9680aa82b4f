"""Finding TusFacturas vouchers from what the customer says: by CUIT or by date.

A CUIT reads the customer's account (``clientes/cuenta-corriente``, billed as a
request), once per credential set: each line names a voucher and the customer in its
``concepto`` (``FACTURA A 0002-00000001 (RAZON SOCIAL)``); lines that name no voucher
(payments received) are left out. A date reads the advanced search
(``facturacion/consulta_avanzada``, ``busqueda_tipo: "F"``, not billed) page by page,
per credential set, since each set sees only its own punto de venta.

The calls themselves (credentials, spacing, retries, errors) are the client's: this
module gets them as a `Fetch`, which answers the body of an ``error: "N"`` answer, or
None when TusFacturas said it found nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, TypeVar

from providers.base import InvalidReferenceError, InvoiceFacts
from providers.customers import CustomerQuery, SearchKind
from providers.parsing import amount, text_value
from providers.search import Customer, SearchResult
from providers.tusfacturas.facts import payment_of, read_date, voucher_facts
from providers.tusfacturas.model import (
    KEY,
    Operacion,
    TusFacturasConfig,
    TusFacturasCredentials,
    TusFacturasVoucher,
)
from providers.tusfacturas.parser import build_voucher, parse_voucher

ACCOUNT_PATH: Final = "clientes/cuenta-corriente"
ADVANCED_SEARCH_PATH: Final = "facturacion/consulta_avanzada"

#: ``(path, credentials, fields)`` -> the ``error: "N"`` body, or None for "nothing found".
Fetch = Callable[[str, TusFacturasCredentials, dict[str, Any]], Awaitable[dict[str, Any] | None]]

# The voucher, up to its numbers, then the customer's name in parentheses (which may hold
# parentheses of its own; an FCE type's "(FCE)" comes before the numbers).
_CONCEPTO = re.compile(r"^\s*(?P<voucher>.*?\d+\s*-\s*\d+)\s*(?:\((?P<name>.*)\))?\s*$")

T = TypeVar("T")


@dataclass(frozen=True)
class CredentialSet:
    """One distinct credential set, and the puntos de venta configured for it (none for
    the default set alone)."""

    credentials: TusFacturasCredentials
    puntos_de_venta: tuple[int, ...] = ()


def credential_sets(config: TusFacturasConfig) -> list[CredentialSet]:
    """Each distinct credential set once: those per punto de venta first, then the default."""
    found: dict[tuple[str, str, str], tuple[TusFacturasCredentials, list[int]]] = {}
    for punto_venta, credentials in sorted(config.credentials_by_punto_venta.items()):
        found.setdefault(identity(credentials), (credentials, []))[1].append(punto_venta)
    if config.default_credentials is not None:
        found.setdefault(identity(config.default_credentials), (config.default_credentials, []))
    return [CredentialSet(credentials, tuple(pvs)) for credentials, pvs in found.values()]


def identity(credentials: TusFacturasCredentials) -> tuple[str, str, str]:
    """What tells one credential set from another."""
    return (
        credentials.apikey.get_secret_value(),
        credentials.apitoken.get_secret_value(),
        credentials.usertoken.get_secret_value(),
    )


@dataclass
class _Found:
    """What the credential sets answered, merged: each voucher once."""

    query: CustomerQuery
    sets: Sequence[CredentialSet]
    vouchers: dict[str, tuple[TusFacturasVoucher, InvoiceFacts]]
    truncated: bool = False

    def add(self, found: Iterable[tuple[TusFacturasVoucher, InvoiceFacts]]) -> None:
        for voucher, facts in found:
            self.vouchers.setdefault(voucher.invoice_key, (voucher, facts))

    def result(self, *, cap: int, customers: Sequence[Customer] = ()) -> SearchResult:
        """Newest first (then by punto de venta and number), at most ``cap`` of them."""
        ordered = sorted(
            self.vouchers.values(),
            key=lambda item: (item[1].issued_on or date.min, item[0].punto_venta, item[0].numero),
            reverse=True,
        )
        puntos = {pv for s in self.sets for pv in s.puntos_de_venta}
        puntos |= {voucher.punto_venta for voucher, _ in ordered}
        return SearchResult(
            provider=KEY,
            query=self.query,
            invoices=tuple(facts for _, facts in ordered[:cap]),
            customers=tuple(customers),
            lists_invoices=True,
            searched_in=tuple(str(pv) for pv in sorted(puntos)),
            truncated=self.truncated or len(ordered) > cap,
        )


async def search(
    fetch: Fetch,
    config: TusFacturasConfig,
    query: CustomerQuery,
    *,
    page_size: int,
    cap: int,
) -> SearchResult:
    """What every credential set finds for ``query``; TusFacturas lists by CUIT and date."""
    sets = credential_sets(config)
    found = _Found(query, sets, {})
    searched_date = query.searched_date
    if query.kind is SearchKind.CUIT:
        answers = await _all([_account(fetch, s.credentials, query.value) for s in sets])
        names: list[str] = []
        for answer in answers:
            if answer is not None:
                found.add(answer[0])
                names.extend(answer[1])
        customer = Customer(
            provider=KEY,
            name=names[0] if names else None,
            tax_id_type="CUIT",
            tax_id=query.value,
        )
        recognised = any(answer is not None for answer in answers)
        return found.result(cap=cap, customers=[customer] if recognised else [])
    if query.kind is SearchKind.DATE and searched_date is not None:
        fields = {
            "busqueda_tipo": "F",
            "comprobante": {"fecha": searched_date.strftime("%d/%m/%Y"), "operacion": "V"},
        }
        pages = [_pages(fetch, s.credentials, fields, page_size, cap) for s in sets]
        for items, more in await _all(pages):
            found.add(_items(items))
            found.truncated = found.truncated or more
        return found.result(cap=cap)
    return SearchResult(provider=KEY, query=query, lists_invoices=False)


async def _all(calls: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Every call's answer, run together; the first failure cancels the rest and is raised."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(call) for call in calls]
    except BaseExceptionGroup as failed:
        first: BaseException = failed
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        raise first from None
    return [task.result() for task in tasks]


# -- by CUIT ------------------------------------------------------------------------


async def _account(
    fetch: Fetch, credentials: TusFacturasCredentials, cuit: str
) -> tuple[list[tuple[TusFacturasVoucher, InvoiceFacts]], list[str]] | None:
    """The vouchers of the customer's account and the names it gives, or None (no such
    customer)."""
    fields = {"cliente": {"documento_tipo": "CUIT", "documento_nro": cuit}}
    answer = await fetch(ACCOUNT_PATH, credentials, fields)
    if answer is None:
        return None
    lines = answer.get("resultados")
    found: list[tuple[TusFacturasVoucher, InvoiceFacts]] = []
    names: list[str] = []
    for line in lines if isinstance(lines, list) else ():
        read = _account_line(line, cuit) if isinstance(line, Mapping) else None
        if read is not None:
            found.append(read)
            if read[1].customer_name:
                names.append(read[1].customer_name)
    return found, names


def _account_line(
    line: Mapping[str, Any], cuit: str
) -> tuple[TusFacturasVoucher, InvoiceFacts] | None:
    """The voucher one line of the account is about, or None for a line about none."""
    match = _CONCEPTO.match(text_value(line.get("concepto")) or "")
    if match is None:
        return None
    try:
        voucher = parse_voucher(match["voucher"])
    except InvalidReferenceError:
        return None
    credit_note = voucher.tipo.startswith("NOTA DE CREDITO")
    debe, haber = amount(line.get("debe")), amount(line.get("haber"))
    total = (haber if credit_note else debe) or debe or haber
    # A credit note is applied, not paid: it has no payment status.
    left = amount(line.get("resta_abonar_de_este_comprobante"))
    facts = InvoiceFacts(
        provider=KEY,
        reference=voucher.reference,
        customer_name=(match["name"] or "").strip() or None,
        customer_id_type="CUIT",
        customer_id=cuit,
        issued_on=read_date(line.get("fecha")),
        total=total,
        payment=None if credit_note else payment_of(left, total),
    )
    return voucher, facts


# -- by date ------------------------------------------------------------------------


async def _pages(
    fetch: Fetch,
    credentials: TusFacturasCredentials,
    fields: Mapping[str, Any],
    page_size: int,
    cap: int,
) -> tuple[list[Mapping[str, Any]], bool]:
    """The items of one credential set's search, page after page until ``total`` is read
    or ``cap`` items are; and whether more were left unread."""
    limite = max(1, min(page_size, cap))
    items: list[Mapping[str, Any]] = []
    pagina = 0
    while True:
        answer = await fetch(
            ADVANCED_SEARCH_PATH, credentials, {**fields, "pagina": pagina, "limite": limite}
        )
        raw = answer.get("comprobantes") if answer is not None else None
        page = raw if isinstance(raw, list) else []
        items.extend(item for item in page if isinstance(item, Mapping))
        total = _count(answer.get("total")) if answer is not None else None
        read = (pagina + 1) * limite
        if len(page) < limite or (total is not None and read >= total):
            return items, False
        if read >= cap:
            return items[:cap], True
        pagina += 1


def _count(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _items(items: Iterable[Mapping[str, Any]]) -> list[tuple[TusFacturasVoucher, InvoiceFacts]]:
    """The facts of each item whose voucher can be read (as the lookup reads them)."""
    found: list[tuple[TusFacturasVoucher, InvoiceFacts]] = []
    for item in items:
        document = item.get("comprobante")
        if not isinstance(document, Mapping):
            continue
        try:
            voucher = build_voucher(
                tipo=text_value(document.get("tipo")),
                punto_venta=text_value(document.get("punto_venta")),
                numero=text_value(document.get("numero")),
                operacion=Operacion.VENTA.value,
            )
        except InvalidReferenceError:
            continue
        found.append((voucher, voucher_facts(voucher, item)))
    return found
