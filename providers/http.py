"""The HTTP machinery both provider clients share.

This is the one place where transport failures become provider errors, and the
one retry loop. A retry happens only when the request surely never reached the
provider (it could not connect) or, when the caller says the provider
deduplicates (an idempotency key), after a 5xx. A read timeout or a dropped
connection after sending is "outcome unknown" and is never retried here.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import httpx
import structlog

from providers.errors import (
    AuthenticationError,
    ErrorContext,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderError,
    ProviderNotConfiguredError,
    ProviderUnavailableError,
    RateLimitedError,
    RejectedError,
)
from providers.transport import AiohttpTransport

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class HttpOptions:
    """Timeouts (seconds), pool sizes and retry policy for a provider client.

    ``max_connections`` is the re-sends' pool; lookups (optional, never worth delaying a
    re-send for) have their own pool of ``lookup_connections``.
    """

    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_retries: int = 2
    retry_backoff: float = 0.5
    max_backoff: float = 8.0
    max_connections: int = 100
    lookup_connections: int = 10

    def timeout(self) -> httpx.Timeout:
        """The httpx timeout: connects are short; reads, and waits for a pooled connection
        during a burst of re-sends, may take as long as a slow answer."""
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.read_timeout,
        )

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter for retry number ``attempt`` (1-based)."""
        ceiling = min(self.max_backoff, self.retry_backoff * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not cryptography


def retry_after(response: httpx.Response) -> timedelta | None:
    """The ``Retry-After`` header as a duration, if present and sensible."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    return timedelta(seconds=max(0.0, seconds)) if seconds < 86_400 else None


class ProviderConfig(Protocol):
    """What a provider client is built from: its endpoint, and whatever credentials it needs."""

    @property
    def base_url(self) -> str:
        """The root of the provider's API."""
        ...


ConfigT = TypeVar("ConfigT", bound=ProviderConfig)


class HttpProviderClient(Generic[ConfigT]):
    """Long-lived ``httpx.AsyncClient``s for one provider, with transport error mapping.

    A provider's client subclasses it with its own config, adds ``resend`` (and ``lookup``),
    and overrides `not_configured_for` when one credential set does not cover every request.
    Lookups (``lookup=True``) go over a smaller pool of their own, so a slow lookup never
    holds a connection a re-send is waiting for; an injected ``transport`` serves both.
    """

    provider: ClassVar[str]

    def __init__(
        self,
        config: ConfigT,
        options: HttpOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._options = options
        self._client = self._http_client(config, options.max_connections, transport)
        self._lookup_client = self._http_client(config, options.lookup_connections, transport)

    def _http_client(
        self, config: ConfigT, connections: int, transport: httpx.AsyncBaseTransport | None
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=config.base_url.rstrip("/") + "/",
            timeout=self._options.timeout(),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
            headers={"Accept": "application/json", "User-Agent": "reenviar-bot"},
            transport=transport or AiohttpTransport(max_connections=connections),
            follow_redirects=False,
        )

    def not_configured_for(self, request: Any) -> ProviderNotConfiguredError | None:
        """Why this request cannot be sent with the configured credentials, or None: by
        default one credential set covers every request."""
        return None

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._client.aclose()
        await self._lookup_client.aclose()

    async def _post(
        self,
        path: str,
        *,
        json: dict[str, Any] | None,
        headers: dict[str, str] | None = None,
        retry_server_errors: bool = False,
        lookup: bool = False,
    ) -> httpx.Response:
        """POST with bounded retries; every transport failure becomes a provider error.
        ``lookup``: an optional call that sends nothing, over the lookups' own pool."""
        return await self._request(
            "POST",
            path,
            json=json,
            headers=headers,
            retry_server_errors=retry_server_errors,
            lookup=lookup,
        )

    async def _get(
        self, path: str, *, headers: dict[str, str] | None = None, lookup: bool = False
    ) -> httpx.Response:
        """GET (it changes nothing), with the same error mapping as `_post`."""
        return await self._request("GET", path, json=None, headers=headers, lookup=lookup)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None,
        headers: dict[str, str] | None,
        retry_server_errors: bool = False,
        lookup: bool = False,
    ) -> httpx.Response:
        client = self._lookup_client if lookup else self._client
        attempt = 0
        while True:
            attempt += 1
            retries_left = attempt <= self._options.max_retries
            try:
                response = await client.request(method, path, json=json, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left this process: retrying cannot send twice.
                if retries_left:
                    await self._pause(attempt, reason=type(exc).__name__)
                    continue
                raise ProviderUnavailableError(
                    f"could not connect after {attempt} attempts: {type(exc).__name__}: {exc}",
                    provider=self.provider,
                ) from exc
            except (httpx.TransportError, httpx.InvalidURL) as exc:
                raise _transport_error(self.provider, exc) from exc
            if response.status_code >= 500 and retry_server_errors and retries_left:
                await self._pause(attempt, reason=f"HTTP {response.status_code}")
                continue
            return response

    async def _pause(self, attempt: int, *, reason: str) -> None:
        delay = self._options.backoff(attempt)
        log.info(
            "provider_retry",
            provider=self.provider,
            attempt=attempt,
            reason=reason,
            delay_ms=round(delay * 1000),
        )
        await asyncio.sleep(delay)


def _transport_error(provider: str, exc: httpx.TransportError | httpx.InvalidURL) -> ProviderError:
    """What a transport failure that is not retried says about the request."""
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return AuthenticationError(f"provider URL is misconfigured: {exc}", provider=provider)
    if isinstance(exc, httpx.TimeoutException):
        detail = f"no answer in time ({type(exc).__name__}); it may have been processed"
    else:
        detail = f"connection failed after sending ({type(exc).__name__}: {exc})"
    return OutcomeUnknownError(detail, provider=provider)


def error_for_status(
    provider: str,
    response: httpx.Response,
    *,
    message: str | None = None,
    code: str | None = None,
    request_id: str | None = None,
    limit_per_hour: int | None = None,
    invalid_field: str | None = None,
    throttled: bool = False,
    wrong_endpoint: bool = False,
) -> ProviderError:
    """The provider error for a non-success HTTP status, with whatever the body told.

    ``throttled``: the provider's 429 is a momentary throttle rather than a cap.
    ``wrong_endpoint``: the answer is about the route itself (the provider knows which of
    its 404s and 405s are), so the base URL is wrong, not the invoice missing.
    """
    status = response.status_code
    detail = f"HTTP {status}" + (f" {code}" if code else "") + (f": {message}" if message else "")
    context: ErrorContext = {
        "request_id": request_id,
        "status_code": status,
        "provider_message": message,
    }
    if wrong_endpoint:
        return AuthenticationError(
            f"HTTP {status} from the endpoint; check {provider.upper()}_BASE_URL",
            provider=provider,
            **context,
        )
    if status in (401, 403):
        return AuthenticationError(detail, provider=provider, **context)
    if 300 <= status < 400:
        # Redirects are not followed (a POST must not turn into a GET): the base URL is wrong.
        location = response.headers.get("location", "")
        return AuthenticationError(
            f"{detail}; redirected to {location!r}, check the provider base URL",
            provider=provider,
            **context,
        )
    if status == 404:
        return NotFoundError(detail, provider=provider, **context)
    if status == 429:
        return RateLimitedError(
            detail,
            provider=provider,
            limit_per_hour=limit_per_hour,
            retry_after=retry_after(response),
            throttled=throttled,
            **context,
        )
    if status >= 500:
        return ProviderUnavailableError(detail, provider=provider, **context)
    if status in (400, 422):
        return InvalidRequestError(detail, provider=provider, field=invalid_field, **context)
    return RejectedError(
        detail,
        provider=provider,
        messages=(message,) if message else (),
        codes=(code,) if code else (),
        **context,
    )


def json_object(response: httpx.Response) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is anything else."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
