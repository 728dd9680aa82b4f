"""response_url: in-channel and ephemeral messages, replace_original."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from devkit.localslack import FakeSlackWebAPI
from tests.devkit.localslack.conftest import BLOCKS


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
