"""LoopbackServer: serves on loopback addresses only."""

from __future__ import annotations

import httpx
import pytest
from aiohttp import web

from devkit.localslack import FakeSlackWebAPI
from devkit.loopback import LoopbackServer


async def test_refuses_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        await FakeSlackWebAPI().start(host="0.0.0.0")  # noqa: S104


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="hola")


def app() -> web.Application:
    application = web.Application()
    application.router.add_get("/", hello)
    return application


async def test_serves_on_localhost_as_127_0_0_1_until_stopped() -> None:
    server = LoopbackServer("Test server")
    with pytest.raises(RuntimeError, match="Test server is not started"):
        _ = server.port
    await server.start(app(), "localhost")
    try:
        assert server.running
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        async with httpx.AsyncClient() as http:
            assert (await http.get(server.base_url)).text == "hola"
        with pytest.raises(RuntimeError, match="already running"):
            await server.start(app())
    finally:
        await server.stop()
    assert not server.running
    await server.stop()  # idempotent


async def test_refuses_a_public_address_before_binding() -> None:
    server = LoopbackServer("Test server")
    with pytest.raises(ValueError, match=r"only binds loopback addresses, not '192\.0\.2\.1'"):
        await server.start(app(), "192.0.2.1")
    assert not server.running
