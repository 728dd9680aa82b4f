"""`UserDirectory` against the fake Slack, with slack-sdk's real AsyncWebClient."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from structlog.testing import capture_logs

from bot.slack.client import slack_client
from bot.slack.directory import UserDirectory
from devkit.localslack import FakeSlackWebAPI
from tests.conftest import AGENT, BOT_TOKEN, OTHER_AGENT


@pytest.fixture
def client(fake_slack: FakeSlackWebAPI) -> AsyncWebClient:
    """The production Web API client pointed at the fake Slack."""
    return slack_client(BOT_TOKEN, fake_slack.api_url)


async def test_user_directory_caches_one_users_info_per_user(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    directory = UserDirectory(client)
    assert await directory.timezone(AGENT) == "America/Argentina/Buenos_Aires"
    assert await directory.timezone(AGENT) == "America/Argentina/Buenos_Aires"
    assert len(fake_slack.calls_to("users.info")) == 1
    assert await directory.timezone(OTHER_AGENT) == "America/Mexico_City"
    assert len(fake_slack.calls_to("users.info")) == 2


async def test_user_directory_cache_expires(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    directory = UserDirectory(client, ttl_seconds=0)
    await directory.timezone(AGENT)
    fake_slack.add_user(AGENT, "ana", "Ana Pérez", tz="Europe/Madrid")
    assert await directory.timezone(AGENT) == "Europe/Madrid"
    assert len(fake_slack.calls_to("users.info")) == 2


async def test_user_directory_failure_is_none_and_not_cached(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    directory = UserDirectory(client)
    fake_slack.fail("users.info", "internal_error")
    with capture_logs() as logs:
        assert await directory.timezone(AGENT) is None
    assert any(e["event"] == "slack_users_info_failed" for e in logs)
    assert await directory.timezone(AGENT) == "America/Argentina/Buenos_Aires"
    assert await directory.timezone("U0NOBODY") is None


async def test_user_directory_without_a_tz_is_none(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    fake_slack.add_user("U0NOTZ", "sin", tz="")
    assert await UserDirectory(client).timezone("U0NOTZ") is None
