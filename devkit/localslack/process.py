"""The bot as a child process: ``python -m bot serve`` on 127.0.0.1 with a clean environment.

What the demo and the end-to-end tests share to run the production entry point:

- `clean_environment`: only what Python needs to start and import ``bot``, plus the
  settings given; nothing else of the caller's environment reaches the bot;
- `serve_argv`: the command line, always bound to 127.0.0.1;
- `wait_ready`: poll ``/readyz`` until 200, bounded, giving up early if the bot exits;
- `BotProcesses`: starts children and kills those still running when it is closed,
  and at interpreter exit if it never was; `BotProcess` is one child with its output.

Every wait is bounded. The working directory is the caller's choice: pick a fresh
one so that no ``.env`` file is read by accident.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import json
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any, Final

import httpx

import bot as bot_package
from bot.server import EVENTS_PATH
from devkit.lifecycle import ClosedInContext

__all__ = [
    "HOST",
    "PASSTHROUGH_ENV",
    "BotProcess",
    "BotProcesses",
    "NotReady",
    "clean_environment",
    "free_port",
    "get",
    "package_root",
    "serve_argv",
    "wait_ready",
]

HOST: Final = "127.0.0.1"
#: Variables a child inherits by default, besides its settings.
PASSTHROUGH_ENV: Final = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")
#: Linux ``prctl`` option: the signal a child gets when its parent dies.
_PR_SET_PDEATHSIG: Final = 1
#: How long reading what a child wrote may take once it exited.
_DRAIN_SECONDS: Final = 5.0
#: How long a killed child may take to be reaped.
_REAP_SECONDS: Final = 5.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def package_root() -> Path:
    """The directory that holds the ``bot`` package: a checkout or site-packages."""
    return Path(bot_package.__file__).resolve().parent.parent


def clean_environment(
    settings: Mapping[str, str] | None = None, *, inherit: Iterable[str] = PASSTHROUGH_ENV
) -> dict[str, str]:
    """What Python needs to start and import ``bot``, then ``settings`` on top.

    Of the caller's environment only the variables named in ``inherit`` are copied.
    """
    env = {name: os.environ[name] for name in inherit if name in os.environ}
    env.setdefault("PATH", os.defpath)
    env["PYTHONPATH"] = str(package_root())
    env["PYTHONUNBUFFERED"] = "1"
    env.update(settings or {})
    return env


def serve_argv(*serve_args: str, port: int, python: str = sys.executable) -> list[str]:
    """``python -m bot serve *serve_args --host 127.0.0.1 --port port``."""
    return [python, "-m", "bot", "serve", *serve_args, "--host", HOST, "--port", str(port)]


async def get(base_url: str, path: str, *, timeout: float = 5.0) -> httpx.Response:  # noqa: ASYNC109
    """One GET request (``/healthz``, ``/readyz``), bounded by ``timeout``."""
    async with httpx.AsyncClient(timeout=timeout) as http:
        return await http.get(base_url + path)


class NotReady(Exception):
    """The bot did not answer ``/readyz`` with 200: it exited, or the wait ran out."""

    def __init__(self, message: str, *, last: str | None, exited: bool) -> None:
        super().__init__(message)
        #: The last answer (``HTTP 503 ...``) or transport error; None if nothing answered.
        self.last = last
        #: True when the wait stopped because the bot is gone.
        self.exited = exited


async def wait_ready(
    base_url: str,
    *,
    timeout: float,  # noqa: ASYNC109 - bounded wait is the point
    gone: Callable[[], str | None] | None = None,
    details: Callable[[], str] | None = None,
    interval: float = 0.05,
    request_timeout: float = 5.0,
) -> dict[str, Any]:
    """Poll ``/readyz`` until it answers 200 (bounded) and return its JSON.

    ``gone()`` returns why to stop waiting early (the server died); ``details()`` is
    appended to the message when the wait runs out (the process' output). Raises
    `NotReady` in both cases.
    """
    deadline = time.monotonic() + timeout
    last: str | None = None
    async with httpx.AsyncClient(timeout=request_timeout) as http:
        while time.monotonic() < deadline:
            if gone is not None and (reason := gone()):
                raise NotReady(reason, last=last, exited=True)
            try:
                response = await http.get(base_url + "/readyz")
            except httpx.TransportError as exc:
                last = type(exc).__name__
            else:
                if response.status_code == 200:
                    ready: dict[str, Any] = response.json()
                    return ready
                last = f"HTTP {response.status_code} {response.text.strip()}"
            await asyncio.sleep(interval)
    suffix = f":\n{details()}" if details is not None else ""
    message = f"/readyz not 200 after {timeout} s (last: {last or 'no answer'}){suffix}"
    raise NotReady(message, last=last, exited=False)


class BotProcess:
    """One ``python -m bot serve`` child and everything it wrote.

    Its output goes to ``log`` (a file, stdout and stderr together) or, without one,
    is collected in `stdout` and `stderr` as it arrives.
    """

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        *,
        argv: list[str],
        env: Mapping[str, str],
        port: int,
        log: Path | None = None,
    ) -> None:
        self.proc = proc
        self.argv = list(argv)
        self.env = dict(env)
        self.port = port
        self.base_url = f"http://{HOST}:{port}"
        self.log = log
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.readers: list[asyncio.Task[None]] = []
        if log is None:
            self.readers = [
                asyncio.create_task(_collect(proc.stdout, self.stdout)),
                asyncio.create_task(_collect(proc.stderr, self.stderr)),
            ]

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        """The exit status once it exited, else None."""
        return self.proc.returncode

    @property
    def events_url(self) -> str:
        """Where Slack's HTTP requests go (``POST /slack/events``)."""
        return self.base_url + EVENTS_PATH

    def output(self) -> str:
        """Everything it wrote so far (stdout, then stderr; or the log file)."""
        if self.log is not None:
            try:
                return self.log.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return ""
        return "".join(self.stdout) + "".join(self.stderr)

    def tail(self, lines: int = 15) -> str:
        """The last ``lines`` lines of `output`."""
        return "\n".join(self.output().splitlines()[-lines:])

    def log_lines(self) -> list[dict[str, Any]]:
        """Its log, parsed as JSON lines (stderr, or the log file, is not a TTY)."""
        text = self.output() if self.log is not None else "".join(self.stderr)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def events(self, name: str) -> list[dict[str, Any]]:
        """The log lines whose ``event`` is ``name``."""
        return [line for line in self.log_lines() if line.get("event") == name]

    async def get(self, path: str) -> httpx.Response:
        """GET ``path`` from it."""
        return await get(self.base_url, path)

    async def readyz(self) -> httpx.Response:
        """Its ``/readyz`` answer."""
        return await self.get("/readyz")

    def exit_reason(self) -> str | None:
        """None while it runs; once it exited, its status and output."""
        code = self.proc.returncode
        return None if code is None else f"bot exited with {code}:\n{self.output()}"

    async def wait_ready(
        self,
        timeout: float = 20.0,  # noqa: ASYNC109
        *,
        interval: float = 0.05,
        request_timeout: float = 5.0,
    ) -> dict[str, Any]:
        """``/readyz`` answered 200 (bounded); `NotReady` with its output if it died first."""
        return await wait_ready(
            self.base_url,
            timeout=timeout,
            gone=self.exit_reason,
            details=self.output,
            interval=interval,
            request_timeout=request_timeout,
        )

    async def wait_exit(self, timeout: float) -> int:  # noqa: ASYNC109
        """Its exit status (within ``timeout``), once everything it wrote was read."""
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        await asyncio.wait_for(asyncio.gather(*self.readers), _DRAIN_SECONDS)
        return code

    async def terminate(self, timeout: float = 15.0) -> int:  # noqa: ASYNC109
        """SIGTERM, then the exit status (within ``timeout``)."""
        self.proc.send_signal(signal.SIGTERM)
        return await self.wait_exit(timeout)

    async def stop(self, grace: float) -> None:
        """SIGTERM, SIGKILL after ``grace`` seconds; never left running, even if cancelled."""
        proc = self.proc
        if proc.returncode is not None:
            return
        try:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await asyncio.wait_for(proc.wait(), _REAP_SECONDS)
        finally:
            if proc.returncode is None:  # cancelled while waiting
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()

    async def kill(self) -> None:
        """Kill it if still running (our own child, by its handle) and stop reading."""
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        for reader in self.readers:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    def kill_now(self) -> None:
        """SIGKILL it if still running, without an event loop (interpreter exit)."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self.proc.pid, signal.SIGKILL)


async def _collect(stream: asyncio.StreamReader | None, sink: list[str]) -> None:
    if stream is None:
        return
    while line := await stream.readline():
        sink.append(line.decode("utf-8", errors="replace"))


def _parent_death_signal() -> Callable[[], None] | None:
    """Linux: a function for the child, before exec, that has it get SIGTERM if we die."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # loaded here: the child only calls it
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def arm() -> None:  # pragma: no cover - runs in the child
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return arm


class BotProcesses(ClosedInContext):
    """Starts ``python -m bot serve`` children in ``cwd``; kills the ones left running.

    Those still running are killed by `aclose` (``async with BotProcesses(...)``), or at
    interpreter exit if it never ran. ``die_with_parent`` (Linux) also has each child
    terminated by the kernel if this process dies without cleaning up.
    """

    #: What `start` returns; a subclass may return its own kind of process.
    process_class: type[BotProcess] = BotProcess

    def __init__(
        self, cwd: Path, *, python: str = sys.executable, die_with_parent: bool = False
    ) -> None:
        self.cwd = cwd
        self.python = python
        self.die_with_parent = die_with_parent
        self.started: list[BotProcess] = []
        self._atexit_registered = False

    async def start(
        self,
        *serve_args: str,
        env: Mapping[str, str],
        port: int | None = None,
        log: Path | None = None,
    ) -> BotProcess:
        """``python -m bot serve *serve_args --host 127.0.0.1 --port port`` (free if None).

        With ``log``, its output is appended to that file; else it is collected in memory.
        """
        port = port or free_port()
        argv = serve_argv(*serve_args, port=port, python=self.python)
        preexec = _parent_death_signal() if self.die_with_parent else None
        if not self._atexit_registered:
            atexit.register(self._kill_at_exit)
            self._atexit_registered = True
        with contextlib.ExitStack() as files:
            output: int | IO[bytes] = asyncio.subprocess.PIPE
            if log is not None:
                output = files.enter_context(log.open("ab"))
            proc = await asyncio.create_subprocess_exec(
                *argv,
                env=dict(env),
                cwd=self.cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                preexec_fn=preexec,
            )
        process = self.process_class(proc, argv=argv, env=env, port=port, log=log)
        self.started.append(process)
        return process

    async def aclose(self) -> None:
        """Kill every child still running."""
        for process in self.started:
            await process.kill()
        if self._atexit_registered:
            atexit.unregister(self._kill_at_exit)
            self._atexit_registered = False

    def _kill_at_exit(self) -> None:
        for process in self.started:
            process.kill_now()
