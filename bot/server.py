"""Running the bot: HTTP mode (``POST /slack/events``) or Socket Mode, plus health routes.

Both modes serve ``GET /healthz`` (the process is alive), ``GET /readyz``
(ready to serve; 503 with a reason) and ``GET /metrics`` (Prometheus). SIGTERM
stops taking new work, lets in-flight re-sends finish within a bounded grace
period, then exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Final

import structlog
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackClientError

from bot.app import build_app
from bot.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from bot.services import Services
from bot.slack.intake import CheckedSocketModeHandler, dispatch_http

log = structlog.get_logger(__name__)

EVENTS_PATH: Final = "/slack/events"
_STALE_SOCKET_SECONDS: Final = 60.0
_INTERRUPT_REPORT_SECONDS: Final = 6.0


class Readiness:
    """Whether the bot can do its job now, with the reason when it cannot."""

    def __init__(
        self,
        services: Services,
        *,
        socket_handler: AsyncSocketModeHandler | None = None,
        auth_cache_seconds: float = 30.0,
    ) -> None:
        self._services = services
        self._socket_handler = socket_handler
        self._auth_cache_seconds = auth_cache_seconds
        self._auth_checked_at = float("-inf")
        self._auth_problem: str | None = None

    async def check(self) -> str | None:
        """None when ready, else a short English reason for operators."""
        if self._services.shutting_down:
            return "shutting down"
        if self._socket_handler is not None:
            connected = await _socket_connected(self._socket_handler)
            problem = self._socket_problem(self._socket_handler, connected=connected)
            if problem:
                return problem
        return await self._slack_auth_problem()

    @staticmethod
    def _socket_problem(
        handler: AsyncSocketModeHandler, *, connected: bool | None = None
    ) -> str | None:
        """``connected``: the awaited ``is_connected()`` (called here if not given)."""
        client = handler.client
        if connected is None:
            answer: object = client.is_connected()
            if inspect.iscoroutine(answer):  # slack_sdk's aiohttp client: async
                answer.close()
                raise TypeError("is_connected() must be awaited: pass connected=")
            connected = bool(answer)
        if not connected:
            return "socket mode connection is down"
        last = getattr(client, "last_ping_pong_time", None)
        if last is not None and time.time() - float(last) > _STALE_SOCKET_SECONDS:
            return f"socket mode connection is stale (no pong for {time.time() - last:.0f} s)"
        return None

    async def _slack_auth_problem(self) -> str | None:
        if time.monotonic() - self._auth_checked_at < self._auth_cache_seconds:
            return self._auth_problem
        try:
            await asyncio.wait_for(self._services.client.auth_test(), 5)
            problem = None
        except SlackClientError as exc:
            response = getattr(exc, "response", None)
            problem = "slack auth failed: " + (
                str(response.get("error")) if response is not None else type(exc).__name__
            )
        except (TimeoutError, OSError) as exc:
            problem = f"slack unreachable: {type(exc).__name__}"
        self._auth_checked_at = time.monotonic()
        self._auth_problem = problem
        return problem


async def _socket_connected(handler: AsyncSocketModeHandler) -> bool:
    """``is_connected()``, awaited: slack_sdk's aiohttp client answers with a coroutine,
    which is always truthy if not awaited (the connection would never look down).
    """
    answer: object = handler.client.is_connected()
    if inspect.isawaitable(answer):
        return bool(await answer)
    return bool(answer)


def create_web_app(
    services: Services, readiness: Readiness, bolt_app: AsyncApp | None = None
) -> web.Application:
    """The aiohttp application: health routes and metrics, and Slack's endpoint when
    ``bolt_app`` is given."""

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        problem = await readiness.check()
        # Without history the bot still re-sends (without duplicate checks): report, not fail.
        # Rows the store could not take yet wait in the outbox: how many, beside the status.
        history = {"history": services.history_status, "history_queued": services.health.queued}
        if problem:
            return web.json_response(
                {"status": "unavailable", "reason": problem, **history}, status=503
            )
        return web.json_response({"status": "ready", **history})

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(
            body=services.metrics.render(), headers={"Content-Type": METRICS_CONTENT_TYPE}
        )

    web_app = web.Application(client_max_size=1024 * 1024)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", metrics)
    if bolt_app is not None:

        async def slack_events(request: web.Request) -> web.Response:
            if services.shutting_down:
                return web.Response(status=503, text="shutting down")
            secret = services.settings.slack_signing_secret
            return await dispatch_http(
                request,
                bolt_app,
                signing_secret=secret.get_secret_value() if secret else None,
                metrics=services.metrics,
            )

        web_app.router.add_post(EVENTS_PATH, slack_events)
    return web_app


class ListenError(Exception):
    """The HTTP port could not be opened (in use, not permitted, unknown host)."""


async def _start_site(web_app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=5)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return runner


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)


async def _drain_and_close(
    services: Services,
    runner: web.AppRunner,
    grace_seconds: float,
    *extra: Callable[[], Awaitable[None]],
) -> None:
    services.shutting_down = True
    log.info("shutdown_started", in_flight=services.inflight.count)
    for close in extra:
        await close()
    drained = await services.inflight.drain(grace_seconds)
    if not drained:
        # Cut the rest short: each one tells its agent the outcome is unknown.
        cancelled = services.inflight.cancel_all()
        log.error("shutdown_grace_exceeded", cancelled=cancelled)
        await services.inflight.drain(_INTERRUPT_REPORT_SECONDS)
    await runner.cleanup()
    await services.aclose()
    log.info("shutdown_complete", drained=drained)


def settle_startup_objects() -> None:
    """Keep what start-up built (modules, the app, its clients) out of every later garbage
    collection: they live as long as the process, and each full collection walked them."""
    gc.collect()
    gc.freeze()


async def _started(services: Services, stop: asyncio.Event | None) -> asyncio.Event:
    """Start the services; the event that stops serving, set by SIGTERM/SIGINT too."""
    stop = stop or asyncio.Event()
    await services.start()
    _stop_on_signals(stop)
    return stop


async def serve_http(
    services: Services,
    *,
    host: str,
    port: int,
    grace_seconds: float,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve Slack over HTTP until SIGTERM/SIGINT (or ``stop``)."""
    stop = await _started(services, stop)
    readiness = Readiness(services)
    runner = await _start_site(create_web_app(services, readiness, build_app(services)), host, port)
    settle_startup_objects()
    log.info("serving", mode="http", url=f"http://{host}:{port}{EVENTS_PATH}")
    await stop.wait()
    await _drain_and_close(services, runner, grace_seconds)


async def serve_socket_mode(
    services: Services,
    *,
    app_token: str,
    host: str,
    port: int,
    grace_seconds: float,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve Slack over Socket Mode; health routes stay on HTTP for the orchestrator."""
    stop = await _started(services, stop)
    handler = CheckedSocketModeHandler(build_app(services), app_token, metrics=services.metrics)
    readiness = Readiness(services, socket_handler=handler)
    runner = await _start_site(create_web_app(services, readiness), host, port)
    # slack_sdk retries a first connection that fails (bad token, Slack unreachable)
    # forever: SIGTERM must still stop the process meanwhile.
    connecting = asyncio.ensure_future(handler.connect_async())  # type: ignore[no-untyped-call]
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not stopping.done():
            connecting.result()
            settle_startup_objects()
            log.info("serving", mode="socket", health=f"http://{host}:{port}/readyz")
            await stopping
    finally:
        stopping.cancel()
        if not connecting.done():
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
    await _drain_and_close(services, runner, grace_seconds, handler.close_async)
