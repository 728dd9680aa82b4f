"""The real bot as a child process in tests: `devkit.localslack.process` with test settings.

Shared by the tests that run the production entry point (tests/bot/test_cli.py,
tests/bot/test_socket_mode.py, tests/test_concurrency.py). The process machinery (a
clean environment, 127.0.0.1 only, bounded waits, leftovers killed) is the one the
demo uses; this module adds what only tests need: ``clean_env`` puts the child's cwd
and HOME in a temporary directory (so no ``.env`` is read), ``fake_settings`` points it
at the fake Slack and the provider emulators, and a bot that does not get ready fails
the test with its output.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import pytest

from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.localslack import FakeSlackWebAPI, process
from devkit.localslack.process import HOST, NotReady, clean_environment, free_port, get
from tests.conftest import (
    BOT_TOKEN,
    LUMMY_API_KEY,
    LUMMY_ORG,
    SIGNING_SECRET,
    TF_APIKEY,
    TF_APITOKEN,
    TF_USERTOKEN,
)

__all__ = [
    "HOST",
    "PYTHON_M_BOT",
    "BotProcess",
    "BotProcesses",
    "clean_env",
    "fake_settings",
    "free_port",
    "get",
    "python_bound_by_permissions",
    "run_command",
    "run_command_async",
    "wait_ready",
]

#: ``python -m bot`` with the interpreter running the tests.
PYTHON_M_BOT = (sys.executable, "-m", "bot")


def clean_env(cwd: Path, **settings: str) -> dict[str, str]:
    """Only what Python needs to start and import ``bot``, plus ``settings``.

    Nothing is inherited but PATH: HOME is ``cwd``, the locale is C.UTF-8.
    """
    return clean_environment(
        {
            "HOME": str(cwd),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            "DATA_DIR": str(cwd / "data"),
            **settings,
        },
        inherit=("PATH",),
    )


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


async def run_command_async(
    argv: list[str], env: Mapping[str, str], cwd: Path, *, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """`run_command` without blocking the event loop, so the fakes in it keep answering."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env),
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return subprocess.CompletedProcess(
        argv, proc.returncode or 0, stdout.decode("utf-8"), stderr.decode("utf-8")
    )


@pytest.fixture
def python_bound_by_permissions(tmp_path: Path) -> str | None:
    """An interpreter path for the child that respects file permissions.

    Root ignores permission bits: as root, the child runs through ``setpriv`` without
    the capabilities that override them. None: the plain interpreter will do.
    """
    if os.geteuid() != 0:
        return None
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if os.environ.get("CI"):
            pytest.fail("running as root in CI needs setpriv (util-linux) for this test")
        pytest.skip("running as root without setpriv: permission bits cannot bind the bot")
    caps = "-dac_override,-dac_read_search,-fowner"
    wrapper = tmp_path / "python-bound-by-permissions"
    drop = f"--inh-caps {caps} --bounding-set {caps}"
    wrapper.write_text(f'#!/bin/sh\nexec {setpriv} {drop} -- {sys.executable} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


async def wait_ready(
    base_url: str,
    *,
    timeout: float,
    gone: Callable[[], str | None] | None = None,
    details: Callable[[], str] | None = None,
) -> dict[str, Any]:
    """Poll ``/readyz`` until 200 (bounded) and return its JSON; else fail the test.

    ``gone()`` returns why to stop waiting early (the server died); ``details()``
    is appended to the failure when the wait runs out (the process' output).
    """
    try:
        return await process.wait_ready(base_url, timeout=timeout, gone=gone, details=details)
    except NotReady as exc:
        pytest.fail(str(exc))


class BotProcess(process.BotProcess):
    """A ``python -m bot serve`` process; one that does not get ready fails the test."""

    async def wait_ready(
        self,
        timeout: float = 20.0,
        *,
        interval: float = 0.05,
        request_timeout: float = 5.0,
    ) -> dict[str, Any]:
        """``/readyz`` answered 200 (bounded); fail with the output if the process died."""
        try:
            return await super().wait_ready(
                timeout, interval=interval, request_timeout=request_timeout
            )
        except NotReady as exc:
            pytest.fail(str(exc))


class BotProcesses(process.BotProcesses):
    """Starts ``python -m bot serve`` processes in ``cwd``; at exit kills those still alive.

    ``async with BotProcesses(tmp_path) as processes: yield processes.start`` in a fixture.
    """

    process_class = BotProcess

    async def start(
        self,
        *serve_args: str,
        env: Mapping[str, str],
        port: int | None = None,
        log: Path | None = None,
    ) -> BotProcess:
        """``python -m bot serve *serve_args --host 127.0.0.1 --port port`` (a free one if None)."""
        started = await super().start(*serve_args, env=env, port=port, log=log)
        return cast(BotProcess, started)
