"""The App Home, end to end: ``app_home_opened`` through signed HTTP, ``views.publish`` back.

The Home lists the agent's own attempts from the history (never anyone else's),
newest first, with each outcome and a link to its message; a button opens the same
modal as ``/reenviar``; a history that cannot answer shows a one-line notice.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.history.failures import StoreUnavailableError
from bot.ui import strings
from bot.ui.home_tab import HOME_OPEN_ACTION
from bot.ui.resend_modal import MODAL_CALLBACK_ID
from devkit.localslack import button_action
from devkit.localslack.events import url_verification
from devkit.localslack.webapi import JsonDict
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT, SEED_LUMMY_ID, Bot, is_progress
from tests.e2e import SEED_VOUCHER, eventually, history_rows, lummy_values, resend, tf_values

OTHER_LUMMY_ID = "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13"


# --- helpers -------------------------------------------------------------------------


async def open_home(bot: Bot, user: str = AGENT) -> JsonDict:
    """Open the Home tab as ``user``; the view the bot published for them."""
    published = len(bot.slack.calls_to("views.publish"))
    response = await bot.sender.event(bot.slack.app_home_opened(user))
    assert response.status == 200, response.body
    assert response.elapsed_seconds < 3
    (*_, call) = await bot.slack.wait_for_call("views.publish", count=published + 1)
    assert call.params["user_id"] == user
    view = bot.slack.home_views[user]
    assert view["type"] == "home"
    return view


def attempt_lines(view: JsonDict) -> list[str]:
    """The Home's attempt lines, in the order shown."""
    return [
        block["text"]["text"]
        for block in view["blocks"]
        if block["type"] == "section" and block["text"]["text"].startswith("• ")
    ]


def has_open_button(view: JsonDict) -> bool:
    return HOME_OPEN_ACTION in json.dumps(view)


async def press_open(bot: Bot, view: JsonDict, user: str = AGENT) -> None:
    """Click "Reenviar una factura" in the Home tab, as Slack sends it."""
    response = await bot.sender.block_actions(
        user_id=user,
        view=view,
        container={"type": "view", "view_id": view["id"]},
        actions=[button_action(HOME_OPEN_ACTION, "open", block_id="home_actions")],
    )
    assert response.status == 200, response.body


# --- what it lists -----------------------------------------------------------------------


async def test_home_lists_exactly_the_callers_attempts_newest_first(bot: Bot) -> None:
    first = await resend(bot, SEED_LUMMY_ID, lummy_values())
    second = await resend(bot, SEED_VOUCHER, tf_values())
    await resend(bot, OTHER_LUMMY_ID, lummy_values(OTHER_LUMMY_ID), user=OTHER_AGENT)
    await eventually(lambda: history_rows(bot), what="the history rows")

    view = await open_home(bot)

    lines = attempt_lines(view)
    assert len(lines) == 2, lines
    newest, oldest = lines
    assert "Factura B 0002-00000006" in newest
    assert "TusFacturas" in newest
    assert "Factura A-1234 (550e8400) · Empresa Demo S.A. de C.V." in oldest
    assert "Lummy" in oldest
    for line, message in ((newest, second), (oldest, first)):
        assert strings.OUTCOME_LABELS["success"] in line
        # A link to the outcome message in the channel.
        assert f"p{message.ts.replace('.', '')}|{strings.SEE_MESSAGE}>" in line
    assert "cliente@empresa.com" in oldest
    # Another agent's attempt never appears.
    assert "Factura A-877 (3f2b8c1e)" not in json.dumps(view, ensure_ascii=False)
    assert has_open_button(view)
    assert strings.HOME_RECENT.format(count=2) in json.dumps(view, ensure_ascii=False)

    # Beto's Home has only Beto's attempt.
    other = await open_home(bot, OTHER_AGENT)
    (line,) = attempt_lines(other)
    assert "Factura A-877 (3f2b8c1e)" in line


async def test_home_shows_failures_and_refusals_with_their_outcome(start_bot: Any) -> None:
    bot: Bot = await start_bot(allowed_channel_ids=[CHANNEL])
    unknown = "00000000-0000-4000-8000-000000000000"
    await resend(bot, unknown, lummy_values(unknown))  # Lummy: not found
    refused = await bot.command(SEED_LUMMY_ID, channel="C0ELSEWHERE")
    assert strings.REFUSED_CHANNEL in refused.body

    async def two_rows() -> bool:
        return len(await history_rows(bot)) >= 2

    await eventually(two_rows, what="the failure and the refusal in the history")
    view = await open_home(bot)
    refusal, failure = attempt_lines(view)
    assert strings.OUTCOME_LABELS["refused"] in refusal
    assert strings.REFUSAL_LABELS["channel_not_allowed"] in refusal
    assert "Factura 00000000" in failure
    assert strings.OUTCOME_LABELS["not_found"] in failure


async def test_home_with_no_attempts_says_so(bot: Bot) -> None:
    view = await open_home(bot)
    assert attempt_lines(view) == []
    assert strings.HOME_EMPTY in json.dumps(view, ensure_ascii=False)
    assert strings.HELP_TEXT in [b.get("text", {}).get("text") for b in view["blocks"]]


async def test_history_outage_shows_a_one_line_notice(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    await resend(bot, SEED_LUMMY_ID, lummy_values())

    async def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailableError("sqlite: OperationalError: disk I/O error")

    monkeypatch.setattr(bot.services.store, "attempts_by", down)
    view = await open_home(bot)

    notices = [
        b for b in view["blocks"] if strings.HOME_UNAVAILABLE in json.dumps(b, ensure_ascii=False)
    ]
    assert len(notices) == 1
    assert notices[0]["type"] == "context"
    assert attempt_lines(view) == []
    assert has_open_button(view)  # re-sending still works without the history
    assert "OperationalError" not in json.dumps(view)


async def test_the_messages_tab_publishes_nothing(bot: Bot) -> None:
    response = await bot.sender.event(bot.slack.app_home_opened(AGENT, tab="messages"))
    assert response.status == 200
    assert await bot.services.inflight.drain(5)
    assert bot.slack.calls_to("views.publish") == []


# --- the button ---------------------------------------------------------------------------


async def test_button_opens_the_modal_and_the_outcome_arrives_by_dm(bot: Bot) -> None:
    home = await open_home(bot)

    await press_open(bot, home)
    await bot.slack.wait_for_call("views.open")
    modal = bot.slack.current_view(AGENT)
    assert modal is not None
    assert modal["callback_id"] == MODAL_CALLBACK_ID
    response = await bot.sender.view_submission(
        user_id=AGENT, view=modal["id"], values=lummy_values()
    )
    assert response.status == 200
    assert response.body == ""

    dm = await eventually(lambda: bot.slack.dm_channel_id(AGENT), what="the agent's DM")

    def outcome() -> Any:
        messages = bot.slack.messages_in(dm)
        return messages if messages and not is_progress(messages[-1]) else None

    (message,) = await eventually(outcome, what="the outcome in the DM", timeout=10)
    assert "cliente@empresa.com" in message.text
    # The DM is where a re-send from the Home goes: no "could not post in the channel".
    assert "No se pudo publicar" not in json.dumps(message.blocks, ensure_ascii=False)
    assert bot.slack.messages_in(CHANNEL) == []
    assert [send.invoice_id for send in bot.lummy.sends] == [SEED_LUMMY_ID]


# --- access ---------------------------------------------------------------------------------


async def test_an_agent_without_access_sees_why_and_the_button_opens_nothing(
    start_bot: Any,
) -> None:
    bot: Bot = await start_bot(allowed_user_ids=[OTHER_AGENT])
    allowed = await open_home(bot, OTHER_AGENT)
    assert has_open_button(allowed)

    view = await open_home(bot)
    assert not has_open_button(view)
    assert strings.REFUSED_USER in json.dumps(view, ensure_ascii=False)

    # A button shown before access was withdrawn: nothing opens, the Home says why.
    published = len(bot.slack.calls_to("views.publish"))
    await press_open(bot, allowed, user=AGENT)
    await bot.slack.wait_for_call("views.publish", count=published + 1)
    assert bot.slack.calls_to("views.open") == []
    assert not has_open_button(bot.slack.home_views[AGENT])

    async def refused() -> Any:
        return [r for r in await history_rows(bot) if r.outcome == "refused"]

    (row,) = await eventually(refused, what="the refusal in the history")
    assert (row.user_id, row.detail) == (AGENT, "user_not_allowed")


async def test_with_channels_restricted_the_home_points_to_a_channel(start_bot: Any) -> None:
    bot: Bot = await start_bot(allowed_channel_ids=[CHANNEL])
    view = await open_home(bot)
    assert not has_open_button(view)
    assert strings.HOME_CHANNEL_REQUIRED in json.dumps(view, ensure_ascii=False)


# --- the Events API endpoint ---------------------------------------------------------------


async def test_events_url_verification_is_answered(bot: Bot) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    response = await bot.sender.post_json(url_verification(challenge))
    assert response.status == 200
    assert response.json == {"challenge": challenge}
