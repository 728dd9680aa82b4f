"""SlackEventSender: requests as Slack sends them, checked with slack-sdk's verifier."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from devkit.localslack import (
    FakeSlackWebAPI,
    SlackEventSender,
    button_action,
    plain_text_value,
    sign,
    static_select_action,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TOKEN = "xoxb-test"
MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "reenviar",
    "private_metadata": '{"channel_id": "C0GENERAL"}',
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


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    valid: bool


@dataclass
class Receiver:
    """A tiny app that only verifies Slack signatures."""

    verifier: SignatureVerifier
    requests: list[Received] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        valid = self.verifier.is_valid_request(body, dict(request.headers))
        self.requests.append(Received(body, dict(request.headers), valid))
        if not valid:
            return web.Response(status=401, text="invalid signature")
        return web.json_response({"received": True})

    def form(self, index: int = -1) -> dict[str, str]:
        parsed = parse_qs(self.requests[index].body.decode(), keep_blank_values=True)
        return {key: values[0] for key, values in parsed.items()}

    def payload(self, index: int = -1) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.form(index)["payload"])
        return result


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/slack/events"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackWebAPI]:
    async with FakeSlackWebAPI(bot_token=TOKEN) as api:
        api.add_user("U0AGENT", "agente", real_name="Ana Agente")
        api.add_channel("C0GENERAL", "general")
        yield api


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    rec = Receiver(SignatureVerifier(SECRET))
    app = web.Application()
    app.router.add_post("/slack/events", rec.handle)
    runner, url = await _serve(app)
    yield rec, url
    await runner.cleanup()


@pytest.fixture
async def sender(
    fake: FakeSlackWebAPI, receiver: tuple[Receiver, str]
) -> AsyncIterator[SlackEventSender]:
    async with SlackEventSender(receiver[1], SECRET, fake) as snd:
        yield snd


# ---------------------------------------------------------------------- signing


def test_signature_matches_slack_sdk() -> None:
    body = b"token=x&text=FACTURA+B+0002-00000006"
    expected = SignatureVerifier(SECRET).generate_signature(timestamp="1700000000", body=body)
    assert sign(SECRET, 1700000000, body) == expected
    assert sign(SECRET, "1700000000", body.decode()) == expected


async def test_signed_headers_verify(sender: SlackEventSender) -> None:
    body = b"payload=%7B%7D"
    headers = sender.signed_headers(body)
    assert abs(int(headers["X-Slack-Request-Timestamp"]) - time.time()) < 5
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("other-secret").is_valid_request(body, headers)


async def test_tampered_and_stale_requests_are_rejected(
    sender: SlackEventSender, receiver: tuple[Receiver, str]
) -> None:
    rec, _ = receiver
    body = b"command=%2Freenviar&text=ayuda"
    ok = await sender.post_raw(body)
    assert ok.status == 200

    tampered = await sender.post_raw(body + b"x", headers=sender.signed_headers(body))
    stale = await sender.post_raw(
        body, headers=sender.signed_headers(body, timestamp=int(time.time()) - 600)
    )
    forged = await sender.post_raw(
        body,
        headers={"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=0"},
    )
    unsigned = await sender.post_raw(body, headers={})
    assert [r.status for r in (tampered, stale, forged, unsigned)] == [401] * 4
    assert [r.valid for r in rec.requests] == [True, False, False, False, False]


# ---------------------------------------------------------------------- payloads


async def test_slash_command_fields(
    fake: FakeSlackWebAPI, sender: SlackEventSender, receiver: tuple[Receiver, str]
) -> None:
    rec, _ = receiver
    resp = await sender.slash_command(
        text="FACTURA B 0002-00000006", user_id="U0AGENT", channel_id="C0GENERAL"
    )
    assert resp.status == 200
    assert resp.json == {"received": True}
    assert resp.elapsed_seconds < 3
    assert rec.requests[0].valid
    assert rec.requests[0].headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = rec.form()
    assert set(form) == {
        "token",
        "team_id",
        "team_domain",
        "channel_id",
        "channel_name",
        "user_id",
        "user_name",
        "command",
        "text",
        "api_app_id",
        "is_enterprise_install",
        "response_url",
        "trigger_id",
    }
    assert form["command"] == "/reenviar"
    assert form["text"] == "FACTURA B 0002-00000006"
    assert (form["channel_name"], form["user_name"]) == ("general", "agente")
    assert (form["team_id"], form["team_domain"]) == ("T0001", "acme")
    assert form["trigger_id"] in fake.triggers
    assert form["response_url"].startswith(fake.base_url + "/response_url/")


async def test_block_actions_in_modal_and_in_message(
    fake: FakeSlackWebAPI, sender: SlackEventSender, receiver: tuple[Receiver, str]
) -> None:
    rec, _ = receiver
    opened = (
        await AsyncWebClient(token=TOKEN, base_url=fake.api_url).views_open(
            trigger_id=fake.issue_trigger_id("U0AGENT"), view=MODAL
        )
    )["view"]
    select = static_select_action("provider", "lummy", "Lummy", block_id="provider")
    await sender.block_actions(user_id="U0AGENT", actions=[select], view=opened["id"])
    modal = rec.payload()
    assert modal["type"] == "block_actions"
    assert modal["container"] == {"type": "view", "view_id": opened["id"]}
    assert modal["view"]["hash"] == opened["hash"]
    assert modal["actions"][0]["selected_option"]["value"] == "lummy"
    assert "action_ts" in modal["actions"][0]
    assert modal["trigger_id"] in fake.triggers
    assert (modal["user"]["id"], modal["team"]["id"]) == ("U0AGENT", "T0001")
    assert "response_url" not in modal

    message = {"type": "message", "ts": "1700000000.000100", "text": "¿Reenviar?"}
    await sender.block_actions(
        user_id="U0AGENT",
        actions=[button_action("retry", "42")],
        channel_id="C0GENERAL",
        message=message,
    )
    in_message = rec.payload()
    assert in_message["container"]["type"] == "message"
    assert in_message["container"]["message_ts"] == "1700000000.000100"
    assert in_message["channel"] == {"id": "C0GENERAL", "name": "general"}
    assert in_message["message"] == message
    token = in_message["response_url"].rsplit("/", 1)[1]
    assert fake.response_urls[token].message_ts == "1700000000.000100"
    assert all(r.valid for r in rec.requests)


async def test_view_submission_payload(
    sender: SlackEventSender, receiver: tuple[Receiver, str]
) -> None:
    rec, _ = receiver
    view = {**MODAL, "id": "V0TEST", "hash": "1700000000.abcd"}
    values = {"numero": {"value": plain_text_value("0002-00000006")}}
    resp = await sender.view_submission(user_id="U0AGENT", view=view, values=values)
    assert resp.status == 200
    payload = rec.payload()
    assert payload["type"] == "view_submission"
    assert payload["view"]["id"] == "V0TEST"
    assert payload["view"]["callback_id"] == "reenviar"
    assert payload["view"]["private_metadata"] == MODAL["private_metadata"]
    assert payload["view"]["state"] == {"values": values}
    assert payload["api_app_id"] == "A0REENVIAR"


def test_the_sender_offers_the_value_helpers() -> None:
    assert SlackEventSender.plain_text_value("y") == plain_text_value("y")


# ---------------------------------------------------------------------- with slack-bolt


async def test_roundtrip_through_bolt(fake: FakeSlackWebAPI) -> None:
    app = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token=TOKEN, base_url=fake.api_url))

    @app.command("/reenviar")
    async def open_modal(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.view("reenviar")
    async def submit(ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient) -> None:
        numero = view["state"]["values"]["numero"]["value"]["value"]
        if not numero:
            await ack(response_action="errors", errors={"numero": "Falta el número"})
            return
        await ack()
        await client.chat_postMessage(channel="C0GENERAL", text=f"Reenviando {numero}")

    runner, url = await _serve(app.web_app())
    try:
        async with SlackEventSender(url, SECRET, fake) as sender:
            stale_body = b"command=%2Freenviar&text="
            stale = await sender.post_raw(
                stale_body, headers=sender.signed_headers(stale_body, int(time.time()) - 600)
            )
            assert stale.status == 401

            resp = await sender.slash_command(user_id="U0AGENT", channel_id="C0GENERAL")
            assert resp.status == 200
            assert resp.elapsed_seconds < 3
            await fake.wait_for_call("views.open", timeout=2.0)
            view = fake.current_view("U0AGENT")
            assert view is not None

            empty = {"numero": {"value": plain_text_value(None)}}
            rejected = await sender.view_submission(user_id="U0AGENT", view=view, values=empty)
            assert rejected.json == {
                "response_action": "errors",
                "errors": {"numero": "Falta el número"},
            }
            assert view["id"] in fake.views  # errors keep the modal open

            filled = {"numero": {"value": plain_text_value("0002-00000006")}}
            accepted = await sender.view_submission(user_id="U0AGENT", view=view, values=filled)
            assert accepted.status == 200
            assert view["id"] not in fake.views  # a plain ack closes it
            await fake.wait_for_call("chat.postMessage", timeout=2.0)
            assert fake.messages_in("C0GENERAL")[0].text == "Reenviando 0002-00000006"
    finally:
        await runner.cleanup()
