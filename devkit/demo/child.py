"""The bot under demo: the production entry point as a child process of the demo.

``python -m bot serve --http --host 127.0.0.1 --port N``, configured only through
environment variables (`devkit.localslack.process` gives it a clean environment), its
output in a log file in the session's directory. A port taken between choosing it
and binding it is retried with another; every wait is bounded; the child is
terminated (then killed) on `BotChild.stop`, killed at interpreter exit if that never
ran, and (Linux) terminated by the kernel if the demo dies first.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from devkit.localslack.process import (
    BotProcess,
    BotProcesses,
    NotReady,
    clean_environment,
    serve_argv,
)

__all__ = [
    "READY_TIMEOUT",
    "STOP_GRACE_SECONDS",
    "BotChild",
    "DemoError",
    "bot_argv",
]

READY_TIMEOUT: Final = 30.0
STOP_GRACE_SECONDS: Final = 8.0
#: Ports tried before giving up (another program may take a free port first).
_PORT_ATTEMPTS: Final = 3
#: Logged by ``serve`` when it cannot bind its port.
_LISTEN_FAILED: Final = "listen_failed"


class DemoError(Exception):
    """The demo cannot go on (the bot did not start, or exited); the message says why."""


def bot_argv(port: int, python: str = sys.executable) -> list[str]:
    """The bot's command line: the production entry point, HTTP mode, loopback only."""
    return serve_argv("--http", port=port, python=python)


class BotChild:
    """The bot process of one demo session."""

    def __init__(
        self, workdir: Path, *, python: str = sys.executable, ready_timeout: float = READY_TIMEOUT
    ) -> None:
        self.workdir = workdir
        self.ready_timeout = ready_timeout
        self._processes = BotProcesses(workdir, python=python, die_with_parent=True)
        self._process: BotProcess | None = None
        self._env: dict[str, str] = {}

    @property
    def log_path(self) -> Path:
        """Where the bot's output (JSON log lines) goes."""
        return self.workdir / "bot.log"

    @property
    def argv(self) -> list[str]:
        """The command line it runs with (empty before `start`)."""
        return list(self._process.argv) if self._process is not None else []

    @property
    def env(self) -> dict[str, str]:
        """Its whole environment."""
        return dict(self._env)

    @property
    def pid(self) -> int | None:
        """Its process id once started."""
        return self._process.pid if self._process is not None else None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        if self._process is None:
            raise RuntimeError("the bot is not started")
        return self._process.base_url

    @property
    def events_url(self) -> str:
        """Where Slack's requests go."""
        if self._process is None:
            raise RuntimeError("the bot is not started")
        return self._process.events_url

    async def start(self, settings: Mapping[str, str]) -> None:
        """Start the bot with ``settings`` and wait until ``/readyz`` answers 200."""
        self._env = clean_environment(settings)
        for _ in range(_PORT_ATTEMPTS):
            self._process = await self._processes.start("--http", env=self._env, log=self.log_path)
            try:
                await self._process.wait_ready(
                    self.ready_timeout, interval=0.1, request_timeout=2.0
                )
            except NotReady as exc:
                if not exc.exited:
                    last = exc.last or "sin respuesta"
                    raise DemoError(
                        self.exit_report(
                            f"el bot no quedó listo en {self.ready_timeout:.0f} s ({last})"
                        )
                    ) from None
                if _LISTEN_FAILED not in self._process.tail():
                    raise DemoError(self.exit_report("el bot terminó al arrancar")) from None
            else:
                return
        raise DemoError(self.exit_report("el bot no pudo abrir un puerto local"))

    def check_alive(self) -> None:
        """Raise `DemoError` if the bot exited."""
        if self._process is not None and self._process.returncode is not None:
            raise DemoError(self.exit_report("el bot terminó inesperadamente"))

    def exit_report(self, what: str) -> str:
        """``what``, the exit status if it exited, and the end of its log."""
        code = self._process.returncode if self._process is not None else None
        status = f" (código {code})" if code is not None else ""
        tail = self._process.tail() if self._process is not None else ""
        report = f"{what}{status}. Registro del bot: {self.log_path}"
        return report + (f"\nÚltimas líneas:\n{tail}" if tail else "")

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period; never left running."""
        try:
            if self._process is not None:
                await self._process.stop(STOP_GRACE_SECONDS)
        finally:
            await self._processes.aclose()
