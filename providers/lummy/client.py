"""The Lummy API: re-send and look up an invoice, search customers, and what the answers
mean."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import httpx
import structlog

from providers.base import InvoiceFacts, InvoiceStatus, ResendResult
from providers.customers import CustomerQuery
from providers.errors import NotFoundError, OutcomeUnknownError, ProviderError, RejectedError
from providers.http import HttpProviderClient, error_for_status, json_object
from providers.lummy.model import KEY, RESENDS_PER_HOUR, LummyConfig, LummyInvoice
from providers.lummy.search import LUMMY_SEARCHES, empty_result, search_path, search_result
from providers.parsing import amount, email_list, fold, iso_date, text_value, web_link
from providers.search import SearchResult

log = structlog.get_logger(__name__)


def _sent_at(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        log.warning("lummy_bad_sent_at", sent_at=value[:64])
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _error_field(message: str | None, invoice: LummyInvoice | None) -> str | None:
    """The field a 400 is about: only the alternative e-mail can be named with confidence
    (the invoice id was already checked as a UUID before sending)."""
    text = (message or "").lower()
    if invoice is not None and invoice.email and ("mail" in text or "correo" in text):
        return "email"
    return None


def _is_wrong_endpoint(status: int, message: str | None) -> bool:
    """A 404/405 about the route (``Cannot POST /path``, or no Lummy envelope at all)."""
    if status == 405:
        return True
    return status == 404 and (message is None or message.startswith("Cannot "))


class LummyClient(HttpProviderClient[LummyConfig]):
    """Re-sends Lummy invoice PDFs; one credential set covers every invoice."""

    provider = KEY

    async def lookup(self, invoice: LummyInvoice) -> InvoiceFacts:
        """What Lummy says about the invoice (``GET invoices/{id}``); see the module notes."""
        response = await self._get(
            f"invoices/{invoice.invoice_id}", headers=self._config.headers(), lookup=True
        )
        envelope = json_object(response)
        if not response.is_success:
            request_id = self._request_id(envelope, response)
            raise self._status_error(response, envelope, request_id, invoice)
        return _lookup_facts(invoice, envelope.get("data") if envelope else None)

    async def search(self, query: CustomerQuery) -> SearchResult:
        """Customers by RFC or legal name (``GET customers?search=``); see `providers.lummy.search`.

        Lummy lists no invoices, so the result holds customers only. A 404 that is not
        about the route is nothing found; a query of another kind asks nothing.
        """
        if query.kind not in LUMMY_SEARCHES:
            return empty_result(query)
        response = await self._get(search_path(query), headers=self._config.headers(), lookup=True)
        envelope = json_object(response)
        if not response.is_success:
            error = self._status_error(response, envelope, self._request_id(envelope, response))
            if isinstance(error, NotFoundError):
                return empty_result(query)
            raise error
        return search_result(query, envelope)

    async def resend(self, invoice: LummyInvoice, *, idempotency_key: str) -> ResendResult:
        """E-mail the invoice PDF to the customer, or to ``invoice.email`` instead."""
        headers = {**self._config.headers(), "x-idempotency": idempotency_key}
        body = {"email": invoice.email} if invoice.email else {}
        response = await self._post(
            f"invoices/{invoice.invoice_id}/resend-pdf",
            json=body,
            headers=headers,
            retry_server_errors=True,
        )
        return self._interpret(invoice, response)

    def _interpret(self, invoice: LummyInvoice, response: httpx.Response) -> ResendResult:
        envelope = json_object(response)
        request_id = self._request_id(envelope, response)
        if response.is_success:
            data = envelope.get("data") if envelope else None
            if not isinstance(data, Mapping):
                raise OutcomeUnknownError(
                    f"HTTP {response.status_code} without a StandardResponse data object: "
                    f"{response.text[:200]!r}",
                    provider=self.provider,
                    request_id=request_id,
                    status_code=response.status_code,
                )
            if data.get("success") is not True:
                message = data.get("message")
                raise RejectedError(
                    "data.success is not true",
                    provider=self.provider,
                    messages=(message,) if isinstance(message, str) and message else (),
                    request_id=request_id,
                    status_code=response.status_code,
                )
            return ResendResult(
                provider=self.provider,
                reference=invoice.reference,
                recipients=email_list(data.get("sentTo")) or email_list(invoice.email),
                sent_at=_sent_at(data.get("sentAt")),
                request_id=request_id,
            )
        raise self._status_error(response, envelope, request_id, invoice)

    def _status_error(
        self,
        response: httpx.Response,
        envelope: Mapping[str, Any] | None,
        request_id: str | None,
        invoice: LummyInvoice | None = None,
    ) -> ProviderError:
        """The error of a non-success answer; without an ``invoice`` (a search) a 429 is a
        momentary throttle, not the hourly cap on one invoice's re-sends."""
        error = envelope.get("error") if envelope else None
        message = code = None
        if isinstance(error, Mapping):
            raw_message, raw_code = error.get("message"), error.get("code")
            message = str(raw_message) if raw_message else None
            code = str(raw_code) if raw_code else None
        return error_for_status(
            self.provider,
            response,
            message=message,
            code=code,
            request_id=request_id,
            limit_per_hour=RESENDS_PER_HOUR if invoice is not None else None,
            throttled=invoice is None,
            invalid_field=_error_field(message, invoice),
            wrong_endpoint=_is_wrong_endpoint(response.status_code, message),
        )

    @staticmethod
    def _request_id(envelope: Mapping[str, Any] | None, response: httpx.Response) -> str | None:
        value = envelope.get("requestId") if envelope else None
        if isinstance(value, str) and value:
            return value
        header: str | None = response.headers.get("x-request-id")
        return header


#: Lummy statuses the bot can tell apart (folded); any other is simply not known.
_STATUSES: Final[dict[str, InvoiceStatus]] = {
    "STAMPED": InvoiceStatus.ISSUED,
    "ISSUED": InvoiceStatus.ISSUED,
    "VALID": InvoiceStatus.ISSUED,
    "TIMBRADA": InvoiceStatus.ISSUED,
    "VIGENTE": InvoiceStatus.ISSUED,
    "CANCELLED": InvoiceStatus.CANCELLED,
    "CANCELED": InvoiceStatus.CANCELLED,
    "CANCELADA": InvoiceStatus.CANCELLED,
}


def _first(record: Mapping[str, Any], *names: str) -> Any:
    return next((record[name] for name in names if record.get(name) not in (None, "")), None)


def _lookup_facts(invoice: LummyInvoice, data: object) -> InvoiceFacts:
    """Facts from an undocumented answer: known names where they are, nothing otherwise."""
    record: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
    nested = record.get("invoice")
    if isinstance(nested, Mapping):
        record = nested
    party = _first(record, "customer", "receptor", "recipient", "client")
    customer: Mapping[str, Any] = party if isinstance(party, Mapping) else {}
    serie = text_value(_first(record, "serie", "series"))
    folio = text_value(record.get("folio"))
    status_text = text_value(record.get("status"))
    emails = _first(customer, "email", "emails") or _first(record, "customerEmail", "email")
    return InvoiceFacts(
        provider=KEY,
        reference=invoice.reference,
        customer_name=text_value(
            _first(customer, "legalName", "name", "nombre", "razonSocial", "businessName")
            or record.get("customerName")
        ),
        customer_id_type="RFC" if text_value(customer.get("rfc")) else None,
        customer_id=text_value(customer.get("rfc")),
        recipients=email_list(emails) if emails is not None else None,
        issued_on=iso_date(_first(record, "issuedAt", "fecha", "date", "issueDate", "createdAt")),
        total=amount(record.get("total")),
        currency=(text_value(_first(record, "currency", "moneda")) or "").upper() or None,
        status=_STATUSES.get(fold(status_text)) if status_text else None,
        status_text=status_text,
        pdf_url=web_link(_first(record, "pdfUrl", "pdf_url", "pdf")),
        display_number=f"{serie}-{folio}" if serie and folio else folio,
    )
