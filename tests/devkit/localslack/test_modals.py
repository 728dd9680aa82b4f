"""views.open, views.push and views.update, with Slack's trigger id and hash rules."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from devkit.localslack import FakeSlackWebAPI
from tests.devkit.localslack.conftest import MODAL, TOKEN, FakeClock, slack_error


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

    stale = await slack_error(
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    )
    assert stale.response["error"] == "hash_conflict"
    missing = await slack_error(client.views_update(view_id="V0NOPE", view=MODAL))
    assert missing.response["error"] == "not_found"


async def test_views_push_and_invalid_view(fake: FakeSlackWebAPI, client: AsyncWebClient) -> None:
    opened = await client.views_open(trigger_id=fake.issue_trigger_id("U0AGENT"), view=MODAL)
    trigger = fake.issue_trigger_id("U0AGENT", view_id=opened["view"]["id"])
    pushed = (await client.views_push(trigger_id=trigger, view=MODAL))["view"]
    assert pushed["previous_view_id"] == opened["view"]["id"]
    assert pushed["root_view_id"] == opened["view"]["id"]
    assert fake.current_view("U0AGENT") == pushed

    too_long = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    err = await slack_error(client.views_open(trigger_id=fake.issue_trigger_id(), view=too_long))
    assert err.response["error"] == "invalid_arguments"
    assert "title" in err.response["response_metadata"]["messages"][0]


async def test_trigger_id_rules() -> None:
    clock = FakeClock()
    async with FakeSlackWebAPI(clock=clock) as fake:
        client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)

        err = await slack_error(client.views_open(trigger_id="123.456.abc", view=MODAL))
        assert err.response["error"] == "invalid_trigger_id"

        trigger = fake.issue_trigger_id()
        await client.views_open(trigger_id=trigger, view=MODAL)
        err = await slack_error(client.views_open(trigger_id=trigger, view=MODAL))
        assert err.response["error"] == "trigger_exchanged"

        late = fake.issue_trigger_id()
        clock.now += 3.5
        err = await slack_error(client.views_open(trigger_id=late, view=MODAL))
        assert err.response["error"] == "expired_trigger_id"
        assert len(fake.views) == 1


async def test_trigger_checks_can_be_disabled() -> None:
    async with FakeSlackWebAPI(check_triggers=False) as fake:
        client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
        await client.views_open(trigger_id="made-up", view=MODAL)
        await client.views_open(trigger_id="made-up", view=MODAL)
        assert len(fake.views) == 2
