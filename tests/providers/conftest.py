"""Fixtures for the provider tests: running emulators, fast clients, a canned server, and
helpers to read what a parser made of typed text.

Everything listens on 127.0.0.1 only. Clients get tight timeouts and a tiny
backoff so that failure paths stay well under a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.ui import strings
from bot.ui.wording import error_message, problem_messages
from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.emulators import TusFacturasCredentials as EmulatorCredentials
from providers.base import InvalidReferenceError, ResendRequest
from providers.errors import ProviderError
from providers.http import HttpOptions
from providers.lummy.client import LummyClient
from providers.lummy.model import LummyConfig
from providers.registry import builtin_registry
from providers.tusfacturas.client import TusFacturasClient
from providers.tusfacturas.model import (
    Operacion,
    TusFacturasConfig,
    TusFacturasCredentials,
    TusFacturasVoucher,
)

# -- Lummy identities ----------------------------------------------------------

LUMMY_API_KEY = "lk_test_9f8e7d6c5b4a"
LUMMY_ACCESS_TOKEN = "eyJhbGciOiJIUzI1NiJ9.jwt-test-token"
LUMMY_ORG_ID = "0b7c6f1e-3d2a-4c5b-9e8f-1a2b3c4d5e6f"
SEED_INVOICE_ID = "550e8400-e29b-41d4-a716-446655440000"
SEED_INVOICE_EMAIL = "cliente@empresa.com"
UNKNOWN_INVOICE_ID = "00000000-0000-4000-8000-000000000000"

# -- TusFacturas identities ----------------------------------------------------

TF_ALL = EmulatorCredentials("tf-key-all-1111", "tf-tok-all-2222", "tf-user-all-3333")
TF_PV3 = EmulatorCredentials("tf-key-pv3-4444", "tf-tok-pv3-5555", "tf-user-pv3-6666", 3)

#: Every credential value the tests configure; none may leak into agent-facing text.
SECRETS: tuple[str, ...] = (
    LUMMY_API_KEY,
    LUMMY_ACCESS_TOKEN,
    TF_ALL.apikey,
    TF_ALL.apitoken,
    TF_ALL.usertoken,
    TF_PV3.apikey,
    TF_PV3.apitoken,
    TF_PV3.usertoken,
)

#: The emulators' clock starts here (and stays, unless a test advances it).
START = datetime(2025, 1, 20, 10, 30, tzinfo=UTC)


def client_credentials(creds: EmulatorCredentials) -> TusFacturasCredentials:
    """The bot-side credential set for an emulator-side one."""
    return TusFacturasCredentials(
        apikey=SecretStr(creds.apikey),
        apitoken=SecretStr(creds.apitoken),
        usertoken=SecretStr(creds.usertoken),
    )


class FakeClock:
    """A settable clock for the emulators' timestamps and rate-limit windows."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


# -- agent-facing text ------------------------------------------------------------

_SPANISH_WORDS = re.compile(
    r"\b(no|el|la|los|las|de|del|se|que|por|en|para|con|un|una|reenv\w*|comprobante|"
    r"proveedor|credenciales|intentar|reintentar|datos|rechaz\w*|envi\w*)\b",
    re.IGNORECASE,
)
_ENGLISH_WORDS = re.compile(
    r"\b(the|not|error|failed|invalid|request|response|timeout|http|json)\b", re.IGNORECASE
)


def _check_agent_message(error: ProviderError, *must_contain: str) -> str:
    """Assert the agent message is short Spanish prose with no secret or technical noise."""
    # What the bot makes of the error's facts: the words the agent reads.
    message = error_message(error, builtin_registry()[error.provider].label)
    assert isinstance(message, str)
    assert message.strip(), "agent_message is empty"
    assert len(_SPANISH_WORDS.findall(message)) >= 2, f"not Spanish enough: {message!r}"
    assert not _ENGLISH_WORDS.search(message), f"English/technical words: {message!r}"
    assert "{" not in message, f"unformatted template or raw JSON: {message!r}"
    assert "Traceback" not in message
    for secret in SECRETS:
        assert secret not in message, "a credential leaked into agent_message"
        assert secret not in error.detail, "a credential leaked into the log detail"
        assert secret not in repr(error)
    for needle in must_contain:
        assert needle in message, f"{needle!r} not in {message!r}"
    return message


@pytest.fixture
def assert_agent_message() -> Callable[..., str]:
    """``assert_agent_message(error, *needles)``: Spanish, non-empty, no secret; returns it."""
    return _check_agent_message


# -- reading typed text -------------------------------------------------------------

#: Every field a parser may name in a problem (``text`` is the whole input).
FIELDS = {"tipo", "operacion", "punto_venta", "numero", "invoice_id", "email", "text"}
# Words that would betray an English (or raw technical) message reaching an agent.
ENGLISH = re.compile(
    r"(?i)\b(invalid|must|required|unknown|expected|missing|error|value|field|should|"
    r"input|type|string|integer|not found)\b"
)

Parser = Callable[[str], ResendRequest]
parse_reference = builtin_registry().parse_reference


def assert_spanish(message: str) -> None:
    assert isinstance(message, str)
    assert message.strip()
    assert not ENGLISH.search(message), message
    assert message.rstrip().endswith((".", "»", ")")), message


@dataclass
class Problems:
    """A parser's `InvalidReferenceError` with each problem in the words the agent reads."""

    field_errors: dict[str, str]
    understood: dict[str, str]
    provider: str | None

    @property
    def message(self) -> str:
        return " ".join(self.field_errors.values())


def errors_of(text: str, parse: Parser = parse_reference) -> Problems:
    """What ``parse`` finds wrong with ``text``, checked to be worded in Spanish by code."""
    with pytest.raises(InvalidReferenceError) as info:
        parse(text)
    exc = info.value
    assert exc.problems
    for name, problem in exc.problems.items():
        assert name in FIELDS
        # Every code a parser reports has its own words (no generic fallback).
        assert problem.code in strings.PROBLEMS, problem.code
    field_errors = problem_messages(exc)
    for message in field_errors.values():
        assert_spanish(message)
    return Problems(field_errors, exc.understood, exc.provider)


def voucher(
    tipo: str = "FACTURA B", punto_venta: int = 2, numero: int = 6, op: str = "V"
) -> TusFacturasVoucher:
    return TusFacturasVoucher(
        tipo=tipo, punto_venta=punto_venta, numero=numero, operacion=Operacion(op)
    )


# -- fixtures: options, clock, ports ----------------------------------------------


@pytest.fixture
def options() -> HttpOptions:
    """Tight timeouts, two retries, a backoff of a few milliseconds."""
    return HttpOptions(
        connect_timeout=0.5,
        read_timeout=1.0,
        max_retries=2,
        retry_backoff=0.01,
        max_backoff=0.02,
    )


@pytest.fixture
def hang_options(options: HttpOptions) -> HttpOptions:
    """Like ``options`` but giving up on a silent server quickly."""
    return HttpOptions(
        connect_timeout=options.connect_timeout,
        read_timeout=0.3,
        max_retries=options.max_retries,
        retry_backoff=options.retry_backoff,
        max_backoff=options.max_backoff,
    )


@pytest.fixture
def tf_all() -> EmulatorCredentials:
    """The credential set valid for every punto de venta (the client's default)."""
    return TF_ALL


@pytest.fixture
def tf_pv3() -> EmulatorCredentials:
    """The credential set valid only for punto de venta 3 (the client's set for 3)."""
    return TF_PV3


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- emulators ---------------------------------------------------------------------


@pytest.fixture
async def lummy_emulator(clock: FakeClock) -> AsyncIterator[LummyEmulator]:
    async with LummyEmulator(LUMMY_API_KEY, LUMMY_ORG_ID, clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def tf_emulator(clock: FakeClock) -> AsyncIterator[TusFacturasEmulator]:
    # The fake clock never moves, so lift the per-second limit out of the way.
    async with TusFacturasEmulator(
        [TF_ALL, TF_PV3], clock=clock, requests_per_second=10_000
    ) as emulator:
        yield emulator


# -- clients -----------------------------------------------------------------------


class Closable(Protocol):
    async def aclose(self) -> None: ...


ClientT = TypeVar("ClientT", bound=Closable)


class Closing:
    """The clients a test opened: ``closing(client)`` is the client, closed at teardown."""

    def __init__(self) -> None:
        self._clients: list[Closable] = []

    def __call__(self, client: ClientT) -> ClientT:
        self._clients.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()


@pytest.fixture
async def closing() -> AsyncIterator[Closing]:
    clients = Closing()
    yield clients
    await clients.aclose()


@pytest.fixture
def make_lummy_client(options: HttpOptions, closing: Closing) -> Callable[..., LummyClient]:
    """Build Lummy clients (closed at teardown); keyword arguments override the config."""

    def make(
        base_url: str,
        *,
        api_key: str = LUMMY_API_KEY,
        organization_id: str = LUMMY_ORG_ID,
        access_token: str | None = None,
        http_options: HttpOptions | None = None,
    ) -> LummyClient:
        config = LummyConfig(
            base_url=base_url,
            api_key=SecretStr(api_key),
            organization_id=organization_id,
            access_token=SecretStr(access_token) if access_token is not None else None,
        )
        return closing(LummyClient(config, http_options or options))

    return make


@pytest.fixture
def make_tf_client(options: HttpOptions, closing: Closing) -> Callable[..., TusFacturasClient]:
    """Build TusFacturas clients (closed at teardown).

    By default: the all-points set as default and the punto de venta 3 set for 3.
    """
    unset: Any = object()

    def make(
        base_url: str,
        *,
        default: EmulatorCredentials | None = unset,
        by_punto_venta: dict[int, EmulatorCredentials] | None = None,
        http_options: HttpOptions | None = None,
    ) -> TusFacturasClient:
        default = TF_ALL if default is unset else default
        by_pv = {3: TF_PV3} if by_punto_venta is None else by_punto_venta
        config = TusFacturasConfig(
            base_url=base_url,
            default_credentials=client_credentials(default) if default else None,
            credentials_by_punto_venta={pv: client_credentials(c) for pv, c in by_pv.items()},
        )
        return closing(TusFacturasClient(config, http_options or options))

    return make


@pytest.fixture
async def lummy_client(
    lummy_emulator: LummyEmulator, make_lummy_client: Callable[..., LummyClient]
) -> LummyClient:
    return make_lummy_client(lummy_emulator.base_url)


@pytest.fixture
async def tf_client(
    tf_emulator: TusFacturasEmulator, make_tf_client: Callable[..., TusFacturasClient]
) -> TusFacturasClient:
    return make_tf_client(tf_emulator.base_url)


# -- a canned-answer server, for shapes the emulators never produce ------------------


@dataclass(frozen=True)
class Canned:
    """One canned answer. ``body`` may be bytes, text, or anything JSON-serialisable."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    #: Seconds to hold the answer back (released early when the server stops).
    delay: float = 0.0


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class CannedServer:
    """A loopback aiohttp server that plays canned answers in order; the last one repeats."""

    def __init__(self) -> None:
        self.answers: list[Canned] = []
        self.requests: list[Received] = []
        #: Set when the first request arrives.
        self.arrived = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self.base_url = ""

    def reply(
        self,
        status: int = 200,
        body: Any = b"",
        *,
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Queue an answer; once the queue runs out, the last answer repeats."""
        self.answers.append(Canned(status, body, headers or {}, content_type, delay))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            Received(
                request.method,
                request.path,
                {k.lower(): v for k, v in request.headers.items()},
                await request.read(),
            )
        )
        self.arrived.set()
        index = min(len(self.requests), len(self.answers)) - 1
        canned = self.answers[index] if self.answers else Canned(body={})
        if canned.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=canned.delay)
        body = canned.body
        content_type = canned.content_type
        if isinstance(body, str):
            body = body.encode()
            content_type = content_type or "text/plain"
        elif not isinstance(body, bytes):
            body = json.dumps(body).encode()
            content_type = content_type or "application/json"
        return web.Response(
            status=canned.status,
            body=body,
            headers=canned.headers,
            content_type=content_type or "application/octet-stream",
        )

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.fixture
async def canned() -> AsyncIterator[CannedServer]:
    server = CannedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def _check_no_secrets(value: object) -> None:
    text = str(value)
    for secret in SECRETS:
        assert secret not in text, "a credential leaked"


@pytest.fixture
def assert_no_secrets() -> Callable[[object], None]:
    """``assert_no_secrets(value)``: no configured credential appears in ``str(value)``."""
    return _check_no_secrets
