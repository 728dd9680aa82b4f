"""/api/{method}: tokens, unknown methods, parameters as Slack's clients send them."""

from __future__ import annotations

import json

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from devkit.localslack import FakeSlackWebAPI
from tests.devkit.localslack.conftest import BLOCKS, slack_error


async def test_auth_errors(fake: FakeSlackWebAPI) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)
    err = await slack_error(wrong.chat_postMessage(channel="C0GENERAL", text="hola"))
    assert err.response["error"] == "invalid_auth"
    async with httpx.AsyncClient() as http:
        resp = await http.post(fake.api_url + "auth.test")
    assert resp.json() == {"ok": False, "error": "not_authed"}
    assert fake.messages_in("C0GENERAL") == []


async def test_unknown_method(client: AsyncWebClient) -> None:
    err = await slack_error(client.api_call("reminders.add", json={"text": "x"}))
    assert err.response["error"] == "unknown_method"


async def test_form_encoded_blocks_are_decoded(
    fake: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    await client.api_call(
        "chat.postMessage",
        data={"channel": "C0GENERAL", "text": "hola", "blocks": json.dumps(BLOCKS)},
    )
    call = fake.calls_to("chat.postMessage")[0]
    assert call.params["blocks"] == BLOCKS
    assert fake.messages_in("C0GENERAL")[0].blocks == BLOCKS
