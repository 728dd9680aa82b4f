"""Delivery fallbacks: the outcome always reaches someone, whatever Slack refuses.

End to end through a modal submit (the production bot, the fake Slack, the
emulators), plus a few direct `Delivery` tests with slack-sdk's real
AsyncWebClient pointed at the fake. No mocks.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from structlog.testing import capture_logs

from bot.slack.client import slack_client
from bot.slack.delivery import ChannelMessageRef, Delivery, Destination, ResponseUrlRef
from bot.ui.blocks import SlackMessage
from bot.ui.resend_modal import ModalContext
from devkit.localslack import FakeSlackWebAPI
from tests.conftest import AGENT, BOT_TOKEN, CHANNEL, Bot
from tests.e2e import blocks_text, lummy_values, resends

HOURGLASS = ":hourglass_flowing_sand:"


def is_success_text(text: str) -> bool:
    return text.startswith("Se reenvió") and "cliente@empresa.com" in text


async def submit_lummy(
    bot: Bot, *, channel: str = CHANNEL, metadata: ModalContext | None = None
) -> None:
    """Type /reenviar in ``channel``, submit the Lummy modal, wait until the re-send ends."""
    view = await bot.open_modal(channel=channel)
    if metadata is not None:
        view = {**view, "private_metadata": metadata.to_metadata()}
    response = await bot.sender.view_submission(user_id=AGENT, view=view, values=lummy_values())
    assert response.status == 200, response.body
    await bot.slack.wait_until(lambda: len(resends(bot.lummy)) >= 1, timeout=3)
    assert await bot.services.inflight.drain(3), "re-send still running"


# --- end to end -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("channel_kwargs", "slack_error"),
    [
        pytest.param({"bot_is_member": False}, "not_in_channel", id="not-a-member"),
        pytest.param(
            {"bot_is_member": False, "is_private": True}, "channel_not_found", id="private"
        ),
        pytest.param({"is_archived": True}, "is_archived", id="archived"),
    ],
)
async def test_channel_refused_goes_through_the_commands_response_url_in_channel(
    bot: Bot, channel_kwargs: dict[str, Any], slack_error: str
) -> None:
    bot.slack.add_channel("G0ELSEWHERE", "otro", **channel_kwargs)
    with capture_logs() as logs:
        await submit_lummy(bot, channel="G0ELSEWHERE")

    failures = [e for e in logs if e["event"] == "slack_channel_post_failed"]
    assert failures
    assert {e["error"] for e in failures} == {slack_error}
    assert all(e["log_level"] == "info" for e in failures), "an expected refusal, not a warning"

    progress, outcome = bot.slack.response_url_messages
    assert progress.channel_id == outcome.channel_id == "G0ELSEWHERE"
    assert progress.response_type == outcome.response_type == "in_channel"
    assert HOURGLASS in blocks_text(progress.blocks)
    assert not progress.replace_original
    assert outcome.replace_original, "the outcome replaces the progress message"
    assert is_success_text(outcome.text)
    # Visible in the channel, and nothing went to a DM.
    assert any(is_success_text(m.text) for m in bot.slack.messages_in("G0ELSEWHERE"))
    assert bot.slack.dm_channel_id(AGENT) is None
    assert len(bot.lummy.sends) == 1


async def test_response_url_also_failing_falls_back_to_a_dm_with_a_notice(bot: Bot) -> None:
    bot.slack.add_channel("G0PRIVATE", "privado", bot_is_member=False, is_private=True)
    dead_url = f"{bot.slack.base_url}/response_url/no-such-token"
    await submit_lummy(
        bot,
        channel="G0PRIVATE",
        metadata=ModalContext(channel_id="G0PRIVATE", response_url=dead_url, user_id=AGENT),
    )

    dm = bot.slack.dm_channel_id(AGENT)
    assert dm is not None, "the agent got no DM"
    (message,) = bot.slack.messages_in(dm)
    assert is_success_text(message.text)
    text = blocks_text(message.blocks)
    assert "No se pudo publicar en <#G0PRIVATE>" in text, "the DM must say why it is a DM"
    assert HOURGLASS not in text
    assert bot.slack.messages_in("G0PRIVATE") == []
    assert bot.slack.response_url_messages == []


async def test_without_any_response_url_the_dm_is_used(bot: Bot) -> None:
    bot.slack.add_channel("C0NOTJOINED", "ajeno", bot_is_member=False)
    await submit_lummy(
        bot, channel="C0NOTJOINED", metadata=ModalContext(channel_id="C0NOTJOINED", user_id=AGENT)
    )
    dm = bot.slack.dm_channel_id(AGENT)
    assert dm is not None
    (message,) = bot.slack.messages_in(dm)
    assert is_success_text(message.text)
    assert "<#C0NOTJOINED>" in blocks_text(message.blocks)


async def test_slack_ratelimit_on_post_is_retried_and_lands_in_the_channel(bot: Bot) -> None:
    bot.slack.fail("chat.postMessage", "ratelimited", times=1, retry_after=1)
    started = time.monotonic()
    await submit_lummy(bot)
    (outcome,) = await bot.wait_for_outcome(timeout=5)
    elapsed = time.monotonic() - started

    assert is_success_text(outcome.text)
    assert outcome.source == "api"
    assert len(bot.slack.calls_to("chat.postMessage")) == 2, "one 429, then the retry"
    assert bot.slack.response_url_messages == [], "a 429 is not a reason to fall back"
    assert bot.slack.dm_channel_id(AGENT) is None
    assert 0.9 <= elapsed < 3.5


async def test_chat_update_failing_posts_the_outcome_anew(bot: Bot) -> None:
    bot.slack.fail("chat.update", "message_not_found", times=1)
    await submit_lummy(bot)

    assert len(bot.slack.calls_to("chat.update")) == 1
    outcomes = [m for m in bot.slack.messages_in(CHANNEL) if is_success_text(m.text)]
    assert len(outcomes) == 1, "the outcome was lost"
    assert bot.slack.dm_channel_id(AGENT) is None


def is_outcome(text: str) -> bool:
    return is_success_text(text)


async def outcome_seen_within(bot: Bot, seconds: float) -> float:
    """Seconds from now until the agent can read the outcome anywhere (channel,
    response_url or DM), failing past ``seconds``."""
    started = time.monotonic()

    def shown() -> bool:
        in_channel = any(is_outcome(m.text) for m in bot.slack.messages_in(CHANNEL))
        by_url = any(is_outcome(m.text) for m in bot.slack.response_url_messages)
        return in_channel or by_url

    await bot.slack.wait_until(shown, timeout=seconds, description="the outcome, anywhere")
    return time.monotonic() - started


async def test_a_hung_chat_update_does_not_hold_the_outcome_back(bot: Bot) -> None:
    bot.slack.set_latency("chat.update", 30)
    view = await bot.open_modal()
    started = time.monotonic()
    response = await bot.sender.view_submission(user_id=AGENT, view=view, values=lummy_values())
    assert response.status == 200
    await outcome_seen_within(bot, 10)
    assert time.monotonic() - started < 10
    bot.slack.set_latency("chat.update", 0)


async def test_slack_throttling_both_post_and_update_for_long_falls_back_in_time(
    bot: Bot,
) -> None:
    view = await bot.open_modal()
    for method in ("chat.postMessage", "chat.update"):
        bot.slack.fail(method, "ratelimited", times=6, retry_after=10)
    started = time.monotonic()
    response = await bot.sender.view_submission(user_id=AGENT, view=view, values=lummy_values())
    assert response.status == 200
    await outcome_seen_within(bot, 10)
    assert time.monotonic() - started < 10


# --- Delivery, directly -----------------------------------------------------------


@pytest.fixture
def client(fake_slack: FakeSlackWebAPI) -> AsyncWebClient:
    """The production Web API client (retry handlers included), pointed at the fake."""
    return slack_client(BOT_TOKEN, fake_slack.api_url)


MESSAGE = SlackMessage(
    text="Hola", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Hola"}}]
)
OTHER = SlackMessage(
    text="Chau", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Chau"}}]
)


async def test_post_and_replace_in_a_channel(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    delivery = Delivery(client)
    destination = Destination(user_id=AGENT, channel_id=CHANNEL)
    ref = await delivery.post(destination, MESSAGE)
    assert isinstance(ref, ChannelMessageRef)
    assert ref.channel_id == CHANNEL

    assert await delivery.replace(ref, destination, OTHER) == ref
    (message,) = fake_slack.messages_in(CHANNEL)
    assert (message.ts, message.text, message.edited) == (ref.ts, "Chau", True)


async def test_replace_of_a_vanished_message_posts_anew_in_the_channel(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    delivery = Delivery(client)
    destination = Destination(user_id=AGENT, channel_id=CHANNEL)
    gone = ChannelMessageRef(channel_id=CHANNEL, ts="1600000000.000001")
    ref = await delivery.replace(gone, destination, OTHER)
    assert isinstance(ref, ChannelMessageRef)
    assert ref.ts != gone.ts
    assert [m.text for m in fake_slack.messages_in(CHANNEL)] == ["Chau"]


async def test_replace_with_no_earlier_message_posts(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    ref = await Delivery(client).replace(
        None, Destination(user_id=AGENT, channel_id=CHANNEL), OTHER
    )
    assert isinstance(ref, ChannelMessageRef)
    assert [m.text for m in fake_slack.messages_in(CHANNEL)] == ["Chau"]


async def test_any_other_channel_refusal_also_falls_back_to_the_response_url(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    url = fake_slack.new_response_url(CHANNEL, AGENT)
    destination = Destination(user_id=AGENT, channel_id=CHANNEL, response_url=url)
    fake_slack.fail("chat.postMessage", "internal_error", status=200)
    with capture_logs() as logs:
        ref = await Delivery(client).post(destination, MESSAGE)
    assert ref == ResponseUrlRef(response_url=url)
    (sent,) = fake_slack.response_url_messages
    assert (sent.response_type, sent.text) == ("in_channel", "Hola")
    assert any(
        e["event"] == "slack_channel_post_failed" and e["log_level"] == "warning" for e in logs
    )


async def test_replace_through_a_response_url_replaces_the_original(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    url = fake_slack.new_response_url(CHANNEL, AGENT)
    ref = ResponseUrlRef(response_url=url)
    destination = Destination(user_id=AGENT, channel_id=CHANNEL, response_url=url)
    assert await Delivery(client).replace(ref, destination, OTHER) == ref
    (sent,) = fake_slack.response_url_messages
    assert sent.replace_original
    assert sent.response_type == "in_channel"


async def test_a_thread_gets_the_post_and_a_vanished_replys_outcome(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    parent = fake_slack.post_as(CHANNEL, "No me llegó la factura", user=AGENT)
    delivery = Delivery(client)
    destination = Destination(user_id=AGENT, channel_id=CHANNEL, thread_ts=parent.ts)
    ref = await delivery.post(destination, MESSAGE)
    assert isinstance(ref, ChannelMessageRef)
    gone = ChannelMessageRef(channel_id=CHANNEL, ts="1600000000.000001")
    await delivery.replace(gone, destination, OTHER)  # posted anew: in the thread too

    replies = fake_slack.replies_to(CHANNEL, parent.ts)
    assert [(m.text, m.thread_ts) for m in replies] == [("Hola", parent.ts), ("Chau", parent.ts)]
    assert fake_slack.calls_to("chat.postMessage")[0].params["thread_ts"] == parent.ts


async def test_a_destination_that_is_only_the_agent_gets_a_plain_dm(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    """The App Home and a workflow step without a channel: the DM is no fallback."""
    ref = await Delivery(client).post(Destination(user_id=AGENT), MESSAGE)

    assert isinstance(ref, ChannelMessageRef)
    assert not ref.via_dm  # replacing it adds no notice either
    (message,) = fake_slack.messages_in(ref.channel_id)
    assert message.blocks == MESSAGE.blocks
    assert ref.channel_id == fake_slack.dm_channel_id(AGENT)


async def test_dm_fallback_keeps_its_notice_when_the_outcome_replaces_the_progress(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    fake_slack.add_channel("C0NOTJOINED", "ajeno", bot_is_member=False)
    delivery = Delivery(client)
    destination = Destination(user_id=AGENT, channel_id="C0NOTJOINED")
    ref = await delivery.post(destination, MESSAGE)
    dm = fake_slack.dm_channel_id(AGENT)
    assert isinstance(ref, ChannelMessageRef)
    assert ref.channel_id == dm

    await delivery.replace(ref, destination, OTHER)
    (message,) = fake_slack.messages_in(dm)
    assert message.text == "Chau"
    assert "<#C0NOTJOINED>" in blocks_text(message.blocks), "the DM notice was dropped"


async def test_dm_message_vanished_posts_a_new_dm_with_a_single_notice(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    fake_slack.add_channel("C0NOTJOINED", "ajeno", bot_is_member=False)
    delivery = Delivery(client)
    destination = Destination(user_id=AGENT, channel_id="C0NOTJOINED")
    ref = await delivery.post(destination, MESSAGE)
    fake_slack.fail("chat.update", "message_not_found")

    new_ref = await delivery.replace(ref, destination, OTHER)
    dm = fake_slack.dm_channel_id(AGENT)
    assert isinstance(new_ref, ChannelMessageRef)
    assert new_ref.channel_id == dm
    latest = fake_slack.messages_in(dm)[-1]
    assert latest.text == "Chau"
    assert blocks_text(latest.blocks).count("<#C0NOTJOINED>") == 1


async def test_every_route_failing_returns_none_and_logs_the_loss(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient
) -> None:
    destination = Destination(
        user_id="U0NOBODY",
        channel_id="C0MISSING",
        response_url=f"{fake_slack.base_url}/response_url/nope",
    )
    with capture_logs() as logs:
        assert await Delivery(client).post(destination, MESSAGE) is None
    lost = [e for e in logs if e["event"] == "slack_delivery_lost"]
    assert len(lost) == 1
    assert lost[0]["user"] == "U0NOBODY"
    assert lost[0]["log_level"] == "error"


async def test_unreachable_response_url_is_a_failed_route_not_a_crash(
    fake_slack: FakeSlackWebAPI, client: AsyncWebClient, unused_tcp_port: int
) -> None:
    fake_slack.add_channel("C0NOTJOINED", "ajeno", bot_is_member=False)
    destination = Destination(
        user_id=AGENT,
        channel_id="C0NOTJOINED",
        response_url=f"http://127.0.0.1:{unused_tcp_port}/response_url/x",
    )
    ref = await Delivery(client, webhook_timeout=1).post(destination, MESSAGE)
    assert isinstance(ref, ChannelMessageRef)
    assert ref.channel_id == fake_slack.dm_channel_id(AGENT)
