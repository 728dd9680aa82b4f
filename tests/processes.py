"""The real bot as a child process: ``python -m bot serve`` with a clean environment.

Shared by the tests that run the production entry point (tests/bot/test_cli.py,
tests/bot/test_socket_mode.py, tests/test_concurrency.py). ``clean_env`` gives the
child nothing from the developer's environment (cwd and HOME in a temporary
directory, so no ``.env`` is read); ``fake_settings`` points it at the fake Slack
and the provider emulators. ``BotProcesses`` starts processes on 127.0.0.1 and
kills, at exit, any a test left running; ``BotProcess`` is one of them with
everything it wrote. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest

from bot.localslack import FakeSlackWebAPI
from bot.server import EVENTS_PATH
from providers.emulators import LummyEmulator, TusFacturasEmulator
from tests.conftest import (
    BOT_TOKEN,
    LUMMY_API_KEY,
    LUMMY_ORG,
    SIGNING_SECRET,
    TF_APIKEY,
    TF_APITOKEN,
    TF_USERTOKEN,
)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
#: ``python -m bot`` with the interpreter running the tests.
PYTHON_M_BOT = (sys.executable, "-m", "bot")


def free_port() -> int:
    """A port nothing listens on right now (on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env(cwd: Path, **settings: str) -> dict[str, str]:
    """Only what Python needs to start and import ``bot``, plus ``settings``."""
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": str(ROOT),
        "HOME": str(cwd),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATA_DIR": str(cwd / "data"),
        **settings,
    }


def fake_settings(
    slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    *,
    app_token: str | None = None,
    provider_timeouts: tuple[str, str] | None = ("2", "10"),
    grace_seconds: str = "10",
) -> dict[str, str]:
    """The test credentials, with Slack and both providers pointed at the fakes.

    With ``app_token`` the process serves Socket Mode (and gets no signing secret);
    without, HTTP. ``provider_timeouts`` is (connect, read); ``None`` keeps the defaults.
    """
    slack_mode = (
        {"SLACK_APP_TOKEN": app_token}
        if app_token is not None
        else {"SLACK_SIGNING_SECRET": SIGNING_SECRET}
    )
    timeouts = (
        {}
        if provider_timeouts is None
        else {
            "PROVIDER_CONNECT_TIMEOUT": provider_timeouts[0],
            "PROVIDER_READ_TIMEOUT": provider_timeouts[1],
        }
    )
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        **slack_mode,
        "SLACK_API_URL": slack.api_url,
        "LUMMY_API_KEY": LUMMY_API_KEY,
        "LUMMY_ORGANIZATION_ID": LUMMY_ORG,
        "LUMMY_BASE_URL": lummy.base_url,
        "TUSFACTURAS_APIKEY": TF_APIKEY,
        "TUSFACTURAS_APITOKEN": TF_APITOKEN,
        "TUSFACTURAS_USERTOKEN": TF_USERTOKEN,
        "TUSFACTURAS_BASE_URL": tusfacturas.base_url,
        **timeouts,
        "SHUTDOWN_GRACE_SECONDS": grace_seconds,
    }


def run_command(
    argv: list[str], env: Mapping[str, str], cwd: Path, *, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run a one-shot command (``serve`` refusing to start, ``history export``) to the end."""
    return subprocess.run(  # noqa: S603 - our own interpreter and console script
        argv, env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


async def get(base_url: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as http:
        return await http.get(base_url + path)


async def wait_ready(
    base_url: str,
    *,
    timeout: float,
    gone: Callable[[], str | None] | None = None,
    details: Callable[[], str] | None = None,
) -> dict[str, Any]:
    """Poll ``/readyz`` until 200 (bounded) and return its JSON.

    ``gone()`` returns why to stop waiting early (the server died); ``details()``
    is appended to the failure when the wait runs out (the process' output).
    """
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if gone is not None and (reason := gone()):
            pytest.fail(reason)
        try:
            response = await get(base_url, "/readyz")
        except httpx.TransportError as exc:
            last = type(exc).__name__
        else:
            if response.status_code == 200:
                ready: dict[str, Any] = response.json()
                return ready
            last = f"{response.status_code} {response.text}"
        await asyncio.sleep(0.05)
    suffix = f":\n{details()}" if details is not None else ""
    pytest.fail(f"/readyz not 200 after {timeout} s (last: {last}){suffix}")


@dataclass
class BotProcess:
    """A ``python -m bot serve`` process and everything it wrote."""

    proc: asyncio.subprocess.Process
    base_url: str
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def events_url(self) -> str:
        return self.base_url + EVENTS_PATH

    def output(self) -> str:
        return "".join(self.stdout) + "".join(self.stderr)

    def log_lines(self) -> list[dict[str, Any]]:
        """stderr parsed as JSON lines (the process' stderr is not a TTY)."""
        return [json.loads(line) for line in "".join(self.stderr).splitlines() if line.strip()]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.log_lines() if line.get("event") == name]

    async def get(self, path: str) -> httpx.Response:
        return await get(self.base_url, path)

    async def readyz(self) -> httpx.Response:
        return await self.get("/readyz")

    def _exited(self) -> str | None:
        code = self.proc.returncode
        return None if code is None else f"bot exited with {code}:\n{self.output()}"

    async def wait_ready(self, timeout: float = 20.0) -> dict[str, Any]:
        """``/readyz`` answered 200 (bounded); fail with the output if the process died."""
        return await wait_ready(
            self.base_url, timeout=timeout, gone=self._exited, details=self.output
        )

    async def wait_exit(self, timeout: float) -> int:
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        # Drain the pipes so every line written before exiting is captured.
        await asyncio.wait_for(asyncio.gather(*self.readers), 5)
        return code

    async def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM, then the exit code (within ``timeout``)."""
        self.proc.send_signal(signal.SIGTERM)
        return await self.wait_exit(timeout)

    async def kill(self) -> None:
        """Kill it if still running (our own child, by its handle) and stop reading."""
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for reader in self.readers:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def _collect(stream: asyncio.StreamReader | None, sink: list[str]) -> None:
    if stream is None:
        return
    while line := await stream.readline():
        sink.append(line.decode("utf-8", errors="replace"))


class BotProcesses:
    """Starts ``python -m bot serve`` processes in ``cwd``; at exit kills those still alive.

    ``async with BotProcesses(tmp_path) as processes: yield processes.start`` in a fixture.
    """

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.started: list[BotProcess] = []

    async def start(
        self, *serve_args: str, env: Mapping[str, str], port: int | None = None
    ) -> BotProcess:
        """``python -m bot serve *serve_args --host 127.0.0.1 --port port`` (a free one if None)."""
        port = port or free_port()
        proc = await asyncio.create_subprocess_exec(
            *PYTHON_M_BOT,
            "serve",
            *serve_args,
            "--host",
            HOST,
            "--port",
            str(port),
            env=dict(env),
            cwd=self.cwd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        process = BotProcess(proc, f"http://{HOST}:{port}")
        process.readers = [
            asyncio.create_task(_collect(proc.stdout, process.stdout)),
            asyncio.create_task(_collect(proc.stderr, process.stderr)),
        ]
        self.started.append(process)
        return process

    async def aclose(self) -> None:
        for process in self.started:
            await process.kill()

    async def __aenter__(self) -> BotProcesses:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
