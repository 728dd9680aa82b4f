"""The TusFacturas API: re-send and look up a voucher, and what its answers mean."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

import httpx

from providers.base import InvoiceFacts, InvoiceStatus, ResendResult
from providers.errors import (
    REJECTION_EMAIL_SENDING_OFF,
    AuthenticationError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderError,
    ProviderNotConfiguredError,
    RejectedError,
)
from providers.http import HttpProviderClient, error_for_status, json_object
from providers.parsing import (
    amount,
    email_list,
    emails_in,
    fold,
    strip_accents,
    text_value,
    web_link,
)
from providers.tusfacturas.model import KEY, TusFacturasConfig, TusFacturasVoucher

RESEND_PATH: Final = "facturacion/reenviar"
LOOKUP_PATH: Final = "facturacion/consulta"

# How TusFacturas words the failures the bot treats specially (accents folded).
_AUTH_WORDS = re.compile(r"api ?key|api ?token|user ?token|credencial")
_NOT_FOUND_WORDS = re.compile(r"no existe|inexistente|no se encontr|no encontrad")
# "… no tenía configurado el envío del comprobante por e-mail": sending, e-mail, and
# a setting that was off, all three; an invalid address alone is not this precondition.
_EMAIL_SENDING = re.compile(r"envi[oa]r?\b.*\b(e-?mail|correo)|(e-?mail|correo).*\benvi[oa]r?\b")
_SETTING_OFF = re.compile(r"habilitad|configurad|activad|perfil")


def _fold_message(text: str) -> str:
    return strip_accents(text).lower()


def _provider_messages(body: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The human messages and codes of an ``error: "S"`` answer, de-duplicated."""
    messages: list[str] = []
    codes: list[str] = []
    errores = body.get("errores")
    if isinstance(errores, list):
        messages.extend(str(item).strip() for item in errores if str(item).strip())
    elif isinstance(errores, str) and errores.strip():
        messages.append(errores.strip())
    details = body.get("error_details")
    if isinstance(details, list):
        for detail in details:
            if not isinstance(detail, Mapping):
                continue
            code, text = detail.get("code"), detail.get("text")
            if isinstance(code, str | int) and str(code).strip():
                codes.append(str(code).strip())
            if isinstance(text, str) and text.strip():
                messages.append(text.strip())
    return tuple(dict.fromkeys(messages)), tuple(dict.fromkeys(codes))


class TusFacturasClient(HttpProviderClient[TusFacturasConfig]):
    """Re-sends TusFacturas vouchers."""

    provider = KEY

    def not_configured_for(self, voucher: TusFacturasVoucher) -> ProviderNotConfiguredError | None:
        """The error when no credential set covers the voucher's punto de venta, else None."""
        if self._config.credentials_for(voucher.punto_venta) is not None:
            return None
        return ProviderNotConfiguredError(
            f"no credentials for punto de venta {voucher.punto_venta} and no default set",
            provider=self.provider,
            field="punto_venta",
            field_value=str(voucher.punto_venta),
        )

    async def resend(self, voucher: TusFacturasVoucher, *, idempotency_key: str) -> ResendResult:
        """Ask TusFacturas to e-mail the voucher again to the addresses on file.

        TusFacturas has no idempotency: ``idempotency_key`` only identifies the attempt
        in our logs, and nothing is retried once it may have reached the provider.
        """
        response = await self._post(RESEND_PATH, json=self._body(voucher))
        body = self._answer(response)
        rta = body.get("rta")
        message = rta.strip() if isinstance(rta, str) and rta.strip() else None
        return ResendResult(
            provider=self.provider,
            reference=voucher.reference,
            # The answer names the addresses only in its free text, when it does at all.
            recipients=emails_in(message),
            provider_message=message,
        )

    async def lookup(self, voucher: TusFacturasVoucher) -> InvoiceFacts:
        """The customer and the voucher as TusFacturas has them (``facturacion/consulta``).

        Sends nothing to anyone and is not billed; unknown vouchers are `NotFoundError`.
        """
        response = await self._post(LOOKUP_PATH, json=self._body(voucher), lookup=True)
        return _facts(voucher, self._answer(response))

    def _body(self, voucher: TusFacturasVoucher) -> dict[str, Any]:
        """Credentials for the voucher's punto de venta, and the voucher itself."""
        credentials = self._config.credentials_for(voucher.punto_venta)
        if credentials is None:
            raise self.not_configured_for(voucher) or ProviderNotConfiguredError(
                "no credentials", provider=self.provider
            )
        return {
            "apikey": credentials.apikey.get_secret_value(),
            "apitoken": credentials.apitoken.get_secret_value(),
            "usertoken": credentials.usertoken.get_secret_value(),
            "comprobante": {
                "tipo": voucher.tipo,
                "operacion": voucher.operacion.value,
                "punto_venta": str(voucher.punto_venta),
                "numero": str(voucher.numero),
            },
        }

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        """The body of an ``error: "N"`` answer; anything else raises its provider error."""
        body = json_object(response)
        if response.status_code != 200:
            raise self._status_error(response, body)
        if body is None:
            raise OutcomeUnknownError(
                f"HTTP 200 with a body that is not a JSON object: {response.text[:200]!r}",
                provider=self.provider,
                status_code=200,
            )
        flag = str(body.get("error", "")).strip().upper()
        if flag == "N":
            return body
        if flag == "S":
            raise self._business_error(body)
        raise OutcomeUnknownError(
            f"HTTP 200 without error N or S: {str(body)[:200]}",
            provider=self.provider,
            status_code=200,
        )

    def _business_error(self, body: Mapping[str, Any]) -> ProviderError:
        """Classify an ``error: "S"`` answer by what its messages say."""
        messages, codes = _provider_messages(body)
        detail = "error S: " + ("; ".join(f"{c}" for c in codes) or "no codes")
        folded = _fold_message(" ".join(messages))
        provider_message = " ".join(messages) or None
        if _AUTH_WORDS.search(folded):
            return AuthenticationError(
                detail, provider=self.provider, status_code=200, provider_message=provider_message
            )
        if _NOT_FOUND_WORDS.search(folded):
            return NotFoundError(
                detail, provider=self.provider, status_code=200, provider_message=provider_message
            )
        return RejectedError(
            detail,
            provider=self.provider,
            messages=messages,
            codes=codes,
            reason=REJECTION_EMAIL_SENDING_OFF
            if _EMAIL_SENDING.search(folded) and _SETTING_OFF.search(folded)
            else None,
            status_code=200,
        )

    def _status_error(
        self, response: httpx.Response, body: Mapping[str, Any] | None
    ) -> ProviderError:
        messages, codes = _provider_messages(body) if body else ((), ())
        message = " ".join(messages) or None
        if response.status_code >= 500:
            return OutcomeUnknownError(
                f"HTTP {response.status_code} from TusFacturas; the e-mail may have gone out",
                provider=self.provider,
                status_code=response.status_code,
                provider_message=message,
            )
        return error_for_status(
            self.provider,
            response,
            message=message,
            code=codes[0] if codes else None,
            # A 429 is TusFacturas' per-second throttle: nothing was sent.
            throttled=True,
            # A missing voucher is an ``error: "S"`` answer: a 404 or 405 is the endpoint's.
            wrong_endpoint=response.status_code in (404, 405),
        )


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


def _date(value: object) -> date | None:
    """``dd/mm/aaaa``, as TusFacturas writes dates."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), "%d/%m/%Y").date()
    except ValueError:
        return None


def _facts(voucher: TusFacturasVoucher, body: Mapping[str, Any]) -> InvoiceFacts:
    """The facts of a ``consulta`` answer; fields missing or in another shape stay empty."""
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
        issued_on=_date(document.get("fecha")),
        total=amount(document.get("total")),
        currency=_CURRENCIES.get(currency.upper(), currency) if currency else None,
        status=_status(status_text) if status_text else None,
        status_text=status_text,
        pdf_url=web_link(document.get("comprobante_pdf_url")),
    )
