"""/api/{method}: tokens, unknown methods, parameters as Slack's clients send them."""

from __future__ import annotations

import json

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.scopes import BOT_SCOPES
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


async def test_answers_list_the_scopes_of_the_token(
    fake: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    """As Slack's do, in ``x-oauth-scopes``: the manifest's by default, or as granted."""
    default = await client.auth_test()
    fake.bot_scopes = ("commands", "chat:write")
    narrowed = await client.auth_test()
    refused = await slack_error(client.users_info(user="U0NOBODY"))
    fake.app_token = "xapp-1-test"
    app = await client.apps_connections_open(app_token="xapp-1-test")

    assert default.headers["x-oauth-scopes"] == ",".join(BOT_SCOPES)
    assert narrowed.headers["x-oauth-scopes"] == "commands,chat:write"
    assert refused.response.headers["x-oauth-scopes"] == "commands,chat:write"
    assert app.headers["x-oauth-scopes"] == "connections:write"


async def test_a_revoked_bot_token_is_refused_everywhere(
    fake: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    fake.bot_token_refusal = "token_revoked"

    auth = await slack_error(client.auth_test())
    post = await slack_error(client.chat_postMessage(channel="C0GENERAL", text="hola"))

    assert (auth.response["error"], post.response["error"]) == ("token_revoked", "token_revoked")
    assert "x-oauth-scopes" not in auth.response.headers
    fake.bot_token_refusal = None
    assert (await client.auth_test())["ok"] is True
