"""The HTTP server: health routes, readiness reasons, shutdown, and Slack's signature check.

Everything goes through the real aiohttp app on loopback (``bot`` / ``start_bot``
from ``tests/conftest.py``); the file-local ``serve`` helper runs a web app built
here with a `Readiness` that does not cache.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from aiohttp import web

from bot.server import EVENTS_PATH, Readiness, create_web_app
from bot.services import Services
from devkit.localslack import FakeSlackWebAPI, sign
from tests.conftest import AGENT, CHANNEL, SEED_LUMMY_ID, SIGNING_SECRET, Bot, make_settings


def _base(bot: Bot) -> str:
    return bot.url.removesuffix(EVENTS_PATH)


@asynccontextmanager
async def serve(web_app: web.Application) -> AsyncIterator[str]:
    """Serve ``web_app`` on a free loopback port; yields its base URL."""
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def _get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.get(url)


# -- /healthz and /readyz ------------------------------------------------------------


def unready(reason: str) -> dict[str, object]:
    """What /readyz answers when not ready for ``reason``, with a healthy history."""
    return {"status": "unavailable", "reason": reason, "history": "ok", "history_queued": 0}


async def test_healthz_is_ok(bot: Bot) -> None:
    response = await _get(_base(bot) + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ready_when_slack_auth_works(bot: Bot) -> None:
    response = await _get(_base(bot) + "/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "history": "ok", "history_queued": 0}
    assert len(bot.slack.calls_to("auth.test")) == 1


async def test_readyz_caches_the_auth_check(bot: Bot) -> None:
    """Probes every few seconds must not turn into an auth.test call each."""
    for _ in range(3):
        assert (await _get(_base(bot) + "/readyz")).status_code == 200
    assert len(bot.slack.calls_to("auth.test")) == 1


async def test_readyz_reports_slack_auth_failure_then_recovers(
    start_bot: Callable[..., Any], fake_slack: FakeSlackWebAPI
) -> None:
    started: Bot = await start_bot()
    fake_slack.fail("auth.test", "invalid_auth", times=1)
    async with serve(
        create_web_app(started.services, Readiness(started.services, auth_cache_seconds=0))
    ) as base:
        failed = await _get(base + "/readyz")
        assert failed.status_code == 503
        assert failed.json() == unready("slack auth failed: invalid_auth")
        # Liveness is not readiness: the process is alive, it should not be restarted.
        assert (await _get(base + "/healthz")).status_code == 200
        # The failure was one-off; with no cache the next probe sees Slack working again.
        assert (await _get(base + "/readyz")).status_code == 200
    assert len(fake_slack.calls_to("auth.test")) == 2


async def test_readyz_fresh_bot_sees_auth_failure(
    start_bot: Callable[..., Any], fake_slack: FakeSlackWebAPI
) -> None:
    """The bot exactly as the fixtures build it (30 s cache): its first probe checks Slack."""
    fake_slack.fail("auth.test", "token_revoked", times=1)
    started: Bot = await start_bot()
    response = await _get(_base(started) + "/readyz")
    assert response.status_code == 503
    assert response.json()["reason"] == "slack auth failed: token_revoked"


async def test_readyz_reports_slack_unreachable() -> None:
    """Slack's API URL points at a port nobody listens on: a reason, not a crash or a hang."""
    async with serve(web.Application()) as dead:
        pass  # the port is free again once the runner is cleaned up
    services = Services.create(make_settings(slack_api_url=dead + "/api/"))
    try:
        async with serve(
            create_web_app(services, Readiness(services, auth_cache_seconds=0))
        ) as base:
            started = time.monotonic()
            response = await _get(base + "/readyz")
            assert time.monotonic() - started < 6
    finally:
        await services.aclose()
    assert response.status_code == 503
    assert response.json()["reason"].startswith("slack unreachable")


async def test_shutting_down_refuses_readiness_and_slack_requests(bot: Bot) -> None:
    assert (await _get(_base(bot) + "/readyz")).status_code == 200
    bot.services.shutting_down = True

    readyz = await _get(_base(bot) + "/readyz")
    assert readyz.status_code == 503
    assert readyz.json() == unready("shutting down")
    assert (await _get(_base(bot) + "/healthz")).status_code == 200

    response = await bot.command(SEED_LUMMY_ID)
    assert response.status == 503
    assert response.body == "shutting down"
    assert bot.slack.calls_to("views.open") == []


# -- Socket Mode readiness -------------------------------------------------------------


def _socket_handler(*, connected: bool, last_pong_ago: float | None) -> Any:
    """A stand-in for `AsyncSocketModeHandler`: only what `Readiness` reads."""
    last = None if last_pong_ago is None else time.time() - last_pong_ago
    client = SimpleNamespace(is_connected=lambda: connected, last_ping_pong_time=last)
    return SimpleNamespace(client=client)


@pytest.mark.parametrize(
    ("connected", "last_pong_ago", "expected"),
    [
        (False, None, "socket mode connection is down"),
        (False, 1.0, "socket mode connection is down"),
        (True, 61.0, "socket mode connection is stale (no pong for 6"),
        (True, 59.0, None),
        (True, 1.0, None),
        (True, None, None),  # connected, no ping-pong yet
    ],
)
def test_socket_problem(connected: bool, last_pong_ago: float | None, expected: str | None) -> None:
    handler = _socket_handler(connected=connected, last_pong_ago=last_pong_ago)
    problem = Readiness._socket_problem(handler)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert problem.startswith(expected)


async def test_readiness_with_socket_down_does_not_call_slack(bot: Bot) -> None:
    readiness = Readiness(
        bot.services,
        socket_handler=_socket_handler(connected=False, last_pong_ago=None),
        auth_cache_seconds=0,
    )
    assert await readiness.check() == "socket mode connection is down"
    assert bot.slack.calls_to("auth.test") == []

    healthy = Readiness(
        bot.services,
        socket_handler=_socket_handler(connected=True, last_pong_ago=1.0),
        auth_cache_seconds=0,
    )
    assert await healthy.check() is None
    assert len(bot.slack.calls_to("auth.test")) == 1

    bot.services.shutting_down = True
    assert await healthy.check() == "shutting down"


# -- Slack's request signature ---------------------------------------------------------


def _command_body(bot: Bot) -> bytes:
    fields = bot.sender.slash_command_fields(
        "/reenviar", SEED_LUMMY_ID, user_id=AGENT, channel_id=CHANNEL
    )
    return urlencode(fields).encode()


def _headers(timestamp: int, signature: str) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda body, now: {}, id="no-signature-headers"),
        pytest.param(lambda body, now: {"X-Slack-Request-Timestamp": str(now)}, id="no-signature"),
        pytest.param(
            lambda body, now: {"X-Slack-Signature": sign(SIGNING_SECRET, now, body)},
            id="no-timestamp",
        ),
        pytest.param(
            lambda body, now: _headers(now, sign("some-other-secret", now, body)),
            id="wrong-secret",
        ),
        pytest.param(
            lambda body, now: _headers(now, sign(SIGNING_SECRET, now, body + b"&x=1")),
            id="body-tampered",
        ),
        pytest.param(
            lambda body, now: _headers(now - 600, sign(SIGNING_SECRET, now - 600, body)),
            id="stale-10-min",
        ),
        pytest.param(
            lambda body, now: _headers(now + 600, sign(SIGNING_SECRET, now + 600, body)),
            id="future-10-min",
        ),
    ],
)
async def test_unsigned_or_forged_requests_are_rejected(
    bot: Bot, forge: Callable[[bytes, int], dict[str, str]]
) -> None:
    body = _command_body(bot)
    response = await bot.sender.post_raw(body, headers=forge(body, int(time.time())))
    assert response.status == 401
    assert bot.slack.calls_to("views.open") == []
    assert bot.slack.calls == []  # nothing reached Slack either


async def test_validly_signed_request_is_served(bot: Bot) -> None:
    body = _command_body(bot)
    now = int(time.time())
    response = await bot.sender.post_raw(
        body, headers=_headers(now, sign(SIGNING_SECRET, now, body))
    )
    assert response.status == 200
    await bot.slack.wait_for_call("views.open")


async def test_signature_check_tolerates_half_a_minute_of_clock_skew(bot: Bot) -> None:
    body = _command_body(bot)
    then = int(time.time()) - 30
    response = await bot.sender.post_raw(
        body, headers=_headers(then, sign(SIGNING_SECRET, then, body))
    )
    assert response.status == 200


async def test_a_history_store_that_comes_back_is_started_and_reported(
    start_bot: Callable[..., Any], tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    bot: Bot = await start_bot(data_dir=str(blocker / "data"))
    assert bot.services.history_status.startswith("history store unavailable")
    assert not bot.services.store_started

    blocker.unlink()  # the operator fixes the disk; the background check picks it up
    await bot.services.refresh_history_status()

    assert bot.services.history_status == "ok"
    assert bot.services.store_started
    response = await _get(_base(bot) + "/readyz")
    assert response.json() == {"status": "ready", "history": "ok", "history_queued": 0}
