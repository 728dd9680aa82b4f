"""httpx over aiohttp's connection pool, for the providers' API calls.

httpx's own pool (httpcore 1.0) looks at every pooled connection, and asks the
socket of each whether it is readable, every time a request starts or ends: at
fifty re-sends in flight that was a third of the bot's CPU. aiohttp's pool hands
out a connection in constant time, and aiohttp is already how the bot talks to
Slack. httpx stays the client API; only the transport underneath changes.

The translation of failures is the part that matters: the provider clients
retry only what never left this process (`httpx.ConnectError`,
`httpx.ConnectTimeout`, `httpx.PoolTimeout`), so a failure after the request
may have been sent must never be reported as one of those.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import httpx


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport on one aiohttp session (opened on first use, in the running loop)."""

    def __init__(self, *, max_connections: int, keepalive_expiry: float = 5.0) -> None:
        self._max_connections = max_connections
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self._max_connections,
            keepalive_timeout=self._keepalive_expiry,
        )
        # httpx decodes the body itself (it reads Content-Encoding), so aiohttp must not.
        return aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=None),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request``; the whole (small) body is read before answering."""
        session = self._session
        if session is None or session.closed:
            session = self._session = self._open()
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        timeout = aiohttp.ClientTimeout(
            total=None,
            # Waiting for a pooled connection plus connecting: nothing was sent yet.
            connect=_seconds(timeouts.get("pool"), timeouts.get("connect")),
            sock_connect=timeouts.get("connect"),
            sock_read=timeouts.get("read"),
        )
        try:
            async with session.request(
                request.method,
                str(request.url),
                headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw
                ],
                data=await request.aread() or None,
                allow_redirects=False,
                timeout=timeout,
            ) as response:
                content = await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "connect timeout", request=request) from exc
        except aiohttp.ClientConnectorError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise httpx.ReadTimeout(str(exc) or "read timeout", request=request) from exc
        except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
            raise httpx.UnsupportedProtocol(str(exc), request=request) from exc
        except (aiohttp.ClientError, OSError) as exc:
            # After the request may have been sent: the outcome is unknown.
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request) from exc
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            content=content,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        """Close the pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None


def _headers(request: httpx.Request) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]


def _seconds(*parts: float | None) -> float | None:
    """The sum of the bounds given, or None when there is none."""
    given = [part for part in parts if part is not None]
    return sum(given) if given else None
