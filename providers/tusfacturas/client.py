"""The TusFacturas API: re-send, look up and search vouchers, and what its answers mean."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any, Final

import httpx

from providers.base import InvoiceFacts, ResendResult
from providers.customers import CustomerQuery
from providers.errors import (
    REJECTION_EMAIL_SENDING_OFF,
    AuthenticationError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderError,
    ProviderNotConfiguredError,
    ProviderUnavailableError,
    RejectedError,
)
from providers.http import (
    HttpOptions,
    HttpProviderClient,
    error_for_status,
    json_object,
    retry_after,
)
from providers.parsing import emails_in, strip_accents
from providers.search import SearchResult
from providers.tusfacturas import search as searching
from providers.tusfacturas.facts import voucher_facts
from providers.tusfacturas.model import (
    KEY,
    TusFacturasConfig,
    TusFacturasCredentials,
    TusFacturasVoucher,
)

RESEND_PATH: Final = "facturacion/reenviar"
LOOKUP_PATH: Final = "facturacion/consulta"

# How TusFacturas words the failures the bot treats specially (accents folded).
_AUTH_WORDS = re.compile(r"api ?key|api ?token|user ?token|credencial")
_NOT_FOUND_WORDS = re.compile(r"no existe|inexistente|no se encontr|no encontrad")
# "… no tenía configurado el envío del comprobante por e-mail": sending, e-mail, and
# a setting that was off, all three; an invalid address alone is not this precondition.
_EMAIL_SENDING = re.compile(r"envi[oa]r?\b.*\b(e-?mail|correo)|(e-?mail|correo).*\benvi[oa]r?\b")
_SETTING_OFF = re.compile(r"habilitad|configurad|activad|perfil")
# How a search may say it found nothing, when it says so with ``error: "S"``.
_NOTHING_FOUND_WORDS = re.compile(r"sin resultados|no hay (comprobantes|resultados|movimientos)")

#: Seconds between the starts of two search calls of one credential set: a little over
#: TusFacturas' 100 ms, so that jitter on the way never brings two calls closer.
SEARCH_SPACING: Final = 0.11
#: Tries of one search call that TusFacturas throttles (429) before giving up.
SEARCH_TRIES: Final = 3
#: The longest a throttled search call waits before it is tried again, in seconds.
SEARCH_MAX_BACKOFF: Final = 2.0
#: Items asked per page of the advanced search (TusFacturas allows up to 1000).
SEARCH_PAGE_SIZE: Final = 100
#: Items a search reads at most; past it the result says it was truncated.
SEARCH_CAP: Final = 500


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


class Pacer:
    """Spaces the starts of calls by ``interval`` seconds, waiting without blocking the loop."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._next = 0.0

    async def wait(self) -> None:
        """Return when this call may start (each call takes the next free slot)."""
        now = asyncio.get_running_loop().time()
        start = max(now, self._next)
        self._next = start + self._interval
        if start > now:
            await asyncio.sleep(start - now)


class TusFacturasClient(HttpProviderClient[TusFacturasConfig]):
    """Re-sends, looks up and searches TusFacturas vouchers."""

    provider = KEY

    def __init__(
        self,
        config: TusFacturasConfig,
        options: HttpOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(config, options, transport=transport)
        self.search_page_size = SEARCH_PAGE_SIZE
        self.search_cap = SEARCH_CAP
        self._pacers: dict[tuple[str, str, str], Pacer] = {}

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
        return voucher_facts(voucher, self._answer(response))

    async def search(self, query: CustomerQuery) -> SearchResult:
        """The vouchers of a CUIT (its account) or of a date, from every credential set,
        newest first; sends nothing to anyone. See `providers.tusfacturas.search`."""
        return await searching.search(
            self._search_call,
            self._config,
            query,
            page_size=self.search_page_size,
            cap=self.search_cap,
        )

    async def _search_call(
        self, path: str, credentials: TusFacturasCredentials, fields: dict[str, Any]
    ) -> dict[str, Any] | None:
        """One search call, spaced from the others of its credential set and tried again
        when throttled: the ``error: "N"`` body, or None when TusFacturas found nothing.

        A search sends nothing, so no failure of it is "outcome unknown": a lost or
        unreadable answer is the provider being unavailable.
        """
        body = {**_credentials_body(credentials), **fields}
        pacer = self._pacers.setdefault(searching.identity(credentials), Pacer(SEARCH_SPACING))
        attempt = 0
        while True:
            attempt += 1
            await pacer.wait()
            try:
                response = await self._post(path, json=body, lookup=True)
            except OutcomeUnknownError as exc:
                raise ProviderUnavailableError(exc.detail, provider=self.provider) from exc
            if response.status_code != 429 or attempt >= SEARCH_TRIES:
                return self._search_answer(response)
            waited = retry_after(response)
            backoff = self._options.backoff(attempt)
            if waited is not None:
                backoff = max(backoff, waited.total_seconds())
            await asyncio.sleep(min(backoff, SEARCH_MAX_BACKOFF))

    def _search_answer(self, response: httpx.Response) -> dict[str, Any] | None:
        """The body of a search's ``error: "N"`` answer; None when it found nothing."""
        body = json_object(response)
        if response.status_code >= 500:
            # Nothing was sent: a failing server is unavailable, not "outcome unknown".
            raise error_for_status(self.provider, response)
        if response.status_code != 200:
            raise self._status_error(response, body)
        flag = str(body.get("error", "")).strip().upper() if body is not None else ""
        if flag == "N" and body is not None:
            return body
        if flag == "S" and body is not None:
            error = self._business_error(body)
            messages, _ = _provider_messages(body)
            nothing = _NOTHING_FOUND_WORDS.search(_fold_message(" ".join(messages)))
            if isinstance(error, NotFoundError) or (
                nothing and not isinstance(error, AuthenticationError)
            ):
                return None
            raise error
        raise ProviderUnavailableError(
            f"HTTP 200 in a shape a search does not know: {response.text[:200]!r}",
            provider=self.provider,
            status_code=200,
        )

    def _body(self, voucher: TusFacturasVoucher) -> dict[str, Any]:
        """Credentials for the voucher's punto de venta, and the voucher itself."""
        credentials = self._config.credentials_for(voucher.punto_venta)
        if credentials is None:
            raise self.not_configured_for(voucher) or ProviderNotConfiguredError(
                "no credentials", provider=self.provider
            )
        return {
            **_credentials_body(credentials),
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


def _credentials_body(credentials: TusFacturasCredentials) -> dict[str, str]:
    """The credentials, as every call carries them in its body."""
    return {
        "apikey": credentials.apikey.get_secret_value(),
        "apitoken": credentials.apitoken.get_secret_value(),
        "usertoken": credentials.usertoken.get_secret_value(),
    }
