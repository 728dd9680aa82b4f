"""FakeSlackWebAPI driven by slack-sdk's real AsyncWebClient over loopback HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.localslack import FakeSlackWebAPI

TOKEN = "xoxb-test"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Reenviando…*"}}]
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "reenviar",
    "title": {"type": "plain_text", "text": "Reenviar factura"},
    "submit": {"type": "plain_text", "text": "Reenviar"},
    "blocks": [
        {
            "type": "input",
            "block_id": "numero",
            "label": {"type": "plain_text", "text": "Número"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


class FakeClock:
    """A settable clock."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackWebAPI]:
    async with FakeSlackWebAPI(bot_token=TOKEN) as api:
        api.add_user("U0AGENT", "agente", real_name="Ana Agente")
        api.add_channel("C0GENERAL", "general")
        api.add_channel("C0PUBLIC", "public-not-joined", bot_is_member=False)
        api.add_channel("G0SECRET", "secret", bot_is_member=False, is_private=True)
        api.add_channel("C0OLD", "old", is_archived=True)
        yield api


@pytest.fixture
def client(fake: FakeSlackWebAPI) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_url, timeout=5)


async def _slack_error(coro: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value


# ---------------------------------------------------------------------- basics / auth


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


async def test_auth_errors(fake: FakeSlackWebAPI) -> None:
    wrong = AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url)
    err = await _slack_error(wrong.chat_postMessage(channel="C0GENERAL", text="hola"))
    assert err.response["error"] == "invalid_auth"
    async with httpx.AsyncClient() as http:
        resp = await http.post(fake.api_url + "auth.test")
    assert resp.json() == {"ok": False, "error": "not_authed"}
    assert fake.messages_in("C0GENERAL") == []


async def test_unknown_method(client: AsyncWebClient) -> None:
    err = await _slack_error(client.api_call("reminders.add", json={"text": "x"}))
    assert err.response["error"] == "unknown_method"


async def test_refuses_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        await FakeSlackWebAPI().start(host="0.0.0.0")  # noqa: S104


# ---------------------------------------------------------------------- chat


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
    err = await _slack_error(client.chat_postMessage(channel=channel, **kwargs))
    assert err.response["error"] == error
    assert err.response.status_code == 200
    assert all(not msgs for msgs in fake.messages.values())


async def test_update_missing_message(client: AsyncWebClient) -> None:
    err = await _slack_error(client.chat_update(channel="C0GENERAL", ts="1.000001", text="x"))
    assert err.response["error"] == "message_not_found"


async def test_post_ephemeral(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    resp = await client.chat_postEphemeral(channel="C0GENERAL", user="U0AGENT", text="solo vos")
    assert resp["message_ts"]
    assert fake.messages_in("C0GENERAL") == []
    [eph] = fake.ephemeral_for("C0GENERAL", "U0AGENT")
    assert (eph.text, eph.message_ts) == ("solo vos", resp["message_ts"])
    err = await _slack_error(
        client.chat_postEphemeral(channel="G0SECRET", user="U0AGENT", text="x")
    )
    assert err.response["error"] == "channel_not_found"


# ---------------------------------------------------------------------- users / conversations


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
    err = await _slack_error(client.users_info(user="U0GHOST"))
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
    err = await _slack_error(client.conversations_open(users="U0GHOST"))
    assert err.response["error"] == "user_not_found"


async def test_usergroups_users_list(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    fake.add_usergroup("S0SOPORTE", ["U0AGENT", "U0OTHER"])
    resp = await client.usergroups_users_list(usergroup="S0SOPORTE")
    assert resp["users"] == ["U0AGENT", "U0OTHER"]
    err = await _slack_error(client.usergroups_users_list(usergroup="S0NOPE"))
    assert err.response["error"] == "no_such_subteam"


# ---------------------------------------------------------------------- views


async def test_views_open_and_update_with_hash(
    fake: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    opened = (await client.views_open(trigger_id=fake.issue_trigger_id(), view=MODAL))["view"]
    assert opened["id"].startswith("V")
    assert opened["team_id"] == "T0001"
    assert opened["type"] == "modal"
    assert opened["callback_id"] == "reenviar"
    assert opened["state"] == {"values": {}}
    assert fake.views[opened["id"]]["hash"] == opened["hash"]
    assert fake.calls_to("views.open")[0].params["view"]["callback_id"] == "reenviar"

    new_view = {**MODAL, "title": {"type": "plain_text", "text": "Lummy"}}
    updated = (await client.views_update(view_id=opened["id"], hash=opened["hash"], view=new_view))[
        "view"
    ]
    assert updated["id"] == opened["id"]
    assert updated["hash"] != opened["hash"]
    assert fake.views[opened["id"]]["title"]["text"] == "Lummy"

    stale = await _slack_error(
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    )
    assert stale.response["error"] == "hash_conflict"
    missing = await _slack_error(client.views_update(view_id="V0NOPE", view=MODAL))
    assert missing.response["error"] == "not_found"


async def test_views_push_and_invalid_view(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    opened = await client.views_open(trigger_id=fake.issue_trigger_id("U0AGENT"), view=MODAL)
    trigger = fake.issue_trigger_id("U0AGENT", view_id=opened["view"]["id"])
    pushed = (await client.views_push(trigger_id=trigger, view=MODAL))["view"]
    assert pushed["previous_view_id"] == opened["view"]["id"]
    assert pushed["root_view_id"] == opened["view"]["id"]
    assert fake.current_view("U0AGENT") == pushed

    too_long = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    err = await _slack_error(client.views_open(trigger_id=fake.issue_trigger_id(), view=too_long))
    assert err.response["error"] == "invalid_arguments"
    assert "title" in err.response["response_metadata"]["messages"][0]


async def test_trigger_id_rules() -> None:
    clock = FakeClock()
    async with FakeSlackWebAPI(clock=clock) as fake:
        client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)

        err = await _slack_error(client.views_open(trigger_id="123.456.abc", view=MODAL))
        assert err.response["error"] == "invalid_trigger_id"

        trigger = fake.issue_trigger_id()
        await client.views_open(trigger_id=trigger, view=MODAL)
        err = await _slack_error(client.views_open(trigger_id=trigger, view=MODAL))
        assert err.response["error"] == "trigger_exchanged"

        late = fake.issue_trigger_id()
        clock.now += 3.5
        err = await _slack_error(client.views_open(trigger_id=late, view=MODAL))
        assert err.response["error"] == "expired_trigger_id"
        assert len(fake.views) == 1


async def test_trigger_checks_can_be_disabled() -> None:
    async with FakeSlackWebAPI(check_triggers=False) as fake:
        client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
        await client.views_open(trigger_id="made-up", view=MODAL)
        await client.views_open(trigger_id="made-up", view=MODAL)
        assert len(fake.views) == 2


# ---------------------------------------------------------------------- response_url


async def test_response_url_in_channel_and_ephemeral(fake: FakeSlackWebAPI) -> None:
    url = fake.new_response_url("G0SECRET", "U0AGENT")
    assert url.startswith(fake.base_url + "/response_url/")
    webhook = AsyncWebhookClient(url)

    resp = await webhook.send(text="solo para vos")
    assert (resp.status_code, resp.body) == (200, "ok")
    resp = await webhook.send(text="Factura reenviada", blocks=BLOCKS, response_type="in_channel")
    assert (resp.status_code, resp.body) == (200, "ok")

    [shown] = fake.messages_in("G0SECRET")  # the bot is not a member, Slack shows it anyway
    assert (shown.text, shown.blocks, shown.source) == ("Factura reenviada", BLOCKS, "response_url")
    assert [e.text for e in fake.ephemeral_for("G0SECRET", "U0AGENT")] == ["solo para vos"]
    kinds = [(m.response_type, m.channel_id) for m in fake.response_url_messages]
    assert kinds == [("ephemeral", "G0SECRET"), ("in_channel", "G0SECRET")]

    unknown = await AsyncWebhookClient(fake.base_url + "/response_url/nope").send(text="x")
    assert unknown.status_code == 404


async def test_response_url_replace_original(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="¿Reenviar?")
    url = fake.new_response_url("C0GENERAL", "U0AGENT", message_ts=posted["ts"])
    resp = await AsyncWebhookClient(url).send(text="Reenviada", replace_original=True)
    assert resp.status_code == 200
    [message] = fake.messages_in("C0GENERAL")
    assert (message.ts, message.text, message.edited) == (posted["ts"], "Reenviada", True)


# ---------------------------------------------------------------------- failures / waiting


async def test_failure_injection_times(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    fake.fail("chat.postMessage", "internal_error", times=2)
    for _ in range(2):
        err = await _slack_error(client.chat_postMessage(channel="C0GENERAL", text="x"))
        assert err.response["error"] == "internal_error"
    await client.chat_postMessage(channel="C0GENERAL", text="x")
    assert len(fake.messages_in("C0GENERAL")) == 1

    fake.fail("users.info", "fatal_error", status=500)
    fake.clear_failures()
    assert (await client.users_info(user="U0AGENT"))["ok"]


async def test_ratelimited_is_http_429_and_retried(
    fake: FakeSlackWebAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.fail("chat.postMessage", "ratelimited")
    plain = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
    err = await _slack_error(plain.chat_postMessage(channel="C0GENERAL", text="x"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "1"
    assert err.response["error"] == "ratelimited"

    # slack-sdk sleeps Retry-After + random(); keep the test fast.
    monkeypatch.setattr("slack_sdk.http_retry.builtin_async_handlers.random.random", lambda: 0.0)
    fake.fail("chat.postMessage", "ratelimited", retry_after=0)
    retrying = AsyncWebClient(
        token=TOKEN,
        base_url=fake.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    resp = await retrying.chat_postMessage(channel="C0GENERAL", text="y")
    assert resp["ok"]
    assert len(fake.calls_to("chat.postMessage")) == 3  # 1 plain + 1 limited + 1 retry
    assert [m.text for m in fake.messages_in("C0GENERAL")] == ["y"]


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


async def test_latency(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    fake.set_latency("auth.test", 0.2)
    started = time.monotonic()
    await client.auth_test()
    assert time.monotonic() - started >= 0.2
    fake.set_latency("auth.test", 0)


async def test_get_permalink(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0GENERAL", text="hola")
    ts = str(posted["ts"])

    resp = await client.chat_getPermalink(channel="C0GENERAL", message_ts=ts)

    assert resp["channel"] == "C0GENERAL"
    assert resp["permalink"] == f"https://acme.slack.com/archives/C0GENERAL/p{ts.replace('.', '')}"
    assert "." not in resp["permalink"].rsplit("/", 1)[-1]
    err = await _slack_error(client.chat_getPermalink(channel="C0GENERAL", message_ts="1.000001"))
    assert err.response["error"] == "message_not_found"
    err = await _slack_error(client.chat_getPermalink(channel="C0NOPE", message_ts=ts))
    assert err.response["error"] == "channel_not_found"
