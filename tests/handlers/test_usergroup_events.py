"""Revoking access through a user group takes seconds, not the cache's lifetime.

With ``ALLOWED_USERGROUP_IDS``, membership is cached. Slack tells the app when a
group changes (``subteam_members_changed``, ``subteam_updated``, Events API over
HTTP or Socket Mode): the cached membership is dropped at once. A modal submit and
a Reintentar click re-check membership fresh (at most a few seconds old, whatever
the cache); only the command itself uses the cache, whose default is 60 s.
Everything goes through signed HTTP (or Socket Mode envelopes) to the running bot.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bot.ui import strings
from bot.ui.outcome import RETRY_ACTION
from devkit.emulators.common import Fault, FaultKind
from devkit.localslack.events import change_usergroup, subteam_updated, url_verification
from devkit.localslack.webapi import Message
from tests.conftest import AGENT, OTHER_AGENT, SEED_LUMMY_ID, Bot
from tests.e2e import Clock, ack_text, lummy_values, retry_buttons, submit

GROUP = "S0SUPPORT"
#: The issue's target: refused within 5 s of Slack's event.
EVENT_TARGET_SECONDS = 5.0
#: What Slack gets back when a submit is refused: the error under the provider field.
REFUSED_AT_SUBMIT = {"response_action": "errors", "errors": {"provider": strings.REFUSED_USER}}
#: Past the refresh floor, so a submit's fresh check cannot reuse the last lookup.
PAST_REFRESH_FLOOR = 3.5


async def _group_bot(start_bot: Callable[..., Any]) -> tuple[Bot, Clock]:
    """A bot that allows GROUP (AGENT and OTHER_AGENT), with a movable clock for its cache."""
    bot: Bot = await start_bot(allowed_usergroup_ids=[GROUP])
    bot.slack.add_usergroup(GROUP, [AGENT, OTHER_AGENT])
    clock = Clock()
    bot.services.usergroups._clock = clock
    return bot, clock


def _refused(response: Any) -> bool:
    return ack_text(response) == strings.REFUSED_PREFIX + strings.REFUSED_USER


async def test_url_verification_echoes_the_challenge(bot: Bot) -> None:
    response = await bot.sender.post_json(url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY"))
    assert response.status == 200
    assert response.json == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY"}


async def test_removed_member_is_refused_right_after_slacks_event(
    start_bot: Callable[..., Any],
) -> None:
    bot, _ = await _group_bot(start_bot)
    view = await bot.open_modal(SEED_LUMMY_ID, user=OTHER_AGENT, empty_ack=True)  # cached
    lookups = len(bot.slack.calls_to("usergroups.users.list"))

    removed_at = time.monotonic()
    delivered = await bot.sender.event(change_usergroup(bot.slack, GROUP, [AGENT]))
    assert delivered.status == 200, delivered.body
    assert delivered.elapsed_seconds < 1

    refused = await bot.command(user=OTHER_AGENT)
    refused_after = time.monotonic() - removed_at
    assert _refused(refused), refused.body
    assert refused_after < EVENT_TARGET_SECONDS
    assert len(bot.slack.calls_to("usergroups.users.list")) == lookups + 1  # the cache was dropped

    # The modal opened before the removal cannot be submitted either.
    response = await submit(bot, view, lummy_values(), user=OTHER_AGENT)
    assert response.json == {
        "response_action": "errors",
        "errors": {"provider": strings.REFUSED_USER},
    }
    assert bot.lummy.sends == []
    # Who is still a member still gets in.
    await bot.open_modal(user=AGENT, empty_ack=True)


async def test_subteam_updated_drops_the_cached_membership(start_bot: Callable[..., Any]) -> None:
    bot, _ = await _group_bot(start_bot)
    await bot.open_modal(user=OTHER_AGENT, empty_ack=True)
    bot.slack.add_usergroup(GROUP, [AGENT])

    delivered = await bot.sender.event(subteam_updated(bot.slack, GROUP))
    assert delivered.status == 200, delivered.body

    assert _refused(await bot.command(user=OTHER_AGENT))


async def test_an_event_about_another_group_keeps_the_cache(start_bot: Callable[..., Any]) -> None:
    bot, _ = await _group_bot(start_bot)
    await bot.open_modal(user=OTHER_AGENT, empty_ack=True)
    lookups = len(bot.slack.calls_to("usergroups.users.list"))
    bot.slack.add_usergroup("S0OTHER", [])

    await bot.sender.event(change_usergroup(bot.slack, "S0OTHER", [OTHER_AGENT]))

    await bot.open_modal(user=OTHER_AGENT, empty_ack=True)
    assert len(bot.slack.calls_to("usergroups.users.list")) == lookups


async def test_submit_rechecks_membership_fresh_even_without_the_event(
    start_bot: Callable[..., Any],
) -> None:
    bot, clock = await _group_bot(start_bot)
    view = await bot.open_modal(SEED_LUMMY_ID, user=OTHER_AGENT, empty_ack=True)
    bot.slack.add_usergroup(GROUP, [AGENT])  # removed; the event never arrives
    clock.offset += PAST_REFRESH_FLOOR

    response = await submit(bot, view, lummy_values(), user=OTHER_AGENT)

    assert response.json == {
        "response_action": "errors",
        "errors": {"provider": strings.REFUSED_USER},
    }
    assert bot.lummy.sends == []


async def test_reintentar_rechecks_membership_fresh(start_bot: Callable[..., Any]) -> None:
    bot, clock = await _group_bot(start_bot)
    bot.lummy.inject(Fault(FaultKind.SERVER_ERROR))
    view = await bot.open_modal(SEED_LUMMY_ID, user=OTHER_AGENT, empty_ack=True)
    assert (await submit(bot, view, lummy_values(), user=OTHER_AGENT)).body == ""
    (outcome,) = await bot.wait_for_outcome()
    (button,) = retry_buttons(outcome)
    bot.lummy.clear_faults()

    bot.slack.add_usergroup(GROUP, [AGENT])  # removed; no event
    clock.offset += PAST_REFRESH_FLOOR
    await _press(bot, outcome, button["value"], user=OTHER_AGENT)

    await bot.slack.wait_until(
        lambda: any(strings.REFUSED_USER in m.text for m in bot.slack.response_url_messages),
        timeout=5,
        description="the refusal, only to the clicker",
    )
    assert bot.lummy.sends == []


async def test_the_command_uses_a_60_second_cache_by_default(
    start_bot: Callable[..., Any],
) -> None:
    bot, clock = await _group_bot(start_bot)
    await bot.open_modal(user=OTHER_AGENT, empty_ack=True)
    bot.slack.add_usergroup(GROUP, [AGENT])  # removed; no event

    clock.offset += 30
    await bot.open_modal(user=OTHER_AGENT, empty_ack=True)  # still cached: the command is fast
    clock.offset += 31
    assert _refused(await bot.command(user=OTHER_AGENT))


async def _press(bot: Bot, message: Message, value: str, *, user: str) -> None:
    response = await bot.sender.block_actions(
        user_id=user,
        actions=[{"type": "button", "action_id": RETRY_ACTION, "value": value}],
        channel_id=message.channel,
        message=message.as_slack(),
    )
    assert response.status == 200, response.body
