"""Shared fixtures: the production bot on loopback, a fake Slack and both provider emulators.

The bot runs exactly as in production (`Services.create` + `create_web_app`),
only with its URLs pointed at local servers. Tests talk to it the way Slack
does: signed HTTP requests to ``/slack/events``.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import pytest
from aiohttp import web

from bot.app import build_app
from bot.config import Settings
from bot.server import EVENTS_PATH, Readiness, create_web_app
from bot.services import Services
from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.emulators.tusfacturas import TusFacturasCredentials as EmulatorCredentials
from devkit.localslack import FakeSlackWebAPI, SlackEventSender
from devkit.localslack.sender import SenderResponse
from devkit.localslack.webapi import Message
from providers.registry import ProviderRegistry, builtin_registry
from tests.blockkit import assert_valid_blocks, assert_valid_home, assert_valid_modal

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-fake-bot"
LUMMY_API_KEY = "lummy-api-key-s3cr3t"
LUMMY_ORG = "7b0c5a2e-1111-4c3d-9e8f-000000000001"
TF_APIKEY, TF_APITOKEN, TF_USERTOKEN = (
    "tf-apikey-s3cr3t",
    "tf-apitoken-s3cr3t",
    "tf-usertoken-s3cr3t",
)

AGENT = "U0AGENT01"
OTHER_AGENT = "U0AGENT02"
CHANNEL = "C0SUPPORT"
SEED_LUMMY_ID = "550e8400-e29b-41d4-a716-446655440000"
#: The providers the bot ships with, as the tests build views and forms with them.
REGISTRY = builtin_registry()


def make_settings(*, registry: ProviderRegistry | None = None, **overrides: Any) -> Settings:
    """Settings for tests: never read from the developer's environment or .env.

    ``registry``: the providers to offer (the shipped ones by default); ``overrides``
    name settings like their variables, provider settings included (``lummy_api_key``).
    """
    values: dict[str, Any] = {
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "tusfacturas_apikey": TF_APIKEY,
        "tusfacturas_apitoken": TF_APITOKEN,
        "tusfacturas_usertoken": TF_USERTOKEN,
        "lummy_api_key": LUMMY_API_KEY,
        "lummy_organization_id": LUMMY_ORG,
        "provider_connect_timeout": 1.0,
        "provider_read_timeout": 2.0,
        "provider_retry_backoff": 0.01,
        # Never the developer's or CI's database: each test gets SQLite in its tmp dir
        # unless it asks for PostgreSQL explicitly.
        "database_url": None,
        "database_schema": None,
        **overrides,
    }
    return Settings.load(registry=registry, env_file=None, **values)


@dataclass
class Bot:
    """A running bot wired to the fakes, with helpers that act like an agent in Slack."""

    slack: FakeSlackWebAPI
    sender: SlackEventSender
    lummy: LummyEmulator
    tusfacturas: TusFacturasEmulator
    services: Services
    url: str

    async def command(
        self, text: str = "", *, user: str = AGENT, channel: str = CHANNEL
    ) -> SenderResponse:
        """Type ``/reenviar text`` in ``channel``."""
        return await self.sender.slash_command("/reenviar", text, user_id=user, channel_id=channel)

    async def open_modal(
        self,
        text: str = "",
        *,
        user: str = AGENT,
        channel: str = CHANNEL,
        empty_ack: bool = False,
    ) -> dict[str, Any]:
        """Type the command and return the modal Slack shows, once the bot is done with it.

        ``empty_ack``: also check the command's ack is empty (nothing shown in the channel).
        """
        opened_before = len(self.slack.calls_to("views.open"))
        response = await self.command(text, user=user, channel=channel)
        assert response.status == 200, response.body
        if empty_ack:
            assert response.body == "", response.body
        await self.slack.wait_for_call("views.open", count=opened_before + 1)
        # Once open, the modal is updated with what the history and the provider know.
        assert await self.services.inflight.drain(5), "the command is still working"
        view = self.slack.current_view(user)
        assert view is not None, "no modal was opened"
        return view

    async def wait_for_outcome(
        self, channel: str = CHANNEL, *, count: int = 1, timeout: float = 10.0
    ) -> list[Message]:
        """Wait until ``count`` messages in ``channel`` show an outcome (not "re-sending")."""
        await self.slack.wait_until(
            lambda: len(outcomes(self.slack, channel)) >= count,
            timeout=timeout,
            description=f"{count} outcome message(s) in {channel}",
        )
        assert await self.services.inflight.drain(timeout), "re-sends still running"
        return outcomes(self.slack, channel)


def is_progress(message: Message) -> bool:
    """A "re-sending…" message (the hourglass), not an outcome yet."""
    return any(":hourglass_flowing_sand:" in str(block) for block in message.blocks)


def outcomes(slack: FakeSlackWebAPI, channel: str = CHANNEL) -> list[Message]:
    """The messages in ``channel`` that show an outcome (not "re-sending")."""
    return [m for m in slack.messages_in(channel) if not is_progress(m)]


@pytest.fixture
async def lummy() -> AsyncIterator[LummyEmulator]:
    async with LummyEmulator(api_key=LUMMY_API_KEY, organization_id=LUMMY_ORG) as emulator:
        yield emulator


@pytest.fixture
async def tusfacturas() -> AsyncIterator[TusFacturasEmulator]:
    credentials = [
        EmulatorCredentials(apikey=TF_APIKEY, apitoken=TF_APITOKEN, usertoken=TF_USERTOKEN)
    ]
    async with TusFacturasEmulator(credentials, requests_per_second=1000) as emulator:
        yield emulator


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlackWebAPI]:
    async with FakeSlackWebAPI(bot_token=BOT_TOKEN) as slack:
        slack.add_user(AGENT, "ana", "Ana Pérez", tz="America/Argentina/Buenos_Aires")
        slack.add_user(OTHER_AGENT, "beto", "Beto Ruiz", tz="America/Mexico_City", tz_offset=-21600)
        slack.add_channel(CHANNEL, "soporte")
        yield slack
        assert_everything_sent_is_valid(slack)


def assert_everything_sent_is_valid(slack: FakeSlackWebAPI) -> None:
    """Every view and message the bot sent during a test must be valid Block Kit."""
    for call in slack.calls:
        if call.method in {"views.open", "views.update", "views.push"}:
            assert_valid_modal(call.params["view"])
        elif call.method == "views.publish":
            assert_valid_home(call.params["view"])
        elif call.method in {"chat.postMessage", "chat.update", "chat.postEphemeral"}:
            assert call.params.get("text"), f"{call.method} without notification text"
            if call.params.get("blocks"):
                assert_valid_blocks(call.params["blocks"])
    for message in slack.response_url_messages:
        if message.blocks:
            assert_valid_blocks(message.blocks)


BotFactory = Callable[..., "asyncio.Future[Bot]"]


@pytest.fixture
async def start_bot(
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Any]]:
    """Start the bot with settings overrides; every started bot is stopped at teardown."""
    cleanups: list[Callable[[], Any]] = []

    async def start(**overrides: Any) -> Bot:
        urls = {
            "slack_api_url": fake_slack.api_url,
            "lummy_base_url": lummy.base_url,
            "tusfacturas_base_url": tusfacturas.base_url,
        }
        settings = make_settings(**{**urls, "data_dir": str(tmp_path), **overrides})
        services = Services.create(settings)
        await services.start()
        web_app = create_web_app(services, Readiness(services), build_app(services))
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}{EVENTS_PATH}"
        sender = SlackEventSender(url, SIGNING_SECRET, fake_slack)

        async def stop() -> None:
            await services.inflight.drain(5)
            await sender.aclose()
            await runner.cleanup()
            await services.aclose()

        cleanups.append(stop)
        return Bot(fake_slack, sender, lummy, tusfacturas, services, url)

    yield start
    for stop in reversed(cleanups):
        await stop()


@pytest.fixture
async def bot(start_bot: Callable[..., Any]) -> Bot:
    """The bot with both providers configured."""
    started: Bot = await start_bot()
    return started


# --- PostgreSQL -------------------------------------------------------------------

DEFAULT_TEST_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL (``TEST_DATABASE_URL``, else the local default).

    Skipped when none answers on a developer machine; in CI (``CI`` set) a missing
    server is a failure, since CI must exercise both backends.
    """
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2):
            pass
    except OSError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {parts.hostname}:{parts.port} is required in CI: {exc}")
        pytest.skip(f"no PostgreSQL at {parts.hostname}:{parts.port} (set TEST_DATABASE_URL)")
    return url


@pytest.fixture
async def pg_schema(postgres_url: str) -> AsyncIterator[str]:
    """A fresh schema for one test, dropped afterwards."""
    import asyncpg

    schema = f"test_{uuid4().hex[:12]}"
    yield schema
    connection = await asyncpg.connect(postgres_url, timeout=5)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def history_backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """Settings overrides selecting each history backend in turn (same tests, both)."""
    if request.param == "sqlite":
        return {"data_dir": str(tmp_path), "database_url": None, "database_schema": None}
    url = request.getfixturevalue("postgres_url")
    schema = request.getfixturevalue("pg_schema")
    return {"database_url": url, "database_schema": schema}
