"""Emulator of TusFacturas.app's ``POST /facturacion/reenviar`` and ``POST
/facturacion/consulta`` (ARCA ex AFIP, Argentina), and of its searches, ``POST
/clientes/cuenta-corriente`` and ``POST /facturacion/consulta_avanzada`` (see
`devkit.emulators.tusfacturas_search`).

The re-send and the lookup take the same body (credentials and ``comprobante``) and
share the checks and errors below; the per-second limit counts every call. Every
request is recorded with the time it arrived (`TusFacturasEmulator.calls_by_credentials`
gives them per credential set, to check how a client spaces its calls).

Transport and access errors carry no JSON body:

======  ==================================================================
Status  When
======  ==================================================================
400     body is not a JSON object (plain text ``Bad Request``)
401     missing or unknown apikey/apitoken/usertoken (plain ``Unauthorized``)
403     credentials valid, but issued for another punto de venta
404     unknown route (plain text)
405     method other than POST (plain text)
429     more than ``requests_per_second`` requests in one clock second
======  ==================================================================

Business and validation errors are HTTP 200 with ``{"error": "S", "errores": [...],
"error_details": [{"code", "text"}]}``, one entry per problem:

=========  ===================================================================
Code       Meaning
=========  ===================================================================
TFC-1001   ``comprobante`` missing or not an object
TFC-1002   ``tipo`` missing or not one of the 27 voucher types
TFC-1003   ``operacion`` not ``V`` or ``C``
TFC-1004   ``punto_venta`` not an integer in 1..99999
TFC-1005   ``numero`` not an integer in 1..99999999
TFC-8004   the voucher does not exist
TFC-8010   the customer profile had no send-by-e-mail when the voucher was issued
=========  ===================================================================

Success is ``{"error": "N", "errores": [], "rta": "El comprobante fue reenviado a ..."}``.

The lookup (``consulta``, never billed and never e-mails anyone) answers ``error: "N"``
with ``cliente`` (``documento_tipo``, ``documento_nro``, ``razon_social``, ``email``,
``domicilio``) and ``comprobante`` (``fecha`` dd/mm/aaaa, ``tipo``, ``punto_venta``,
``numero``, ``moneda``, ``total``, ``cae`` with its trailing space, ``status``,
``comprobante_pdf_url``, ``vencimiento_pago``, ``ctacte_status``), or TFC-8004 for an
unknown voucher. Its PDF link works on the day it was given (``GET /pdf/{token}``).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from aiohttp import web

from devkit.emulators.common import (
    LOOKUP_ROUTE,
    RESEND_ROUTE,
    Clock,
    EmulatorServer,
    RecordedRequest,
    parse_json,
)
from devkit.emulators.tusfacturas_search import (
    CONSULTA_AVANZADA_ROUTE,
    CUENTA_CORRIENTE_ROUTE,
    Problem,
    account_statement,
    advanced_search,
    error_body,
    page_key,
    voucher_body,
)
from devkit.emulators.tusfacturas_vouchers import (
    DEFAULT_TUSFACTURAS_VOUCHERS,
    VoucherKey,
    VoucherRecord,
)
from providers.tusfacturas.model import VOUCHER_TYPES

MAX_PUNTO_VENTA: Final = 99_999
MAX_NUMERO: Final = 99_999_999

_DIGITS_RE: Final = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True, slots=True)
class TusFacturasCredentials:
    """One credential set; ``punto_venta`` None means valid for every one."""

    apikey: str
    apitoken: str
    usertoken: str
    punto_venta: int | None = None


@dataclass(frozen=True, slots=True)
class TusFacturasSend:
    """One re-send the emulator "e-mailed"."""

    key: str
    voucher: VoucherKey
    recipients: tuple[str, ...]
    at: datetime


_CODE_COMPROBANTE: Final = "TFC-1001"
_CODE_TIPO: Final = "TFC-1002"
_CODE_OPERACION: Final = "TFC-1003"
_CODE_PUNTO_VENTA: Final = "TFC-1004"
_CODE_NUMERO: Final = "TFC-1005"
_CODE_NOT_FOUND: Final = "TFC-8004"
_CODE_EMAIL_DISABLED: Final = "TFC-8010"


def tusfacturas_key(tipo: str, operacion: str, punto_venta: int, numero: int) -> str:
    """Return the fault key for a voucher, e.g. ``"FACTURA B|V|2|6"``."""
    return f"{tipo}|{operacion}|{punto_venta}|{numero}"


def format_voucher(tipo: str, punto_venta: int, numero: int) -> str:
    """Return the printed form of a voucher, e.g. ``FACTURA B 0002-00000006``."""
    return f"{tipo} {punto_venta:04d}-{numero:08d}"


def _parse_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS_RE.fullmatch(value):
        return int(value)
    return None


def _text(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text)


class TusFacturasEmulator(EmulatorServer):
    """HTTP emulator of TusFacturas.app's re-send, lookup and search endpoints."""

    def __init__(
        self,
        credentials: Sequence[TusFacturasCredentials],
        vouchers: Mapping[VoucherKey, VoucherRecord] | None = None,
        path_prefix: str = "/app/api/v2",
        clock: Clock | None = None,
        requests_per_second: int = 5,
    ) -> None:
        super().__init__(path_prefix=path_prefix, clock=clock)
        self.credentials: list[TusFacturasCredentials] = list(credentials)
        #: Vouchers on file; mutable at runtime.
        self.vouchers: dict[VoucherKey, VoucherRecord] = dict(
            DEFAULT_TUSFACTURAS_VOUCHERS if vouchers is None else vouchers
        )
        self.requests_per_second = requests_per_second
        #: Every re-send actually "e-mailed", in order.
        self.sends: list[TusFacturasSend] = []
        self._pdf_secret = secrets.token_hex(16)
        self._window_second: datetime | None = None
        self._window_count = 0

    def _register_routes(self, app: web.Application) -> None:
        app.router.add_post(f"{self.path_prefix}/facturacion/reenviar", self._reenviar)
        app.router.add_post(f"{self.path_prefix}/facturacion/consulta", self._consulta)
        app.router.add_post(
            f"{self.path_prefix}/facturacion/consulta_avanzada", self._consulta_avanzada
        )
        app.router.add_post(f"{self.path_prefix}/clientes/cuenta-corriente", self._cuenta_corriente)
        app.router.add_get(f"{self.path_prefix}/pdf/{{token}}", self._pdf)

    def _route_of(self, request: web.Request) -> str | None:
        return {
            f"{self.path_prefix}/facturacion/reenviar": RESEND_ROUTE,
            f"{self.path_prefix}/facturacion/consulta": LOOKUP_ROUTE,
            f"{self.path_prefix}/facturacion/consulta_avanzada": CONSULTA_AVANZADA_ROUTE,
            f"{self.path_prefix}/clientes/cuenta-corriente": CUENTA_CORRIENTE_ROUTE,
        }.get(request.path)

    def _fault_key(self, request: web.Request, recorded: RecordedRequest) -> str | None:
        """The voucher's key; for a search, the page (`page_key`) or the document number."""
        payload = recorded.json
        if not isinstance(payload, dict):
            return None
        if recorded.route == CONSULTA_AVANZADA_ROUTE:
            pagina = _parse_int(payload.get("pagina", 0))
            busqueda_tipo = payload.get("busqueda_tipo")
            if pagina is None or not isinstance(busqueda_tipo, str):
                return None
            return page_key(busqueda_tipo, pagina)
        if recorded.route == CUENTA_CORRIENTE_ROUTE:
            cliente = payload.get("cliente")
            number = cliente.get("documento_nro") if isinstance(cliente, dict) else None
            return number if isinstance(number, str) else None
        comprobante = payload.get("comprobante")
        if not isinstance(comprobante, dict):
            return None
        tipo = comprobante.get("tipo")
        operacion = comprobante.get("operacion")
        punto_venta = _parse_int(comprobante.get("punto_venta"))
        numero = _parse_int(comprobante.get("numero"))
        if (
            not isinstance(tipo, str)
            or not isinstance(operacion, str)
            or punto_venta is None
            or numero is None
        ):
            return None
        return tusfacturas_key(tipo, operacion, punto_venta, numero)

    def calls_by_credentials(self, route: str | None = None) -> dict[str, list[datetime]]:
        """When each credential set (by apikey) called ``route`` (None: any), in order."""
        calls: dict[str, list[datetime]] = {}
        for recorded in self.requests:
            payload = recorded.json
            apikey = payload.get("apikey") if isinstance(payload, dict) else None
            if isinstance(apikey, str) and route in (None, recorded.route):
                calls.setdefault(apikey, []).append(recorded.received_at)
        return calls

    # -- the endpoints -------------------------------------------------------

    async def _authorised(
        self, request: web.Request
    ) -> tuple[dict[str, Any], list[TusFacturasCredentials]] | web.Response:
        """The body and the credential sets it names, or the answer that refuses it."""
        if self._over_rate_limit(self.now()):
            return _text(429, "Too Many Requests")
        payload = parse_json(await request.read())
        if not isinstance(payload, dict):
            return _text(400, "Bad Request")
        granted = self._matching_credentials(payload)
        if not granted:
            return _text(401, "Unauthorized")
        return payload, granted

    async def _on_file(
        self, request: web.Request
    ) -> tuple[VoucherKey, VoucherRecord] | web.Response:
        """The voucher a re-send or lookup asks about, or the answer that refuses it."""
        authorised = await self._authorised(request)
        if isinstance(authorised, web.Response):
            return authorised
        payload, granted = authorised
        errors, voucher = self._validate(payload.get("comprobante"))
        if voucher is None:
            return _error_s(errors)
        tipo, operacion, punto_venta, numero = voucher
        if not any(cred.punto_venta in (None, punto_venta) for cred in granted):
            return _text(403, "Forbidden")

        record = self.vouchers.get(voucher)
        if record is None:
            printed = format_voucher(tipo, punto_venta, numero)
            return _error_s(
                [
                    (
                        _CODE_NOT_FOUND,
                        f"El comprobante solicitado no existe: {printed} (operacion {operacion}).",
                    )
                ]
            )
        return voucher, record

    async def _consulta(self, request: web.Request) -> web.StreamResponse:
        found = await self._on_file(request)
        if isinstance(found, web.Response):
            return found
        voucher, record = found
        body = voucher_body(voucher, record, self._pdf_link(request, voucher))
        return web.json_response({"error": "N", "errores": [], **body})

    async def _consulta_avanzada(self, request: web.Request) -> web.StreamResponse:
        authorised = await self._authorised(request)
        if isinstance(authorised, web.Response):
            return authorised
        payload, granted = authorised
        covered = {cred.punto_venta for cred in granted}
        puntos_de_venta = None if None in covered else {pv for pv in covered if pv is not None}
        answer = advanced_search(
            self.vouchers, payload, puntos_de_venta, lambda key: self._pdf_link(request, key)
        )
        return web.json_response(answer)

    async def _cuenta_corriente(self, request: web.Request) -> web.StreamResponse:
        authorised = await self._authorised(request)
        if isinstance(authorised, web.Response):
            return authorised
        payload, _ = authorised
        return web.json_response(account_statement(self.vouchers, payload.get("cliente")))

    def _pdf_link(self, request: web.Request, voucher: VoucherKey) -> str:
        token = self._pdf_token(voucher, self.now().date())
        return f"{request.scheme}://{request.host}{self.path_prefix}/pdf/{token}"

    async def _pdf(self, request: web.Request) -> web.StreamResponse:
        """The PDF behind a lookup's link, on the day the link was given."""
        today = self.now().date()
        token = request.match_info["token"]
        if not any(self._pdf_token(key, today) == token for key in self.vouchers):
            return _text(404, "Not Found")
        return web.Response(body=_FAKE_PDF, content_type="application/pdf")

    def _pdf_token(self, voucher: VoucherKey, day: date) -> str:
        seed = f"{tusfacturas_key(*voucher)}|{day.isoformat()}|{self._pdf_secret}"
        return hashlib.sha256(seed.encode()).hexdigest()[:32]

    async def _reenviar(self, request: web.Request) -> web.StreamResponse:
        now = self.now()
        found = await self._on_file(request)
        if isinstance(found, web.Response):
            return found
        voucher, record = found
        printed = format_voucher(voucher[0], voucher[2], voucher[3])
        if not record.email_enabled or not record.customer_emails:
            return _error_s(
                [
                    (
                        _CODE_EMAIL_DISABLED,
                        f"No se puede reenviar el comprobante {printed}: al momento de "
                        "emitirlo, el perfil del cliente no tenia configurado el envio "
                        "del comprobante por e-mail.",
                    )
                ]
            )
        key = tusfacturas_key(*voucher)
        self.sends.append(TusFacturasSend(key, voucher, record.customer_emails, now))
        return web.json_response(
            {
                "error": "N",
                "errores": [],
                "rta": f"El comprobante fue reenviado a {', '.join(record.customer_emails)}",
            }
        )

    def _over_rate_limit(self, now: datetime) -> bool:
        second = now.replace(microsecond=0)
        if second != self._window_second:
            self._window_second = second
            self._window_count = 0
        self._window_count += 1
        return self._window_count > self.requests_per_second

    def _matching_credentials(self, payload: dict[str, Any]) -> list[TusFacturasCredentials]:
        apikey = payload.get("apikey")
        apitoken = payload.get("apitoken")
        usertoken = payload.get("usertoken")
        if not (isinstance(apikey, str) and isinstance(apitoken, str)):
            return []
        if not isinstance(usertoken, str):
            return []
        return [
            cred
            for cred in self.credentials
            if _same(cred.apikey, apikey)
            and _same(cred.apitoken, apitoken)
            and _same(cred.usertoken, usertoken)
        ]

    @staticmethod
    def _validate(comprobante: Any) -> tuple[list[tuple[str, str]], VoucherKey | None]:
        if not isinstance(comprobante, dict):
            return [
                (
                    _CODE_COMPROBANTE,
                    "El campo comprobante es obligatorio y debe incluir tipo, operacion, "
                    "punto_venta y numero.",
                )
            ], None
        errors: list[tuple[str, str]] = []
        raw_tipo = comprobante.get("tipo")
        tipo = raw_tipo if isinstance(raw_tipo, str) and raw_tipo in VOUCHER_TYPES else None
        if not isinstance(raw_tipo, str) or not raw_tipo:
            errors.append((_CODE_TIPO, "El campo tipo de comprobante es obligatorio."))
        elif tipo is None:
            errors.append((_CODE_TIPO, f"El tipo de comprobante '{raw_tipo}' no es valido."))
        raw_operacion = comprobante.get("operacion")
        operacion = raw_operacion if raw_operacion in ("V", "C") else None
        if operacion is None:
            errors.append(
                (_CODE_OPERACION, "El campo operacion debe ser V (ventas) o C (compras).")
            )
        punto_venta = _in_range(comprobante.get("punto_venta"), MAX_PUNTO_VENTA)
        if punto_venta is None:
            errors.append(
                (_CODE_PUNTO_VENTA, "El punto de venta debe ser un numero entre 1 y 99999.")
            )
        numero = _in_range(comprobante.get("numero"), MAX_NUMERO)
        if numero is None:
            errors.append(
                (_CODE_NUMERO, "El numero de comprobante debe ser un numero entre 1 y 99999999.")
            )
        if tipo is None or operacion is None or punto_venta is None or numero is None:
            return errors, None
        return [], (tipo, operacion, punto_venta, numero)


def _in_range(value: Any, maximum: int) -> int | None:
    parsed = _parse_int(value)
    return parsed if parsed is not None and 1 <= parsed <= maximum else None


def _same(expected: str, given: str) -> bool:
    return secrets.compare_digest(expected.encode(), given.encode())


#: A minimal valid PDF, standing in for the voucher's.
_FAKE_PDF: Final = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _error_s(errors: Sequence[Problem]) -> web.Response:
    return web.json_response(error_body(errors))
