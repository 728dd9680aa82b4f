"""Emulator of Lummy's ``POST /invoices/{invoiceId}/resend-pdf``, ``GET
/invoices/{invoiceId}``, ``GET /customers`` and ``GET /customers/{customerId}`` (CFDI,
Mexico).

Answers use the StandardResponse envelope from the seed contract:

- 200 ``{"requestId", "data": {"success", "sentTo", "sentAt"}, "timestamp", "path", "method"}``
- errors ``{"requestId", "error": {"message", "code", "status"}, "timestamp", "path", "method"}``

======  ===========================  ==================================================
Status  code                         When
======  ===========================  ==================================================
400     ValidationError              invoiceId not a UUID, body not a JSON object, bad
                                     ``email``, ``x-idempotency`` not a UUID; customerId
                                     not a UUID, bad ``page``, ``limit`` or ``search``
401     UnauthorizedException        missing/wrong ``x-api-key`` or ``Authorization``,
                                     missing ``x-organization-id``
403     ForbiddenException           ``x-organization-id`` of another organization
404     NotFoundException            unknown invoice, customer or route (a route's
                                     message is ``Cannot GET /path``)
405     MethodNotAllowedException    wrong method on a known route
429     TooManyRequestsException     more than ``hourly_limit`` re-sends of one invoice
                                     in a sliding hour, or more than
                                     ``searches_per_minute`` customer searches in a
                                     sliding minute (``Retry-After`` header)
======  ===========================  ==================================================

Idempotency: the first answer (after authentication) for an ``x-idempotency``
key is stored and replayed byte for byte for any later request with that key,
without sending again and without counting toward the rate limit.

The lookup (``GET``) is documented by Lummy only as carrying ``cfdiUuid``; this
emulator answers the shape the bot assumes (see `providers.lummy`):
``data: {id, cfdiUuid, serie, folio, status, total, currency, issuedAt,
customer: {legalName, rfc, email}}``, with the same authentication and errors,
never counted toward the rate limit. An invoice without `LummyInvoiceDetails`
answers only ``id``, ``cfdiUuid`` and ``customer.email``. An invoice linked to a
customer (`invoice_customers`) also names it: ``customer.id``.

The customer search (``GET /customers?search=&page=1&limit=20``, same authentication)
answers ``data: [{id, rfc, legalName, fiscalRegime, fiscalZipCode, email}]``: the
known customers (`devkit.emulators.lummy_customers`) matching part of the RFC or the
legal name, case-insensitive but accents literal; no ``search`` lists them all.
``limit`` is 1..100 (20 by default), ``page`` from 1, ``search`` at most 100
characters (400 otherwise). ``GET /customers/{id}`` answers one of them. Faults on
`CUSTOMERS_ROUTE` are keyed by the search text (lower-cased), on `CUSTOMER_ROUTE` by
the customer id.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Final

from aiohttp import web

from devkit.emulators.common import (
    LOOKUP_ROUTE,
    RESEND_ROUTE,
    Clock,
    EmulatorServer,
    RecordedRequest,
)
from devkit.emulators.lummy_customers import (
    DEFAULT_LUMMY_CUSTOMERS,
    DEFAULT_LUMMY_INVOICE_CUSTOMERS,
    CustomerListing,
    InvalidQueryError,
    LummyCustomer,
)

#: Invoices the emulator knows when none are given: invoice id -> customer e-mail.
DEFAULT_LUMMY_INVOICES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "550e8400-e29b-41d4-a716-446655440000": "cliente@empresa.com",
        "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13": "facturacion@abarroteslaguadalupe.com.mx",
        "9d7e6c5b-1a2f-4b3c-8d4e-5f6a7b8c9d0e": "cuentasporpagar@constructoramonterrey.mx",
        "c1a9e2f4-6b3d-4c8e-a7f5-0e1d2c3b4a59": "contabilidad@cafeteriaelportal.com.mx",
    }
)


@dataclass(frozen=True, slots=True)
class LummyInvoiceDetails:
    """What the lookup tells about an invoice besides its customer's e-mail."""

    serie: str
    folio: str
    customer_name: str
    rfc: str
    total: float
    issued_at: datetime
    currency: str = "MXN"
    status: str = "stamped"


#: Details of the invoices the emulator knows when none are given.
DEFAULT_LUMMY_DETAILS: Final[Mapping[str, LummyInvoiceDetails]] = MappingProxyType(
    {
        "550e8400-e29b-41d4-a716-446655440000": LummyInvoiceDetails(
            "A",
            "1234",
            "Empresa Demo S.A. de C.V.",
            "EDE010101AB1",
            11600.0,
            datetime(2026, 11, 14, 16, 20, tzinfo=UTC),
        ),
        "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13": LummyInvoiceDetails(
            "A",
            "877",
            "Abarrotes La Guadalupe",
            "AGU150312QW4",
            5423.5,
            datetime(2026, 11, 2, 18, 5, tzinfo=UTC),
        ),
        "9d7e6c5b-1a2f-4b3c-8d4e-5f6a7b8c9d0e": LummyInvoiceDetails(
            "B",
            "56",
            "Constructora Monterrey S.A. de C.V.",
            "CMO990101KL2",
            348000.0,
            datetime(2026, 10, 28, 15, 0, tzinfo=UTC),
        ),
    }
)

RATE_LIMIT_MESSAGE: Final = (
    "Has alcanzado el limite de reenvios para esta factura. Intenta mas tarde."
)

_UUID_RE: Final = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)
_EMAIL_RE: Final = re.compile(
    r"[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_WINDOW: Final = timedelta(hours=1)
_SEARCH_WINDOW: Final = timedelta(minutes=1)
#: The route that searches customers (`devkit.emulators.common`'s routes are the others).
CUSTOMERS_ROUTE: Final = "customers"
#: The route that reads one customer by id.
CUSTOMER_ROUTE: Final = "customer"
SEARCH_LIMIT_MESSAGE: Final = "Demasiadas solicitudes. Intenta mas tarde."


@dataclass(frozen=True, slots=True)
class LummySend:
    """One PDF e-mail the emulator "sent"."""

    invoice_id: str
    to: str
    at: datetime
    idempotency_key: str | None
    request_id: str


@dataclass(frozen=True, slots=True)
class _StoredAnswer:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...]


class _LummyError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def format_lummy_timestamp(moment: datetime) -> str:
    """Format ``moment`` (UTC) as Lummy does: ``2025-01-20T10:30:00.000Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def new_request_id() -> str:
    """Return a fresh request id in Lummy's style (``abc123-def456``)."""
    return f"{secrets.token_hex(3)}-{secrets.token_hex(3)}"


def is_valid_email(value: str) -> bool:
    """Return whether ``value`` looks like a deliverable e-mail address."""
    return len(value) <= 254 and _EMAIL_RE.fullmatch(value) is not None


def _same(given: str, expected: str) -> bool:
    return secrets.compare_digest(given.encode(), expected.encode())


class LummyEmulator(EmulatorServer):
    """HTTP emulator of Lummy's resend-pdf endpoint."""

    malformed_json_body = b'{"requestId": "abc123-def456", "data": {"success": tr'

    def __init__(
        self,
        api_key: str,
        organization_id: str,
        access_token: str | None = None,
        invoices: Mapping[str, str] | None = None,
        path_prefix: str = "/v1",
        clock: Clock | None = None,
        hourly_limit: int = 10,
        details: Mapping[str, LummyInvoiceDetails] | None = None,
        customers: Mapping[str, LummyCustomer] | None = None,
        invoice_customers: Mapping[str, str] | None = None,
        searches_per_minute: int = 60,
    ) -> None:
        super().__init__(path_prefix=path_prefix, clock=clock)
        self.api_key = api_key
        self.organization_id = organization_id
        self.access_token = access_token
        source = DEFAULT_LUMMY_INVOICES if invoices is None else invoices
        #: invoice id (lower-cased) -> registered customer e-mail; mutable at runtime.
        self.invoices: dict[str, str] = {key.lower(): email for key, email in source.items()}
        #: invoice id (lower-cased) -> what the lookup adds; mutable at runtime.
        self.details: dict[str, LummyInvoiceDetails] = {
            key.lower(): value
            for key, value in (DEFAULT_LUMMY_DETAILS if details is None else details).items()
        }
        #: customer id (lower-cased) -> customer, in listing order; mutable at runtime.
        self.customers: dict[str, LummyCustomer] = {
            key.lower(): value
            for key, value in (DEFAULT_LUMMY_CUSTOMERS if customers is None else customers).items()
        }
        links = DEFAULT_LUMMY_INVOICE_CUSTOMERS if invoice_customers is None else invoice_customers
        #: invoice id (lower-cased) -> the id of the customer it was issued to; mutable.
        self.invoice_customers: dict[str, str] = {
            key.lower(): value.lower() for key, value in links.items()
        }
        self.hourly_limit = hourly_limit
        self.searches_per_minute = searches_per_minute
        self._searches: list[datetime] = []
        #: Every e-mail actually "sent", in order.
        self.sends: list[LummySend] = []
        self._idempotent: dict[str, _StoredAnswer] = {}

    def _register_routes(self, app: web.Application) -> None:
        app.router.add_post(f"{self.path_prefix}/invoices/{{invoice_id}}/resend-pdf", self._resend)
        app.router.add_get(f"{self.path_prefix}/invoices/{{invoice_id}}", self._lookup)
        app.router.add_get(f"{self.path_prefix}/customers", self._customers)
        app.router.add_get(f"{self.path_prefix}/customers/{{customer_id}}", self._customer)

    def _route_of(self, request: web.Request) -> str | None:
        path = request.path.removeprefix(self.path_prefix)
        if request.method == "GET" and path == "/customers":
            return CUSTOMERS_ROUTE
        if request.method == "GET" and path.startswith("/customers/") and path.count("/") == 2:
            return CUSTOMER_ROUTE
        if not path.startswith("/invoices/"):
            return None
        if path.endswith("/resend-pdf") and request.method == "POST":
            return RESEND_ROUTE
        return LOOKUP_ROUTE if request.method == "GET" and path.count("/") == 2 else None

    def _fault_key(self, request: web.Request, recorded: RecordedRequest) -> str | None:
        if recorded.route == CUSTOMERS_ROUTE:
            return request.query.get("search", "").strip().lower()
        matched = request.match_info.get("invoice_id") or request.match_info.get("customer_id")
        return None if matched is None else matched.lower()

    def _normalize_key(self, key: str) -> str:
        return key.lower()

    def _http_error(self, request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
        code = {
            404: "NotFoundException",
            405: "MethodNotAllowedException",
        }.get(exc.status, "HttpException")
        message = f"Cannot {request.method} {request.path}" if exc.status == 404 else exc.reason
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else {}
        error = _LummyError(exc.status, code, message, headers)
        return self._to_response(self._error_answer(request, new_request_id(), error))

    # -- envelope ------------------------------------------------------------

    def _envelope_path(self, request: web.Request) -> str:
        path = request.path
        if self.path_prefix and path.startswith(self.path_prefix + "/"):
            return path[len(self.path_prefix) :]
        return path

    def _answer(
        self,
        request: web.Request,
        request_id: str,
        status: int,
        payload: dict[str, Any],
        extra_headers: Mapping[str, str] | None = None,
    ) -> _StoredAnswer:
        envelope = {
            "requestId": request_id,
            **payload,
            "timestamp": format_lummy_timestamp(self.now()),
            "path": self._envelope_path(request),
            "method": request.method,
        }
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "x-request-id": request_id,
            **(extra_headers or {}),
        }
        return _StoredAnswer(
            status=status,
            body=json.dumps(envelope, ensure_ascii=False).encode(),
            headers=tuple(headers.items()),
        )

    def _error_answer(
        self, request: web.Request, request_id: str, error: _LummyError
    ) -> _StoredAnswer:
        payload = {"error": {"message": error.message, "code": error.code, "status": error.status}}
        return self._answer(request, request_id, error.status, payload, error.headers)

    @staticmethod
    def _to_response(answer: _StoredAnswer) -> web.Response:
        return web.Response(status=answer.status, body=answer.body, headers=list(answer.headers))

    # -- the endpoint --------------------------------------------------------

    async def _resend(self, request: web.Request) -> web.StreamResponse:
        request_id = new_request_id()
        try:
            self._authenticate(request)
            idempotency_key = self._idempotency_key(request)
        except _LummyError as error:
            return self._to_response(self._error_answer(request, request_id, error))
        if idempotency_key is not None and idempotency_key in self._idempotent:
            return self._to_response(self._idempotent[idempotency_key])
        body = await request.read()
        try:
            answer = self._process(request, request_id, body, idempotency_key)
        except _LummyError as error:
            answer = self._error_answer(request, request_id, error)
        if idempotency_key is not None:
            self._idempotent[idempotency_key] = answer
        return self._to_response(answer)

    async def _lookup(self, request: web.Request) -> web.StreamResponse:
        request_id = new_request_id()
        try:
            self._authenticate(request)
            invoice_id = request.match_info["invoice_id"]
            if _UUID_RE.fullmatch(invoice_id) is None:
                raise _LummyError(400, "ValidationError", "invoiceId debe ser un UUID")
            invoice_id = invoice_id.lower()
            email = self.invoices.get(invoice_id)
            if email is None:
                raise _LummyError(404, "NotFoundException", "Invoice not found")
        except _LummyError as error:
            return self._to_response(self._error_answer(request, request_id, error))
        data: dict[str, Any] = {
            "id": invoice_id,
            "cfdiUuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cfdi:{invoice_id}")).upper(),
        }
        customer: dict[str, Any] = {"email": email}
        customer_id = self.invoice_customers.get(invoice_id)
        if customer_id is not None and customer_id in self.customers:
            customer = {"id": customer_id, **customer}
        details = self.details.get(invoice_id)
        if details is not None:
            customer.update(legalName=details.customer_name, rfc=details.rfc)
            data.update(
                serie=details.serie,
                folio=details.folio,
                status=details.status,
                total=details.total,
                currency=details.currency,
                issuedAt=format_lummy_timestamp(details.issued_at),
            )
        data["customer"] = customer
        return self._to_response(self._answer(request, request_id, 200, {"data": data}))

    async def _customers(self, request: web.Request) -> web.StreamResponse:
        request_id = new_request_id()
        try:
            self._authenticate(request)
            listing = CustomerListing.from_query(request.query)
            self._check_search_limit(self.now())
        except InvalidQueryError as invalid:
            error = _LummyError(400, "ValidationError", str(invalid))
            return self._to_response(self._error_answer(request, request_id, error))
        except _LummyError as error:
            return self._to_response(self._error_answer(request, request_id, error))
        data = [customer.record() for customer in listing.page_of(self.customers.values())]
        return self._to_response(self._answer(request, request_id, 200, {"data": data}))

    async def _customer(self, request: web.Request) -> web.StreamResponse:
        request_id = new_request_id()
        try:
            self._authenticate(request)
            customer_id = request.match_info["customer_id"]
            if _UUID_RE.fullmatch(customer_id) is None:
                raise _LummyError(400, "ValidationError", "customerId debe ser un UUID")
            customer = self.customers.get(customer_id.lower())
            if customer is None:
                raise _LummyError(404, "NotFoundException", "Customer not found")
        except _LummyError as error:
            return self._to_response(self._error_answer(request, request_id, error))
        answer = self._answer(request, request_id, 200, {"data": customer.record()})
        return self._to_response(answer)

    def _check_search_limit(self, now: datetime) -> None:
        """At most ``searches_per_minute`` searches in a sliding minute; each one counts."""
        self._searches = [at for at in self._searches if now - _SEARCH_WINDOW < at <= now]
        if len(self._searches) >= self.searches_per_minute:
            oldest = min(self._searches, default=now)
            retry_after = max(1, math.ceil((oldest + _SEARCH_WINDOW - now).total_seconds()))
            raise _LummyError(
                429,
                "TooManyRequestsException",
                SEARCH_LIMIT_MESSAGE,
                {"Retry-After": str(retry_after)},
            )
        self._searches.append(now)

    def _authenticate(self, request: web.Request) -> None:
        api_key = request.headers.get("x-api-key")
        authorization = request.headers.get("Authorization")
        organization = request.headers.get("x-organization-id")
        if not api_key or not authorization or not organization:
            raise _LummyError(401, "UnauthorizedException", "Missing credentials")
        expected_bearer = f"Bearer {self.access_token or self.api_key}"
        if not _same(api_key, self.api_key) or not _same(authorization, expected_bearer):
            raise _LummyError(401, "UnauthorizedException", "Invalid credentials")
        if organization != self.organization_id:
            raise _LummyError(403, "ForbiddenException", "No tienes acceso a esta organizacion")

    @staticmethod
    def _idempotency_key(request: web.Request) -> str | None:
        key = request.headers.get("x-idempotency")
        if key is None:
            return None
        if _UUID_RE.fullmatch(key) is None:
            raise _LummyError(400, "ValidationError", "x-idempotency debe ser un UUID")
        return key.lower()

    def _process(
        self,
        request: web.Request,
        request_id: str,
        body: bytes,
        idempotency_key: str | None,
    ) -> _StoredAnswer:
        invoice_id = request.match_info["invoice_id"]
        if _UUID_RE.fullmatch(invoice_id) is None:
            raise _LummyError(400, "ValidationError", "invoiceId debe ser un UUID")
        invoice_id = invoice_id.lower()
        email = self._requested_email(body)
        registered = self.invoices.get(invoice_id)
        if registered is None:
            raise _LummyError(404, "NotFoundException", "Invoice not found")
        now = self.now()
        self._check_rate_limit(invoice_id, now)
        sent_to = email or registered
        self.sends.append(LummySend(invoice_id, sent_to, now, idempotency_key, request_id))
        payload = {
            "data": {"success": True, "sentTo": sent_to, "sentAt": format_lummy_timestamp(now)}
        }
        return self._answer(request, request_id, 200, payload)

    @staticmethod
    def _requested_email(body: bytes) -> str | None:
        if not body.strip():
            return None
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            raise _LummyError(
                400, "ValidationError", "El cuerpo de la solicitud debe ser JSON valido"
            ) from None
        if not isinstance(parsed, dict):
            raise _LummyError(
                400, "ValidationError", "El cuerpo de la solicitud debe ser un objeto JSON"
            )
        email = parsed.get("email")
        if email is None:
            return None
        if not isinstance(email, str) or not is_valid_email(email):
            raise _LummyError(400, "ValidationError", "Email invalido")
        return email

    def _check_rate_limit(self, invoice_id: str, now: datetime) -> None:
        window_start = now - _WINDOW
        recent = [
            send.at
            for send in self.sends
            if send.invoice_id == invoice_id and window_start < send.at <= now
        ]
        if len(recent) < self.hourly_limit:
            return
        oldest = min(recent, default=now)
        retry_after = max(1, math.ceil((oldest + _WINDOW - now).total_seconds()))
        raise _LummyError(
            429,
            "TooManyRequestsException",
            RATE_LIMIT_MESSAGE,
            {"Retry-After": str(retry_after)},
        )
