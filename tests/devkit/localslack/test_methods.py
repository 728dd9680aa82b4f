"""chat.*, users.*, usergroups.* and conversations.* through slack-sdk's AsyncWebClient."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from devkit.localslack import FakeSlackWebAPI
from tests.devkit.localslack.conftest import BLOCKS, slack_error


async def test_post_message_then_update(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    first = await client.chat_postMessage(channel="C0GENERAL", text="Reenviando…", blocks=BLOCKS)
    second = await client.chat_postMessage(channel="C0GENERAL", text="otro", thread_ts=first["ts"])
    assert first["channel"] == "C0GENERAL"
    assert first["message"]["blocks"] == BLOCKS
    assert float(second["ts"]) > float(first["ts"])
    assert fake.calls_to("chat.postMessage")[0].params["blocks"] == BLOCKS

    updated = await client.chat_update(channel="C0GENERAL", ts=first["ts"], text="Listo ✅")
    assert updated["ts"] == first["ts"]
    messages = fake.messages_in("C0GENERAL")
    assert [m.ts for m in messages] == [first["ts"], second["ts"]]
    assert messages[0].text == "Listo ✅"
    assert messages[0].edited is True
    assert messages[0].blocks == BLOCKS  # omitted blocks are kept, as in Slack
    assert messages[1].thread_ts == first["ts"]
    assert messages[0].bot_id == "B0BOT"


@pytest.mark.parametrize(
    ("channel", "kwargs", "error"),
    [
        ("C0NOPE", {"text": "x"}, "channel_not_found"),
        ("G0SECRET", {"text": "x"}, "channel_not_found"),
        ("C0PUBLIC", {"text": "x"}, "not_in_channel"),
        ("C0OLD", {"text": "x"}, "is_archived"),
        ("C0GENERAL", {}, "no_text"),
    ],
)
@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_post_message_errors(
    fake: FakeSlackWebAPI,
    client: AsyncWebClient,
    channel: str,
    kwargs: dict[str, Any],
    error: str,
) -> None:
    err = await slack_error(client.chat_postMessage(channel=channel, **kwargs))
    assert err.response["error"] == error
    assert err.response.status_code == 200
    assert all(not msgs for msgs in fake.messages.values())


async def test_update_missing_message(client: AsyncWebClient) -> None:
    err = await slack_error(client.chat_update(channel="C0GENERAL", ts="1.000001", text="x"))
    assert err.response["error"] == "message_not_found"


async def test_post_ephemeral(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    resp = await client.chat_postEphemeral(channel="C0GENERAL", user="U0AGENT", text="solo vos")
    assert resp["message_ts"]
    assert fake.messages_in("C0GENERAL") == []
    [eph] = fake.ephemeral_for("C0GENERAL", "U0AGENT")
    assert (eph.text, eph.message_ts) == ("solo vos", resp["message_ts"])
    err = await slack_error(client.chat_postEphemeral(channel="G0SECRET", user="U0AGENT", text="x"))
    assert err.response["error"] == "channel_not_found"


async def test_get_permalink(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="hola")
    ts = str(posted["ts"])

    resp = await client.chat_getPermalink(channel="C0GENERAL", message_ts=ts)

    assert resp["channel"] == "C0GENERAL"
    assert resp["permalink"] == f"https://acme.slack.com/archives/C0GENERAL/p{ts.replace('.', '')}"
    assert "." not in resp["permalink"].rsplit("/", 1)[-1]
    err = await slack_error(client.chat_getPermalink(channel="C0GENERAL", message_ts="1.000001"))
    assert err.response["error"] == "message_not_found"


async def test_a_replys_permalink_opens_its_thread(
    fake: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    parent = fake.post_as("C0GENERAL", "No me llegó la factura", user="U0AGENT")
    reply = await client.chat_postMessage(channel="C0GENERAL", text="Listo", thread_ts=parent.ts)
    ts = str(reply["ts"])

    resp = await client.chat_getPermalink(channel="C0GENERAL", message_ts=ts)

    path = f"p{ts.replace('.', '')}?thread_ts={parent.ts}&cid=C0GENERAL"
    assert resp["permalink"] == f"https://acme.slack.com/archives/C0GENERAL/{path}"
    assert [m.ts for m in fake.replies_to("C0GENERAL", parent.ts)] == [ts]
    assert fake.find_message("C0GENERAL", parent.ts) is parent
    err = await slack_error(client.chat_getPermalink(channel="C0NOPE", message_ts=ts))
    assert err.response["error"] == "channel_not_found"


async def test_users_info(client: AsyncWebClient) -> None:
    user = (await client.users_info(user="U0AGENT"))["user"]
    assert user["id"] == "U0AGENT"
    assert user["name"] == "agente"
    assert user["real_name"] == "Ana Agente"
    assert user["tz"] == "America/Argentina/Buenos_Aires"
    assert user["tz_offset"] == -10800
    assert user["tz_label"]
    assert user["profile"]["real_name"] == "Ana Agente"
    assert "display_name" in user["profile"]
    err = await slack_error(client.users_info(user="U0GHOST"))
    assert err.response["error"] == "user_not_found"


async def test_conversations_open_is_stable_and_postable(
    fake: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    first = await client.conversations_open(users="U0AGENT")
    again = await client.conversations_open(users=["U0AGENT"])
    dm = first["channel"]["id"]
    assert dm.startswith("D")
    assert again["channel"]["id"] == dm
    assert fake.channels[dm].bot_is_member
    assert fake.dm_channel_id("U0AGENT") == dm
    await client.chat_postMessage(channel=dm, text="por DM")
    assert fake.messages_in(dm)[0].text == "por DM"
    err = await slack_error(client.conversations_open(users="U0GHOST"))
    assert err.response["error"] == "user_not_found"


async def test_usergroups_users_list(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    fake.add_usergroup("S0SOPORTE", ["U0AGENT", "U0OTHER"])
    resp = await client.usergroups_users_list(usergroup="S0SOPORTE")
    assert resp["users"] == ["U0AGENT", "U0OTHER"]
    err = await slack_error(client.usergroups_users_list(usergroup="S0NOPE"))
    assert err.response["error"] == "no_such_subteam"


async def test_usergroups_list(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    fake.add_usergroup("S0SOPORTE", ["U0AGENT", "U0OTHER"], handle="soporte")
    fake.add_usergroup("S0ADMIN", ["U0AGENT"])

    listed = await client.usergroups_list()
    with_users = await client.usergroups_list(include_users=True)

    groups = {group["id"]: group for group in listed["usergroups"]}
    assert set(groups) == {"S0SOPORTE", "S0ADMIN"}
    assert groups["S0SOPORTE"]["handle"] == "soporte"
    assert groups["S0SOPORTE"]["user_count"] == 2
    assert groups["S0SOPORTE"]["date_delete"] == 0
    assert "users" not in groups["S0SOPORTE"]
    assert [group["users"] for group in with_users["usergroups"]] == [
        ["U0AGENT", "U0OTHER"],
        ["U0AGENT"],
    ]
