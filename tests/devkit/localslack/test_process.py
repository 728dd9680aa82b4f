"""devkit.localslack.process: the bot as a child process, as the demo and the tests run it."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.localslack import FakeSlackWebAPI
from devkit.localslack.process import (
    HOST,
    BotProcesses,
    NotReady,
    clean_environment,
    free_port,
    package_root,
    serve_argv,
    wait_ready,
)
from tests.processes import fake_settings


def test_the_environment_has_only_what_python_needs_and_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-developer")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nope")

    env = clean_environment({"SLACK_BOT_TOKEN": "xoxb-given"}, inherit=("PATH", "HOME"))

    assert set(env) == {"PATH", "HOME", "PYTHONPATH", "PYTHONUNBUFFERED", "SLACK_BOT_TOKEN"}
    assert env["HOME"] == "/home/someone"
    assert env["SLACK_BOT_TOKEN"] == "xoxb-given"
    assert env["PYTHONPATH"] == str(package_root())
    assert (package_root() / "bot" / "__init__.py").is_file()
    assert env["PYTHONUNBUFFERED"] == "1"


def test_path_is_always_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATH")
    assert clean_environment()["PATH"] == os.defpath


def test_the_command_line_binds_loopback_only() -> None:
    assert serve_argv("--http", port=4321) == [
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--http",
        "--host",
        "127.0.0.1",
        "--port",
        "4321",
    ]
    assert serve_argv(port=1, python="py")[:4] == ["py", "-m", "bot", "serve"]


def test_a_free_port_can_be_bound() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, free_port()))


async def test_waiting_stops_early_when_the_server_is_gone() -> None:
    with pytest.raises(NotReady, match=r"^it died$") as gone:
        await wait_ready(f"http://{HOST}:{free_port()}", timeout=5, gone=lambda: "it died")
    assert gone.value.exited


async def test_waiting_is_bounded_and_says_what_it_saw() -> None:
    with pytest.raises(
        NotReady, match=r"not 200 after 0\.3 s \(last: ConnectError\):\nlog"
    ) as late:
        await wait_ready(f"http://{HOST}:{free_port()}", timeout=0.3, details=lambda: "log")
    assert (late.value.exited, late.value.last) == (False, "ConnectError")


@pytest.mark.timeout(60)
async def test_a_started_bot_gets_ready_and_is_killed_when_closed(
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> None:
    env = clean_environment(
        {"DATA_DIR": str(tmp_path / "data"), **fake_settings(fake_slack, lummy, tusfacturas)},
        inherit=("PATH",),
    )
    log = tmp_path / "bot.log"
    async with BotProcesses(tmp_path, die_with_parent=True) as processes:
        bot = await processes.start("--http", env=env, log=log)
        assert bot.argv == serve_argv("--http", port=bot.port)
        assert bot.events_url == f"http://{HOST}:{bot.port}/slack/events"
        ready = await bot.wait_ready(20)
        assert ready["status"] == "ready"
        assert bot.returncode is None
        assert bot.exit_reason() is None
    assert bot.returncode is not None  # killed on the way out
    assert bot.events("serving")[0]["mode"] == "http"
    assert log.read_text(encoding="utf-8") == bot.output()


@pytest.mark.timeout(60)
async def test_a_bot_that_cannot_listen_is_reported_with_its_output(
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> None:
    env = clean_environment(
        {"DATA_DIR": str(tmp_path / "data"), **fake_settings(fake_slack, lummy, tusfacturas)},
        inherit=("PATH",),
    )
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((HOST, 0))
        taken.listen()
        async with BotProcesses(tmp_path) as processes:
            bot = await processes.start("--http", env=env, port=taken.getsockname()[1])
            with pytest.raises(NotReady, match="bot exited with 1") as failed:
                await bot.wait_ready(20)
            assert failed.value.exited
            assert await bot.wait_exit(5) == 1
    assert bot.events("listen_failed")
    assert "listen_failed" in bot.tail()


@pytest.mark.timeout(30)
async def test_stop_terminates_then_never_leaves_it_running(
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> None:
    env = clean_environment(
        {"DATA_DIR": str(tmp_path / "data"), **fake_settings(fake_slack, lummy, tusfacturas)},
        inherit=("PATH",),
    )
    async with BotProcesses(tmp_path) as processes:
        bot = await processes.start("--http", env=env)
        await bot.wait_ready(20)
        await asyncio.wait_for(bot.stop(grace=10), 15)
        assert bot.returncode == 0  # SIGTERM: a clean shutdown
        await bot.stop(grace=10)  # already stopped: nothing to do
