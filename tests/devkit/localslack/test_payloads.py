"""SlackPayloads and the state.values / actions helpers: Slack's payload shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from devkit.localslack import (
    FakeSlackWebAPI,
    button_action,
    checkboxes_value,
    email_value,
    plain_text_value,
    radio_action,
    radio_value,
    static_select_action,
    static_select_value,
)
from devkit.localslack.payloads import SlackPayloads

MODAL = {
    "type": "modal",
    "callback_id": "reenviar",
    "title": {"type": "plain_text", "text": "Reenviar factura"},
    "blocks": [],
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackWebAPI]:
    async with FakeSlackWebAPI() as api:
        api.add_user("U0AGENT", "agente")
        api.add_channel("C0GENERAL", "general")
        api.add_channel("D0AGENT", "agente")
        yield api


def test_state_value_shapes() -> None:
    assert plain_text_value("x") == {"type": "plain_text_input", "value": "x"}
    assert plain_text_value("") == {"type": "plain_text_input", "value": None}
    assert email_value("a@b.com") == {"type": "email_text_input", "value": "a@b.com"}
    option = {"text": {"type": "plain_text", "text": "Lummy", "emoji": True}, "value": "lummy"}
    assert static_select_value("lummy", "Lummy") == {
        "type": "static_select",
        "selected_option": option,
    }
    assert static_select_value(None) == {"type": "static_select", "selected_option": None}
    assert radio_value("lummy", "Lummy") == {"type": "radio_buttons", "selected_option": option}
    assert checkboxes_value([("lummy", "Lummy")]) == {
        "type": "checkboxes",
        "selected_options": [option],
    }


def test_action_shapes() -> None:
    option = {"text": {"type": "plain_text", "text": "Lummy", "emoji": True}, "value": "lummy"}
    assert button_action("retry", "42", block_id="retry", text="Reintentar") == {
        "type": "button",
        "action_id": "retry",
        "block_id": "retry",
        "text": {"type": "plain_text", "text": "Reintentar", "emoji": True},
        "value": "42",
    }
    assert "value" not in button_action("retry")
    assert radio_action("provider", "lummy", "Lummy", block_id="provider") == {
        "type": "radio_buttons",
        "action_id": "provider",
        "block_id": "provider",
        "selected_option": option,
    }
    assert static_select_action("p", "lummy", "Lummy", block_id="b")["selected_option"] == option


async def test_slash_command_fields_name_the_channel_as_slack_does(
    fake: FakeSlackWebAPI,
) -> None:
    payloads = SlackPayloads(fake, verification_token="vt")
    fields = payloads.slash_command_fields(
        "/reenviar", "ayuda", user_id="U0AGENT", channel_id="D0AGENT"
    )
    assert (fields["channel_name"], fields["user_name"], fields["token"]) == (
        "directmessage",
        "agente",
        "vt",
    )
    unknown = payloads.slash_command_fields(user_id="U0GHOST", channel_id="G0PRIVATE")
    assert (unknown["channel_name"], unknown["user_name"]) == ("privategroup", "u0ghost")
    assert fields["trigger_id"] in fake.triggers


async def test_view_closed_payload(fake: FakeSlackWebAPI) -> None:
    view = {**MODAL, "id": "V0TEST"}
    payload = SlackPayloads(fake).view_closed_payload(user_id="U0AGENT", view=view)
    assert payload["type"] == "view_closed"
    assert payload["is_cleared"] is False
    assert payload["view"] == view
    assert payload["view"] is not view  # a copy: the workspace's view is not shared
    with pytest.raises(KeyError, match="no open view 'V0NOPE'"):
        SlackPayloads(fake).view_closed_payload(user_id="U0AGENT", view="V0NOPE")


async def test_message_action_payload(fake: FakeSlackWebAPI) -> None:
    message = fake.post_as("C0GENERAL", "FACTURA B 0002-00000006", user="U0AGENT")

    payload = SlackPayloads(fake).message_action_payload(
        user_id="U0AGENT",
        channel_id="C0GENERAL",
        message=message.as_slack(),
        callback_id="reenviar_factura",
    )

    assert payload["type"] == "message_action"
    assert payload["callback_id"] == "reenviar_factura"
    assert payload["message_ts"] == message.ts
    assert payload["message"] == message.as_slack()
    assert payload["channel"] == {"id": "C0GENERAL", "name": "general"}
    assert payload["user"]["id"] == "U0AGENT"
    assert payload["trigger_id"] in fake.triggers
    (issued,) = fake.response_urls.values()
    assert payload["response_url"].endswith(issued.token)
    assert (issued.channel_id, issued.user_id) == ("C0GENERAL", "U0AGENT")
