"""What TusFacturas' answers say about a voucher and the customer's account, as facts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from providers.base import InvoiceFacts, InvoiceStatus, PaymentStatus
from providers.parsing import amount, email_list, fold, text_value, web_link
from providers.tusfacturas.model import KEY, TusFacturasVoucher

#: TusFacturas' currency codes, as ISO 4217 where they map to one.
_CURRENCIES: Final[dict[str, str]] = {"PES": "ARS", "DOL": "USD", "EUR": "EUR"}


def _status(text: str) -> InvoiceStatus:
    folded = fold(text)
    if folded == "EMITIDO":
        return InvoiceStatus.ISSUED
    if folded.startswith("APROBADO"):
        return InvoiceStatus.QUEUED
    if folded.startswith("EN COLA"):
        return InvoiceStatus.AWAITING_APPROVAL
    if "ERROR" in folded:
        return InvoiceStatus.FAILED
    if "ANULAD" in folded:
        return InvoiceStatus.CANCELLED
    return InvoiceStatus.OTHER


def read_date(value: object) -> date | None:
    """``dd/mm/aaaa``, as TusFacturas writes dates."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y").date()
    except ValueError:
        return None


def voucher_facts(voucher: TusFacturasVoucher, body: Mapping[str, Any]) -> InvoiceFacts:
    """The facts of a ``consulta`` answer (or an item of ``consulta_avanzada``); fields
    missing or in another shape stay empty."""
    cliente = body.get("cliente")
    customer: Mapping[str, Any] = cliente if isinstance(cliente, Mapping) else {}
    comprobante = body.get("comprobante")
    document: Mapping[str, Any] = comprobante if isinstance(comprobante, Mapping) else {}
    status_text = text_value(document.get("status"))
    currency = text_value(document.get("moneda"))
    return InvoiceFacts(
        provider=KEY,
        reference=voucher.reference,
        customer_name=text_value(customer.get("razon_social")),
        customer_id_type=text_value(customer.get("documento_tipo")),
        customer_id=text_value(customer.get("documento_nro")),
        recipients=email_list(customer.get("email")) if "email" in customer else None,
        issued_on=read_date(document.get("fecha")),
        total=amount(document.get("total")),
        currency=_CURRENCIES.get(currency.upper(), currency) if currency else None,
        status=_status(status_text) if status_text else None,
        status_text=status_text,
        pdf_url=web_link(document.get("comprobante_pdf_url")),
        payment=_ACCOUNT_STATUSES.get(fold(text_value(document.get("ctacte_status")) or "")),
    )


#: ``ctacte_status``: where the voucher stands in the customer's account.
_ACCOUNT_STATUSES: Final[dict[str, PaymentStatus]] = {
    "PAGADA": PaymentStatus.PAID,
    "IMPAGA": PaymentStatus.UNPAID,
    "PAGO PARCIAL": PaymentStatus.PARTIAL,
}


def payment_of(left_to_pay: Decimal | None, total: Decimal | None) -> PaymentStatus | None:
    """Paid when nothing is left to pay, unpaid when all of it is, else partly paid."""
    if left_to_pay is None:
        return None
    if left_to_pay <= 0:
        return PaymentStatus.PAID
    if total is None:
        return None
    return PaymentStatus.UNPAID if left_to_pay >= total else PaymentStatus.PARTIAL
