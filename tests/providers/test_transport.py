"""The providers' httpx transport over aiohttp: what reaches httpx, and above all which
failures say "never sent" (retried) and which say "may have been sent" (never retried)."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from aiohttp import web

from providers.transport import AiohttpTransport

HOST = "127.0.0.1"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class RawServer:
    """A TCP server on loopback that does whatever the test's handler does; counts
    connections and requests."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self._handler(reader, writer)
        finally:
            writer.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        port = self.server.sockets[0].getsockname()[1]
        return f"http://{HOST}:{port}"


@pytest.fixture
async def raw_server() -> AsyncIterator[Callable[[Handler], Awaitable[RawServer]]]:
    started: list[RawServer] = []

    async def start(handler: Handler) -> RawServer:
        server = RawServer(handler)
        server.server = await asyncio.start_server(server._serve, HOST, 0)
        started.append(server)
        return server

    yield start
    for server in started:
        assert server.server is not None
        server.server.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + (await reader.readexactly(length) if length else b"")


def _client(
    url: str, *, max_connections: int = 10, timeout: httpx.Timeout | None = None
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url,
        transport=AiohttpTransport(max_connections=max_connections),
        timeout=timeout or httpx.Timeout(2.0),
    )


@pytest.fixture
async def json_app() -> AsyncIterator[str]:
    """An aiohttp app that echoes what it got, gzip-compressed."""
    seen_peers: set[tuple[str, int]] = set()

    async def echo(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer:
            seen_peers.add(peer)
        body = {
            "method": request.method,
            "path": request.path_qs,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "json": await request.json() if request.can_read_body else None,
            "connections": len(seen_peers),
        }
        return web.Response(
            body=gzip.compress(json.dumps(body).encode()),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            status=201,
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, HOST, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://{HOST}:{port}"
    await runner.cleanup()


async def test_request_and_answer_arrive_whole(json_app: str) -> None:
    async with _client(json_app) as client:
        response = await client.post(
            "/v1/invoices/abc/send?x=1",
            json={"email": "cliente@empresa.com"},
            headers={"Authorization": "Bearer k", "Idempotency-Key": "6f1c"},
        )

    assert response.status_code == 201
    echoed = response.json()  # gzip decoded once, by httpx
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/v1/invoices/abc/send?x=1"
    assert echoed["json"] == {"email": "cliente@empresa.com"}
    assert echoed["headers"]["authorization"] == "Bearer k"
    assert echoed["headers"]["idempotency-key"] == "6f1c"
    assert echoed["headers"]["content-type"] == "application/json"


async def test_connections_are_kept_alive_and_reused(json_app: str) -> None:
    async with _client(json_app) as client:
        for _ in range(20):
            last = (await client.get("/probe")).json()

    assert last["connections"] == 1


async def test_connection_refused_is_a_connect_error(
    raw_server: Callable[[Handler], Awaitable[RawServer]],
) -> None:
    server = await raw_server(_read_request)  # only to find a port, then closed
    url = server.url
    assert server.server is not None
    server.server.close()
    await server.server.wait_closed()

    async with _client(url) as client:
        with pytest.raises(httpx.ConnectError):
            await client.post("/send", json={})


async def test_a_connection_closed_after_the_request_is_not_a_connect_error(
    raw_server: Callable[[Handler], Awaitable[RawServer]],
) -> None:
    """The request arrived: reporting this as "never sent" would let a caller send twice."""

    async def read_then_hang_up(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        await _read_request(reader)

    server = await raw_server(read_then_hang_up)
    async with _client(server.url) as client:
        with pytest.raises(httpx.TransportError) as caught:
            await client.post("/send", json={})

    assert not isinstance(caught.value, httpx.ConnectError | httpx.ConnectTimeout)
    assert isinstance(caught.value, httpx.ReadError)
    assert server.connections == 1


async def test_no_answer_in_time_is_a_read_timeout(
    raw_server: Callable[[Handler], Awaitable[RawServer]],
) -> None:
    async def never_answer(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(5)

    server = await raw_server(never_answer)
    async with _client(server.url, timeout=httpx.Timeout(0.3)) as client:
        started = asyncio.get_running_loop().time()
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/send", json={})

    assert asyncio.get_running_loop().time() - started < 2


async def test_waiting_too_long_for_a_pooled_connection_never_sends(
    raw_server: Callable[[Handler], Awaitable[RawServer]],
) -> None:
    """With the only connection busy, a request that gives up waiting was never sent."""

    async def slow_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                return
            await asyncio.sleep(1.0)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()

    server = await raw_server(slow_answer)
    timeout = httpx.Timeout(connect=0.1, read=3.0, write=3.0, pool=0.1)
    async with _client(server.url, max_connections=1, timeout=timeout) as client:
        busy = asyncio.create_task(client.post("/first", json={}))
        await asyncio.sleep(0.2)
        with pytest.raises(httpx.ConnectTimeout):
            await client.post("/second", json={})
        assert (await asyncio.wait_for(busy, 3)).status_code == 200

    assert server.connections == 1


async def test_a_non_http_url_is_an_unsupported_protocol() -> None:
    transport = AiohttpTransport(max_connections=1)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(httpx.UnsupportedProtocol):
            await client.get("ftp://127.0.0.1:9/x")
