"""TusFacturas.app (Argentina, AFIP/ARCA): re-send a voucher by e-mail.

Contract: ``POST {base}/facturacion/reenviar`` with the credentials in the body.
Business and validation errors come as HTTP 200 with ``error: "S"``; transport
and access errors as 4xx, possibly without JSON. There is no request id and no
idempotency: a 5xx (a gateway timing out, say) may come after the e-mail went out,
so it is never retried automatically and its outcome is reported as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from providers.base import Provider, ResendResult, TusFacturasVoucher
from providers.errors import (
    AuthenticationError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderError,
    ProviderNotConfiguredError,
    RejectedError,
)
from providers.http import HttpOptions, HttpProviderClient, error_for_status, json_object
from providers.parsing import strip_accents

RESEND_PATH = "facturacion/reenviar"


@dataclass(frozen=True)
class TusFacturasCredentials:
    """One credential set; TusFacturas issues one per punto de venta."""

    apikey: SecretStr
    apitoken: SecretStr
    usertoken: SecretStr


@dataclass(frozen=True)
class TusFacturasConfig:
    """Endpoint and credentials: a default set and optional per-punto-de-venta sets."""

    base_url: str
    default_credentials: TusFacturasCredentials | None = None
    credentials_by_punto_venta: Mapping[int, TusFacturasCredentials] = field(default_factory=dict)

    def credentials_for(self, punto_venta: int) -> TusFacturasCredentials | None:
        """The set for this punto de venta, else the default set, else None."""
        return self.credentials_by_punto_venta.get(punto_venta, self.default_credentials)


# How TusFacturas words the failures the bot treats specially (accents folded).
_AUTH_WORDS = re.compile(r"api ?key|api ?token|user ?token|credencial")
_NOT_FOUND_WORDS = re.compile(r"no existe|inexistente|no se encontr|no encontrad")
# "… no tenía configurado el envío del comprobante por e-mail": sending, e-mail, and
# a setting that was off, all three; an invalid address alone is not this precondition.
_EMAIL_SENDING = re.compile(r"envi[oa]r?\b.*\b(e-?mail|correo)|(e-?mail|correo).*\benvi[oa]r?\b")
_SETTING_OFF = re.compile(r"habilitad|configurad|activad|perfil")


def _fold(text: str) -> str:
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


class TusFacturasClient(HttpProviderClient):
    """Re-sends TusFacturas vouchers."""

    provider = Provider.TUSFACTURAS

    def __init__(
        self,
        config: TusFacturasConfig,
        options: HttpOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(config.base_url, options, transport=transport)
        self._config = config

    def has_credentials_for(self, punto_venta: int) -> bool:
        """Whether a credential set covers this punto de venta."""
        return self._config.credentials_for(punto_venta) is not None

    async def resend(self, voucher: TusFacturasVoucher) -> ResendResult:
        """Ask TusFacturas to e-mail the voucher again to the addresses on file."""
        credentials = self._config.credentials_for(voucher.punto_venta)
        if credentials is None:
            raise self.not_configured_for(voucher.punto_venta)
        body = {
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
        response = await self._post(RESEND_PATH, json=body)
        return self._interpret(voucher, response)

    def not_configured_for(self, punto_venta: int) -> ProviderNotConfiguredError:
        """The error for a punto de venta no credential set covers."""
        return ProviderNotConfiguredError(
            f"no credentials for punto de venta {punto_venta} and no default set",
            provider=self.provider,
            punto_venta=punto_venta,
        )

    def _interpret(self, voucher: TusFacturasVoucher, response: httpx.Response) -> ResendResult:
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
            rta = body.get("rta")
            return ResendResult(
                provider=self.provider,
                reference=voucher.reference,
                provider_message=rta.strip() if isinstance(rta, str) and rta.strip() else None,
            )
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
        folded = _fold(" ".join(messages))
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
            email_not_enabled=bool(_EMAIL_SENDING.search(folded) and _SETTING_OFF.search(folded)),
            status_code=200,
        )

    def _status_error(
        self, response: httpx.Response, body: Mapping[str, Any] | None
    ) -> ProviderError:
        messages, codes = _provider_messages(body) if body else ((), ())
        message = " ".join(messages) or None
        code = codes[0] if codes else None
        if response.status_code >= 500:
            return OutcomeUnknownError(
                f"HTTP {response.status_code} from TusFacturas; the e-mail may have gone out",
                provider=self.provider,
                status_code=response.status_code,
                provider_message=message,
            )
        if response.status_code in (404, 405):
            # The endpoint itself is wrong: a base URL problem, not a missing voucher.
            return AuthenticationError(
                f"HTTP {response.status_code} from the endpoint; check TUSFACTURAS_BASE_URL",
                provider=self.provider,
                status_code=response.status_code,
                provider_message=message,
            )
        return error_for_status(self.provider, response, message=message, code=code)
