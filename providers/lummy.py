"""Lummy (Mexico, CFDI): re-send an invoice's PDF by e-mail.

Contract: ``POST {base}/invoices/{invoiceId}/resend-pdf`` answering in the
StandardResponse envelope (``requestId`` plus ``data`` or ``error``). Every
logical re-send carries one ``x-idempotency`` key, so a 5xx may be retried with
the same key; Lummy replays the first result instead of e-mailing twice.

Lookup: ``GET {base}/invoices/{invoiceId}`` exists in Lummy's documentation
("consultar factura") but its answer is not documented beyond carrying
``cfdiUuid``. The client reads it as optional and tolerant: the StandardResponse
``data`` (or ``data.invoice``), with the customer under ``customer``/``receptor``
and the usual names for serie, folio, total, currency, date, status and e-mail.
Whatever is missing or shaped otherwise is simply not known.

Everything the bot knows about Lummy is here: the invoice model, how agents
write its ids (pasted links to an invoice included), the form, the settings
(``LUMMY_*``), the client and its quota.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from uuid import UUID

import httpx
import structlog
from pydantic import EmailStr, HttpUrl, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from providers.base import (
    WHOLE_INPUT,
    FieldKind,
    FieldProblem,
    FormField,
    InvalidReferenceError,
    InvoiceFacts,
    InvoiceProvider,
    InvoiceStatus,
    ProviderSettings,
    Recognition,
    ResendRequest,
    ResendResult,
    blank_is_unset,
)
from providers.errors import (
    OutcomeUnknownError,
    ProviderError,
    RejectedError,
)
from providers.http import HttpProviderClient, error_for_status, json_object
from providers.parsing import (
    EMAIL_INVALID,
    EMPTY,
    EXTRA_TEXT,
    REQUIRED,
    amount,
    email_list,
    fold,
    is_blank,
    iso_date,
    normalise_email,
    parse_uuid,
    quote,
    text_value,
    web_link,
)

log = structlog.get_logger(__name__)

KEY: Final = "lummy"
#: Lummy's documented cap on re-sends of one invoice.
RESENDS_PER_HOUR: Final = 10
INVOICE_ID_INVALID: Final = "invoice_id_invalid"


class LummyInvoice(ResendRequest):
    """A Lummy invoice (CFDI), by Lummy's internal id, with an optional alternative e-mail."""

    provider = KEY

    invoice_id: UUID
    email: EmailStr | None = None

    @property
    def reference(self) -> str:
        """The invoice id in its canonical lower-case form."""
        return str(self.invoice_id)

    @property
    def alternative_email(self) -> str | None:
        """The address to send to instead of the customer's, for this send only."""
        return self.email

    @property
    def short_reference(self) -> str:
        """The id's first block (``550e8400``): enough to tell invoices apart in a channel."""
        return self.reference.split("-", 1)[0]


# --- Reading what agents write ----------------------------------------------------

# A link to a Lummy page, bare or as Slack formats it (``<https://…|label>``).
_LUMMY_LINK = re.compile(
    r"<?(https?://(?:[\w-]+\.)*lummy\.(?:io|mx|com)(?:[/?#][^\s|<>]*)?)(?:\|[^<>]*)?>?",
    re.IGNORECASE,
)
_UUID_IN_TEXT = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)
# In a link with several ids (an organization's and an invoice's), the invoice's follows this.
_INVOICE_SEGMENT = re.compile(r"/(?:invoices?|facturas?)/", re.IGNORECASE)


def invoice_id_in_link(text: str) -> str | None:
    """The invoice id in a pasted link to a Lummy invoice, or None when ``text`` is not one."""
    link = _LUMMY_LINK.fullmatch(text.strip())
    if link is None:
        return None
    url = link[1]
    segment = _INVOICE_SEGMENT.search(url)
    after = _UUID_IN_TEXT.search(url, segment.end()) if segment else None
    ids = _UUID_IN_TEXT.findall(url)
    if after is not None:
        return after[0].lower()
    return ids[-1].lower() if ids else None


def _links_as_ids(text: str) -> str:
    """``text`` with every pasted link to a Lummy invoice replaced by the invoice's id."""
    return _LUMMY_LINK.sub(lambda m: invoice_id_in_link(m[0]) or m[0], text)


def build_lummy_invoice(*, invoice_id: str | None, email: str | None = None) -> LummyInvoice:
    """A Lummy invoice from separate fields (a form), checking each one. A pasted link to
    the invoice counts as its id; what cannot be read is kept as typed in ``understood``."""
    errors: dict[str, FieldProblem] = {}
    understood: dict[str, str] = {}
    if invoice_id is not None:
        invoice_id = invoice_id_in_link(invoice_id) or invoice_id
    parsed_id = None if is_blank(invoice_id) else parse_uuid(invoice_id or "")
    if is_blank(invoice_id):
        errors["invoice_id"] = FieldProblem(REQUIRED)
    elif parsed_id is None:
        errors["invoice_id"] = FieldProblem(INVOICE_ID_INVALID, text=quote(invoice_id or ""))
        understood["invoice_id"] = (invoice_id or "").strip()
    else:
        understood["invoice_id"] = str(parsed_id)

    normalised_email: str | None = None
    if email is not None and not is_blank(email):
        normalised_email = normalise_email(email)
        if normalised_email is None:
            errors["email"] = FieldProblem(EMAIL_INVALID, text=quote(email, 80))
            # Never drop it: an empty field would send to the address on file instead.
            understood["email"] = email.strip()
        else:
            understood["email"] = normalised_email

    if errors or parsed_id is None:
        raise InvalidReferenceError(errors, provider=KEY, understood=understood)
    return LummyInvoice(invoice_id=parsed_id, email=normalised_email)


def parse_lummy(text: str) -> LummyInvoice:
    """A Lummy invoice from ``<uuid or link to it> [alternative e-mail]``."""
    tokens = _links_as_ids(text).split()
    if not tokens:
        raise InvalidReferenceError({WHOLE_INPUT: FieldProblem(EMPTY)}, provider=KEY)
    invoice_id, *rest = tokens
    email = rest[0] if rest else None
    extra = FieldProblem(EXTRA_TEXT, text=quote(" ".join(rest[1:]))) if len(rest) > 1 else None
    try:
        invoice = build_lummy_invoice(invoice_id=invoice_id, email=email)
    except InvalidReferenceError as exc:
        if extra is not None:
            exc.problems[WHOLE_INPUT] = extra
        raise
    if extra is not None:
        raise InvalidReferenceError(
            {WHOLE_INPUT: extra},
            provider=KEY,
            understood={"invoice_id": invoice.reference, "email": invoice.email or ""},
        )
    return invoice


_UUID_LIKE = re.compile(r"^[<{]?[0-9a-zA-Z]{8}-[0-9a-zA-Z]{4}-")


# --- Settings ---------------------------------------------------------------------


class LummySettings(ProviderSettings):
    """``LUMMY_*``: the API key and organization (both needed), an optional bearer token."""

    model_config = SettingsConfigDict(env_prefix="LUMMY_")

    api_key: SecretStr | None = None
    organization_id: str | None = None
    access_token: SecretStr | None = None
    base_url: HttpUrl = HttpUrl("https://api.lummy.io/v1")

    _blank_is_unset = field_validator("api_key", "organization_id", "access_token", mode="before")(
        blank_is_unset
    )

    def config(self) -> LummyConfig | None:
        """Endpoint and credentials, or None when not configured."""
        if self.api_key is None or self.organization_id is None:
            return None
        return LummyConfig(
            base_url=str(self.base_url),
            api_key=self.api_key,
            organization_id=self.organization_id,
            access_token=self.access_token,
        )


@dataclass(frozen=True)
class LummyConfig:
    """Endpoint and credentials. The bearer token falls back to the API key."""

    base_url: str
    api_key: SecretStr
    organization_id: str
    access_token: SecretStr | None = None

    def headers(self) -> dict[str, str]:
        """The authentication headers Lummy's documentation asks for."""
        bearer = (self.access_token or self.api_key).get_secret_value()
        return {
            "Authorization": f"Bearer {bearer}",
            "x-organization-id": self.organization_id,
            "x-api-key": self.api_key.get_secret_value(),
        }


# --- The client -------------------------------------------------------------------


def _sent_at(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        log.warning("lummy_bad_sent_at", sent_at=value[:64])
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _error_field(message: str | None, invoice: LummyInvoice) -> str | None:
    """The field a 400 is about: only the alternative e-mail can be named with confidence
    (the invoice id was already checked as a UUID before sending)."""
    text = (message or "").lower()
    if invoice.email and ("mail" in text or "correo" in text):
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
        response = await self._get(f"invoices/{invoice.invoice_id}", headers=self._config.headers())
        envelope = json_object(response)
        if not response.is_success:
            raise self._status_error(
                response, envelope, self._request_id(envelope, response), invoice
            )
        return _lookup_facts(invoice, envelope.get("data") if envelope else None)

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
        invoice: LummyInvoice,
    ) -> ProviderError:
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
            limit_per_hour=RESENDS_PER_HOUR,
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


# --- The provider -----------------------------------------------------------------


class Lummy(InvoiceProvider[LummyInvoice, LummySettings]):
    """Lummy, Mexico: invoices by Lummy's internal id, optionally to another address."""

    key = KEY
    label = "Lummy"
    country = "MX"
    aliases = ("lummy",)
    request_model = LummyInvoice
    settings_model = LummySettings
    form = (
        FormField("invoice_id", example="550e8400-e29b-41d4-a716-446655440000"),
        FormField("email", FieldKind.EMAIL, required=False, example="otro@cliente.com"),
    )
    reference_field = "invoice_id"
    alternative_email_field = "email"
    hourly_quota = RESENDS_PER_HOUR
    timezone = "America/Mexico_City"
    can_look_up = True
    client_class = LummyClient

    def recognizes(self, text: str) -> Recognition:
        """Sure with a UUID first (or something shaped like the start of one), or a link
        to a Lummy invoice."""
        first = _links_as_ids(text).split(maxsplit=1)[0] if text.strip() else ""
        if parse_uuid(first) is not None or _UUID_LIKE.match(first) is not None:
            return Recognition.SURE
        return Recognition.NO

    def parse(self, text: str) -> LummyInvoice:
        """An invoice from ``<uuid> [alternative e-mail]``."""
        return parse_lummy(text)

    def build_request(self, values: Mapping[str, str]) -> LummyInvoice:
        """An invoice from the form's fields, checking each one."""
        return build_lummy_invoice(invoice_id=values.get("invoice_id"), email=values.get("email"))

    def form_values(self, request: LummyInvoice) -> dict[str, str]:
        """The id, and the alternative e-mail when there is one."""
        values = {"invoice_id": request.reference}
        if request.email:
            values["email"] = request.email
        return values


LUMMY: Final = Lummy()
