"""FakeSlackWebAPI as a whole: its URLs, the bounded waits, state shared with its parts."""

from __future__ import annotations

import asyncio
import time

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from devkit.localslack import FakeSlackWebAPI
from tests.devkit.localslack.conftest import TOKEN


async def test_urls_and_auth_test(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    assert fake.base_url == f"http://127.0.0.1:{fake.port}"
    assert fake.api_url == f"http://127.0.0.1:{fake.port}/api/"
    resp = await client.auth_test()
    assert resp["user_id"] == "U0BOT"
    assert resp["team_id"] == "T0001"
    assert resp["bot_id"] == "B0BOT"
    assert resp["url"] == "https://acme.slack.com/"
    call = fake.calls_to("auth.test")[0]
    assert call.headers["Authorization"] == f"Bearer {TOKEN}"


async def test_wait_for_call(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    async def later() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C0GENERAL", text="x")

    task = asyncio.create_task(later())
    calls = await fake.wait_for_call("chat.postMessage", timeout=2.0)
    await task
    assert calls[0].params["text"] == "x"

    await client.auth_test()
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"2 call\(s\) to chat\.postMessage.*auth\.test"):
        await fake.wait_for_call("chat.postMessage", count=2, timeout=0.2)
    assert time.monotonic() - started < 1.0


async def test_state_lives_on_the_workspace_and_writes_go_through(fake: FakeSlackWebAPI) -> None:
    workspace = fake.workspace
    assert fake.users is workspace.users
    assert fake.messages is workspace.messages
    assert fake.views is workspace.views
    assert fake.response_url_messages is workspace.response_url_messages

    fake.app_token = "xapp-1-rotated"
    fake.chat_write_public = True
    assert (workspace.app_token, workspace.chat_write_public) == ("xapp-1-rotated", True)

    # What the methods see is what the facade says.
    fake.add_channel("C0NEW", "nuevo", bot_is_member=False)
    assert workspace.writable_channel("C0NEW").id == "C0NEW"


async def test_a_stopped_fake_can_be_stopped_again() -> None:
    fake = FakeSlackWebAPI()
    await fake.start()
    await fake.stop()
    await fake.stop()
    with pytest.raises(RuntimeError, match="already running"):
        async with FakeSlackWebAPI() as running:
            await running.start()
