"""The bot under demo as a child process: readiness, a port taken meanwhile, early exits."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from devkit.demo.child import BotChild, DemoError
from devkit.demo.workspace import HOST, DemoWorkspace
from devkit.localslack import process

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def settings(tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    workspace = DemoWorkspace()
    try:
        yield await workspace.start(tmp_path / "data")
    finally:
        await workspace.stop()


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen()
        yield sock.getsockname()[1]


async def test_a_port_taken_meanwhile_is_retried_with_another(
    settings: dict[str, str], taken_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = iter([taken_port])
    free_port = process.free_port
    monkeypatch.setattr(process, "free_port", lambda: next(ports, None) or free_port())
    child = BotChild(tmp_path)
    try:
        await child.start(settings)
        assert child.argv[-1] != str(taken_port)
        assert child.pid is not None
        child.check_alive()
        assert child.log_path.read_text(encoding="utf-8").count('"listen_failed"') == 1
    finally:
        await child.stop()
    with pytest.raises(DemoError, match="el bot terminó inesperadamente"):
        child.check_alive()


async def test_a_bot_that_exits_at_start_is_reported_with_its_log(tmp_path: Path) -> None:
    child = BotChild(tmp_path, python="/bin/false")
    with pytest.raises(DemoError) as failed:
        await child.start({})
    await child.stop()
    assert str(failed.value) == (
        f"el bot terminó al arrancar (código 1). Registro del bot: {tmp_path / 'bot.log'}"
    )
