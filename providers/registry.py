"""One entry point for re-sends, whatever the provider, with its canonical log line."""

from __future__ import annotations

import time

import httpx
import structlog

from providers.base import LummyInvoice, Provider, ResendRequest, ResendResult
from providers.errors import Outcome, OutcomeUnknownError, ProviderError, ProviderNotConfiguredError
from providers.http import HttpOptions
from providers.lummy import LummyClient, LummyConfig
from providers.tusfacturas import TusFacturasClient, TusFacturasConfig

log = structlog.get_logger(__name__)


class Providers:
    """The configured provider clients. A provider without credentials is simply absent."""

    def __init__(
        self,
        *,
        tusfacturas: TusFacturasClient | None = None,
        lummy: LummyClient | None = None,
    ) -> None:
        self._tusfacturas = tusfacturas
        self._lummy = lummy

    @classmethod
    def from_configs(
        cls,
        *,
        tusfacturas: TusFacturasConfig | None,
        lummy: LummyConfig | None,
        options: HttpOptions,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Providers:
        """Build a client for each provider that has a configuration."""
        return cls(
            tusfacturas=TusFacturasClient(tusfacturas, options, transport=transport)
            if tusfacturas
            else None,
            lummy=LummyClient(lummy, options, transport=transport) if lummy else None,
        )

    def is_configured(self, provider: Provider) -> bool:
        """Whether the bot holds credentials for this provider."""
        client = self._tusfacturas if provider is Provider.TUSFACTURAS else self._lummy
        return client is not None

    def missing_configuration(self, request: ResendRequest) -> ProviderNotConfiguredError | None:
        """Why this request cannot be sent with the configured credentials, or None."""
        if isinstance(request, LummyInvoice):
            return None if self._lummy else _not_configured(Provider.LUMMY)
        if self._tusfacturas is None:
            return _not_configured(Provider.TUSFACTURAS)
        if not self._tusfacturas.has_credentials_for(request.punto_venta):
            return self._tusfacturas.not_configured_for(request.punto_venta)
        return None

    async def resend(self, request: ResendRequest, *, idempotency_key: str) -> ResendResult:
        """Re-send through the request's provider; failures are always `ProviderError`s.

        ``idempotency_key`` identifies the logical re-send: a retry of the same
        request must pass the same key. The canonical audit line is written by
        the caller, which knows who asked and where the outcome was posted; this
        layer logs the provider call itself at debug level.
        """
        started = time.perf_counter()
        fields = {
            "provider": request.provider.value,
            "reference": request.reference,
            "idempotency_key": idempotency_key,
        }
        try:
            result = await self._dispatch(request, idempotency_key)
        except ProviderError as exc:
            log.debug(
                "provider_call",
                **fields,
                outcome=exc.outcome.value,
                latency_ms=_elapsed_ms(started),
                request_id=exc.request_id,
                status_code=exc.status_code,
                detail=exc.detail,
            )
            raise
        except Exception as exc:
            # A bug or a surprise from a library: the request may have gone out.
            log.exception(
                "provider_unexpected_error",
                **fields,
                latency_ms=_elapsed_ms(started),
                detail=f"unexpected {type(exc).__name__}",
            )
            raise OutcomeUnknownError(
                f"unexpected {type(exc).__name__}: {exc}", provider=request.provider
            ) from exc
        log.debug(
            "provider_call",
            **fields,
            outcome=Outcome.SUCCESS.value,
            latency_ms=_elapsed_ms(started),
            request_id=result.request_id,
        )
        return result

    async def _dispatch(self, request: ResendRequest, idempotency_key: str) -> ResendResult:
        if isinstance(request, LummyInvoice):
            if self._lummy is None:
                raise _not_configured(Provider.LUMMY)
            return await self._lummy.resend(request, idempotency_key=idempotency_key)
        if self._tusfacturas is None:
            raise _not_configured(Provider.TUSFACTURAS)
        return await self._tusfacturas.resend(request)

    async def aclose(self) -> None:
        """Close every client's connection pool."""
        for client in (self._tusfacturas, self._lummy):
            if client is not None:
                await client.aclose()


def _not_configured(provider: Provider) -> ProviderNotConfiguredError:
    return ProviderNotConfiguredError(
        f"{provider.display_name} credentials are not set", provider=provider
    )


def _elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
