"""The fake Web API as slack-sdk's real AsyncWebClient sees it, over loopback HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from devkit.localslack import FakeSlackWebAPI

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


async def slack_error(coro: Any) -> SlackApiError:
    """The SlackApiError ``coro`` raises (fails the test if it raises none)."""
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value


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
