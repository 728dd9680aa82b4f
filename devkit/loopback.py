"""An aiohttp application served on a loopback address, and nowhere else."""

from __future__ import annotations

import ipaddress

from aiohttp import web

__all__ = ["LoopbackServer"]

#: aiohttp's own bound for a graceful shutdown.
_AIOHTTP_SHUTDOWN_SECONDS = 60.0
#: aiohttp's own listen backlog.
_AIOHTTP_BACKLOG = 128


class LoopbackServer:
    """Serves one application on 127.0.0.1 (or another loopback address) until stopped.

    ``name`` is what error messages call the server; ``shutdown_timeout`` bounds how long
    `stop` lets handlers in flight finish, ``backlog`` is the listen queue's length.
    """

    def __init__(
        self,
        name: str,
        *,
        shutdown_timeout: float = _AIOHTTP_SHUTDOWN_SECONDS,
        backlog: int = _AIOHTTP_BACKLOG,
    ) -> None:
        self.name = name
        self.shutdown_timeout = shutdown_timeout
        self.backlog = backlog
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._runner is not None

    async def start(self, app: web.Application, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving ``app``; ``port=0`` picks a free port. Refuses non-loopback hosts."""
        if self._runner is not None:
            raise RuntimeError(f"{self.name} is already running")
        if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"{self.name} only binds loopback addresses, not {host!r}")
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=self.shutdown_timeout)
        await runner.setup()
        site = web.TCPSite(runner, host, port, backlog=self.backlog)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._host = "127.0.0.1" if host == "localhost" else host
        address = runner.addresses[0]
        self._port = int(address[1])

    async def stop(self) -> None:
        """Stop serving (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (``http://[::1]:PORT`` for IPv6)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"
