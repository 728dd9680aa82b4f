"""Shared machinery for the provider HTTP emulators.

Each emulator is a real aiohttp server bound to loopback. The base class records
every request, applies injected faults (latency, 5xx, malformed JSON, hang,
connection reset) and hands the rest to the provider-specific routes.

A fault is aimed at one route: the re-send (the default), the lookup, or every
route (`ALL_ROUTES`); and at every invoice or only one (``key``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from abc import abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from typing import Any, Final

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from devkit.lifecycle import StartedInContext
from devkit.loopback import LoopbackServer

#: A source of "now"; emulators use it for timestamps and rate-limit windows.
Clock = Callable[[], datetime]

#: Upper bound for graceful shutdown; handlers in flight are cancelled after it.
_SHUTDOWN_TIMEOUT: Final = 1.0
#: How often a hanging handler checks whether its client went away.
_HANG_POLL_SECONDS: Final = 0.05

#: The route that re-sends an invoice; faults aim at it unless told otherwise.
RESEND_ROUTE: Final = "resend"
#: The route that looks an invoice up without sending anything.
LOOKUP_ROUTE: Final = "lookup"
#: Aim a fault at every route, unknown paths included.
ALL_ROUTES: Final = "*"


def utc_now() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class FaultKind(StrEnum):
    """Ways an emulator can misbehave on purpose."""

    #: Handle the request at once (side effects happen) but hold the answer back.
    LATENCY = "latency"
    #: Answer with an HTML error page (503 unless ``Fault.status`` says otherwise).
    SERVER_ERROR = "server_error"
    #: Answer 200 ``application/json`` with a body that is not valid JSON.
    MALFORMED_JSON = "malformed_json"
    #: Never answer; the request is not handled (no side effects).
    HANG = "hang"
    #: Abort the TCP connection (RST) without any HTTP response; no side effects.
    RESET = "reset"


@dataclass(frozen=True, slots=True)
class Fault:
    """A fault to inject; ``times`` limits how many matching calls it affects."""

    kind: FaultKind
    delay_seconds: float = 0.0
    status: int = 503
    times: int | None = None

    def __post_init__(self) -> None:
        if self.delay_seconds < 0:
            raise ValueError("delay_seconds must be >= 0")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be >= 1 or None")
        if not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the emulator received it (header names lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any | None
    received_at: datetime
    #: `RESEND_ROUTE`, `LOOKUP_ROUTE`, or None for a path the provider does not serve.
    route: str | None = None

    def header(self, name: str) -> str | None:
        """Return a header value by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass(slots=True)
class _ArmedFault:
    fault: Fault
    remaining: int | None


def parse_json(body: bytes) -> Any | None:
    """Parse ``body`` as JSON; None when empty or not valid JSON."""
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def server_error_html(status: int) -> str:
    """Return the HTML page a misbehaving reverse proxy would send."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return f"<html><body><h1>{status} {phrase}</h1></body></html>"


def _normalize_prefix(prefix: str) -> str:
    prefix = prefix.strip().rstrip("/")
    if prefix and not prefix.startswith("/"):
        prefix = "/" + prefix
    return prefix


class EmulatorServer(StartedInContext):
    """Base class: a loopback aiohttp server with request recording and faults."""

    #: Body sent for ``FaultKind.MALFORMED_JSON``; subclasses may tailor it.
    malformed_json_body: bytes = b'{"error": "N"'

    def __init__(self, *, path_prefix: str, clock: Clock | None = None) -> None:
        self.path_prefix = _normalize_prefix(path_prefix)
        self.clock: Clock = clock or utc_now
        self.requests: list[RecordedRequest] = []
        self._faults: dict[tuple[str, str | None], list[_ArmedFault]] = {}
        self._server = LoopbackServer(type(self).__name__, shutdown_timeout=_SHUTDOWN_TIMEOUT)
        self._stopping = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving on loopback and return the base URL, path prefix included."""
        if self._server.running:
            raise RuntimeError("emulator already started")
        self._stopping = asyncio.Event()
        app = web.Application(middlewares=[self._make_middleware()])
        self._register_routes(app)
        await self._server.start(app, host, port)
        return self.base_url

    async def stop(self) -> None:
        """Stop serving; hanging or delayed handlers are released first."""
        if not self._server.running:
            return
        self._stopping.set()
        await self._server.stop()

    @property
    def base_url(self) -> str:
        """Base URL (path prefix included) of the running emulator."""
        if not self._server.running:
            raise RuntimeError("emulator is not running")
        return self._server.base_url + self.path_prefix

    # -- faults --------------------------------------------------------------

    def inject(self, fault: Fault, *, key: str | None = None, route: str = RESEND_ROUTE) -> None:
        """Arm ``fault`` for calls to ``route`` (`ALL_ROUTES`: any), for every invoice
        (key None) or only calls for ``key``.

        Faults for the same slot queue up: the oldest one applies until its ``times``
        run out. Key-specific faults take precedence over global ones, and faults for
        the call's own route over those for every route.
        """
        slot = (route, None if key is None else self._normalize_key(key))
        self._faults.setdefault(slot, []).append(_ArmedFault(fault, fault.times))

    def clear_faults(self) -> None:
        """Disarm every injected fault."""
        self._faults.clear()

    def _take_fault(self, key: str | None, route: str | None) -> Fault | None:
        keys: tuple[str | None, ...] = (None,) if key is None else (key, None)
        routes = (ALL_ROUTES,) if route is None else (route, ALL_ROUTES)
        for slot in ((r, k) for k in keys for r in routes):
            armed_list = self._faults.get(slot)
            if not armed_list:
                continue
            armed = armed_list[0]
            if armed.remaining is not None:
                armed.remaining -= 1
                if armed.remaining <= 0:
                    armed_list.pop(0)
                    if not armed_list:
                        del self._faults[slot]
            return armed.fault
        return None

    # -- hooks for subclasses ----------------------------------------------

    @abstractmethod
    def _register_routes(self, app: web.Application) -> None:
        """Add the provider's routes to ``app``."""

    def _fault_key(self, request: web.Request, recorded: RecordedRequest) -> str | None:
        """Return the identifier this call is about, for key-scoped faults."""
        return None

    def _route_of(self, request: web.Request) -> str | None:
        """Return the route name of this call (`RESEND_ROUTE`, `LOOKUP_ROUTE`) or None."""
        return None

    def _normalize_key(self, key: str) -> str:
        """Normalize a fault key the way ``_fault_key`` produces it."""
        return key

    def _http_error(self, request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
        """Render routing errors (404, 405, ...) raised by aiohttp."""
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return web.Response(status=exc.status, text=exc.reason, headers=headers)

    # -- helpers -------------------------------------------------------------

    def now(self) -> datetime:
        """Return the clock's time as an aware UTC datetime."""
        current = self.clock()
        if current.tzinfo is None:
            current = current.replace(tzinfo=UTC)
        return current.astimezone(UTC)

    def _make_middleware(self) -> Middleware:
        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            body = await request.read()
            headers: dict[str, str] = {}
            for name, value in request.headers.items():
                lowered = name.lower()
                headers[lowered] = f"{headers[lowered]}, {value}" if lowered in headers else value
            recorded = RecordedRequest(
                method=request.method,
                path=request.path,
                headers=headers,
                body=body,
                json=parse_json(body),
                received_at=self.now(),
                route=self._route_of(request),
            )
            self.requests.append(recorded)
            fault = self._take_fault(self._fault_key(request, recorded), recorded.route)
            if fault is None:
                return await self._dispatch(request, handler)
            return await self._apply_fault(fault, request, handler)

        return middleware

    async def _dispatch(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            return self._http_error(request, exc)

    async def _apply_fault(
        self, fault: Fault, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        match fault.kind:
            case FaultKind.LATENCY:
                response = await self._dispatch(request, handler)
                await self._sleep_unless_stopping(fault.delay_seconds)
                return response
            case FaultKind.SERVER_ERROR:
                return web.Response(
                    status=fault.status,
                    text=server_error_html(fault.status),
                    content_type="text/html",
                )
            case FaultKind.MALFORMED_JSON:
                return web.Response(
                    status=200, body=self.malformed_json_body, content_type="application/json"
                )
            case FaultKind.HANG:
                await self._hang(request)
                _abort(request, reset=False)
                return web.Response(status=504)
            case FaultKind.RESET:
                _abort(request, reset=True)
                return web.Response(status=502)

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        if seconds <= 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _hang(self, request: web.Request) -> None:
        while not self._stopping.is_set():
            transport = request.transport
            if transport is None or transport.is_closing():
                return
            await self._sleep_unless_stopping(_HANG_POLL_SECONDS)


def _abort(request: web.Request, *, reset: bool) -> None:
    """Drop the request's connection; with ``reset`` the peer gets a TCP RST."""
    transport = request.transport
    if transport is None:
        return
    if reset:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
