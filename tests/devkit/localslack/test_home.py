"""The App Home tab: views.publish through slack-sdk's AsyncWebClient, and app_home_opened."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from devkit.localslack import FakeSlackWebAPI
from tests.devkit.localslack.conftest import BLOCKS, slack_error

HOME: dict[str, Any] = {"type": "home", "blocks": BLOCKS}


async def test_publish_replaces_a_members_home_tab(
    fake: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    first = await client.views_publish(user_id="U0AGENT", view=HOME)
    view = first["view"]
    assert view["type"] == "home"
    assert view["blocks"] == BLOCKS
    assert fake.home_views["U0AGENT"] == view

    changed = {"type": "home", "blocks": [{"type": "divider"}]}
    second = await client.views_publish(user_id="U0AGENT", view=changed, hash=view["hash"])
    assert second["view"]["id"] == view["id"]  # one Home tab per member, replaced
    assert second["view"]["hash"] != view["hash"]
    assert fake.home_views["U0AGENT"]["blocks"] == [{"type": "divider"}]

    stale = await slack_error(client.views_publish(user_id="U0AGENT", view=HOME, hash=view["hash"]))
    assert stale.response["error"] == "hash_conflict"


async def test_publish_refuses_what_slack_refuses(
    fake: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    nobody = await slack_error(client.views_publish(user_id="U0NOBODY", view=HOME))
    assert nobody.response["error"] == "user_not_found"
    modal = await slack_error(
        client.views_publish(user_id="U0AGENT", view={**HOME, "type": "modal"})
    )
    assert modal.response["error"] == "invalid_arguments"
    assert "must be 'home'" in modal.response["response_metadata"]["messages"][0]
    too_many = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    refused = await slack_error(client.views_publish(user_id="U0AGENT", view=too_many))
    assert refused.response["error"] == "invalid_arguments"
    assert fake.home_views == {}


async def test_app_home_opened_carries_the_tab_shown(
    fake: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    first = fake.app_home_opened("U0AGENT")
    assert first["type"] == "app_home_opened"
    assert (first["user"], first["tab"]) == ("U0AGENT", "home")
    assert first["channel"] == fake.dm_channel_id("U0AGENT")
    assert "view" not in first  # nothing published yet

    published = await client.views_publish(user_id="U0AGENT", view=HOME)
    assert fake.app_home_opened("U0AGENT")["view"] == published["view"]
    assert "view" not in fake.app_home_opened("U0AGENT", tab="messages")
