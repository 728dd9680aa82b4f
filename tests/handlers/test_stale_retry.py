"""A stale "Reintentar": pressed after the same invoice was re-sent again, by any surface.

TusFacturas answers 500 (❔, with Reintentar); the invoice is then re-sent with a ✅
from the command, the message shortcut, the Home tab or another Reintentar. Pressing
the old button must not reach the provider: the clicker alone is told about the newer
send and gets a button to confirm, and that confirmation holds only for the send it
named. Everything goes through the signed endpoint and the local Slack.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.ui import strings
from bot.ui.home_tab import HOME_OPEN_ACTION
from bot.ui.outcome import RETRY_ACTION
from bot.ui.retry_prompt import RETRY_ANYWAY_ACTION
from devkit.emulators.common import Fault, FaultKind
from devkit.localslack import button_action
from devkit.localslack.webapi import EphemeralMessage, JsonDict, Message
from handlers.shortcut import SHORTCUT_CALLBACK_ID
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT, Bot, is_progress
from tests.e2e import (
    MAYBE_SENT,
    SEED_VOUCHER,
    SENT,
    confirmed,
    eventually,
    resends,
    retry_buttons,
    shown,
    submit,
    tf_values,
)

pytestmark = pytest.mark.timeout(30)

#: The address the emulator's seeded voucher goes to.
ON_FILE = "compras@panaderialaespiga.com.ar"
NEWER = strings.RETRY_NEWER_SEND.split("{")[0]


# --- acting like an agent ------------------------------------------------------------


async def through_warning(bot: Bot, view: JsonDict, *, user: str = AGENT) -> None:
    """Submit the seeded voucher in ``view``, confirming the duplicate warning if it comes."""
    response = await submit(bot, view, confirmed(tf_values()), user=user)
    assert response.status == 200
    if response.body:
        assert response.json is not None
        assert response.json["response_action"] == "update"
        updated = bot.slack.views[view["id"]]
        response = await submit(bot, updated, confirmed(tf_values()), user=user)
    assert response.body == "", response.body


async def command_send(bot: Bot, *, user: str = AGENT) -> Message:
    """``/reenviar`` the seeded voucher in the channel, through the modal's warning."""
    before = len(bot.slack.messages_in(CHANNEL))
    view = await bot.open_modal(SEED_VOUCHER, user=user, empty_ack=True)
    await through_warning(bot, view, user=user)
    messages = await bot.wait_for_outcome(count=before + 1)
    return messages[-1]


async def unknown_outcome(bot: Bot) -> Message:
    """A TusFacturas 500 on the re-send of the seeded voucher: ❔ with Reintentar."""
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, times=1))
    before = len(bot.tusfacturas.sends)
    outcome = await command_send(bot)
    assert MAYBE_SENT in shown(outcome)
    assert len(bot.tusfacturas.sends) == before
    return outcome


async def press(
    bot: Bot, message: Message, button: JsonDict, *, user: str = AGENT, block_id: str = "retry"
) -> None:
    """Click ``button`` of ``message`` as Slack sends it."""
    response = await bot.sender.block_actions(
        user_id=user,
        actions=[
            button_action(
                button["action_id"], button["value"], block_id=block_id, text="Reintentar"
            )
        ],
        channel_id=message.channel,
        message=message.as_slack(),
    )
    assert response.status == 200, response.body
    assert response.elapsed_seconds < 3
    assert await bot.services.inflight.drain(5)


async def press_in_prompt(bot: Bot, prompt: EphemeralMessage, *, user: str = AGENT) -> None:
    """Click the prompt's "Reintentar de todos modos" (an ephemeral message's button)."""
    (button,) = buttons_of(prompt.blocks, RETRY_ANYWAY_ACTION)
    response = await bot.sender.block_actions(
        user_id=user,
        actions=[button_action(RETRY_ANYWAY_ACTION, button["value"], block_id="retry_anyway")],
        channel_id=prompt.channel,
        container={
            "type": "message",
            "message_ts": prompt.message_ts,
            "channel_id": prompt.channel,
            "is_ephemeral": True,
        },
    )
    assert response.status == 200, response.body
    assert response.elapsed_seconds < 3
    assert await bot.services.inflight.drain(5)


def buttons_of(blocks: list[Any], action_id: str) -> list[JsonDict]:
    return [
        element
        for block in blocks
        for element in block.get("elements", [])
        if element.get("action_id") == action_id
    ]


def prompts(bot: Bot, channel: str, user: str = AGENT) -> list[EphemeralMessage]:
    """The newer-send prompts ``user`` got in ``channel``, oldest first."""
    return [
        m
        for m in bot.slack.ephemeral_for(channel, user)
        if buttons_of(m.blocks, RETRY_ANYWAY_ACTION)
    ]


# --- the newer send, by each surface ---------------------------------------------------


async def by_command(bot: Bot) -> str:
    """``/reenviar`` in the channel, confirmed over the modal's warning."""
    outcome = await command_send(bot)
    assert SENT in shown(outcome)
    return CHANNEL


async def by_shortcut(bot: Bot) -> str:
    """The message shortcut on a customer's message; the ✅ lands in its thread."""
    customer = bot.slack.post_as(CHANNEL, f"No me llegó la {SEED_VOUCHER}", user=OTHER_AGENT)
    opened = len(bot.slack.calls_to("views.open"))
    response = await bot.sender.message_shortcut(
        SHORTCUT_CALLBACK_ID, user_id=AGENT, channel_id=CHANNEL, message=customer.as_slack()
    )
    assert response.status == 200
    await bot.slack.wait_for_call("views.open", count=opened + 1)
    assert await bot.services.inflight.drain(5)
    view = bot.slack.current_view(AGENT)
    assert view is not None
    await through_warning(bot, view)

    def outcome() -> Message | None:
        replies = bot.slack.replies_to(CHANNEL, customer.ts)
        return replies[0] if replies and not is_progress(replies[0]) else None

    reply = await eventually(outcome, what="the outcome in the thread")
    assert SENT in shown(reply)
    return CHANNEL


async def by_home(bot: Bot) -> str:
    """The Home tab's "Reenviar una factura"; the ✅ arrives by DM."""
    published = len(bot.slack.calls_to("views.publish"))
    await bot.sender.event(bot.slack.app_home_opened(AGENT))
    await bot.slack.wait_for_call("views.publish", count=published + 1)
    home = bot.slack.home_views[AGENT]
    opened = len(bot.slack.calls_to("views.open"))
    await bot.sender.block_actions(
        user_id=AGENT,
        view=home,
        container={"type": "view", "view_id": home["id"]},
        actions=[button_action(HOME_OPEN_ACTION, "open", block_id="home_actions")],
    )
    await bot.slack.wait_for_call("views.open", count=opened + 1)
    assert await bot.services.inflight.drain(5)
    modal = bot.slack.current_view(AGENT)
    assert modal is not None
    await through_warning(bot, modal)
    dm = await eventually(lambda: bot.slack.dm_channel_id(AGENT), what="the agent's DM")

    def outcome() -> Message | None:
        messages = bot.slack.messages_in(dm)
        return messages[-1] if messages and not is_progress(messages[-1]) else None

    message = await eventually(outcome, what="the outcome in the DM")
    assert SENT in shown(message)
    return dm


async def by_another_retry(bot: Bot) -> str:
    """A second ❔ of the same voucher, whose own Reintentar then succeeds."""
    second = await unknown_outcome(bot)
    (button,) = retry_buttons(second)
    await press(bot, second, button)
    await until_sent(bot, second)
    return CHANNEL


async def until_sent(bot: Bot, message: Message) -> Message:
    """``message`` once it shows a ✅ (a retry updates it in place)."""

    def sent() -> Message | None:
        found = bot.slack.find_message(message.channel, message.ts)
        return found if found is not None and SENT in shown(found) else None

    updated: Message = await eventually(sent, what="the retry's success")
    assert await bot.services.inflight.drain(5)
    return updated


NewerSend = Callable[[Bot], Awaitable[str]]


@pytest.mark.parametrize("newer_send", [by_command, by_shortcut, by_home, by_another_retry])
async def test_a_retry_after_a_newer_success_asks_first_and_names_that_send(
    bot: Bot, newer_send: NewerSend
) -> None:
    old = await unknown_outcome(bot)
    (old_button,) = retry_buttons(old)
    await newer_send(bot)
    sends = len(resends(bot.tusfacturas))
    emails = len(bot.tusfacturas.sends)

    await press(bot, old, old_button, user=OTHER_AGENT)

    # Only the clicker is told, naming the newer send; nothing reached TusFacturas.
    (prompt,) = await eventually(lambda: prompts(bot, CHANNEL, OTHER_AGENT), what="the prompt")
    assert len(resends(bot.tusfacturas)) == sends
    assert len(bot.tusfacturas.sends) == emails
    text = "\n".join([prompt.text, *(json.dumps(b, ensure_ascii=False) for b in prompt.blocks)])
    assert NEWER in text
    assert f"por <@{AGENT}>" in text
    assert ON_FILE in text
    assert "hace un momento" in text
    assert prompts(bot, CHANNEL, AGENT) == []
    assert not [m for m in bot.slack.messages_in(CHANNEL) if NEWER in shown(m)]
    # The old message still says what it said: nothing was re-sent from it.
    still = bot.slack.find_message(CHANNEL, old.ts)
    assert still is not None
    assert MAYBE_SENT in shown(still)

    # Confirming it does send, once, and the old message shows that attempt.
    await press_in_prompt(bot, prompt, user=OTHER_AGENT)
    updated = await until_sent(bot, old)
    assert "Intento 2" in shown(updated)
    assert len(resends(bot.tusfacturas)) == sends + 1
    assert len(bot.tusfacturas.sends) == emails + 1


async def test_a_confirmation_holds_only_for_the_send_it_named(bot: Bot) -> None:
    old = await unknown_outcome(bot)
    (old_button,) = retry_buttons(old)
    await by_command(bot)
    await press(bot, old, old_button)
    (first_prompt,) = await eventually(lambda: prompts(bot, CHANNEL), what="the prompt")

    # An even newer send lands before the prompt is pressed: it asks again, naming it.
    await command_send(bot, user=OTHER_AGENT)
    sends = len(resends(bot.tusfacturas))
    await press_in_prompt(bot, first_prompt)
    await eventually(lambda: len(prompts(bot, CHANNEL)) == 2, what="the second prompt")
    assert len(resends(bot.tusfacturas)) == sends
    *_, second_prompt = prompts(bot, CHANNEL)
    assert second_prompt is not first_prompt
    assert f"por <@{OTHER_AGENT}>" in second_prompt.text

    await press_in_prompt(bot, second_prompt)
    await until_sent(bot, old)
    assert len(resends(bot.tusfacturas)) == sends + 1


async def test_a_retry_after_a_newer_uncertain_attempt_asks_too(bot: Bot) -> None:
    old = await unknown_outcome(bot)
    (old_button,) = retry_buttons(old)
    await unknown_outcome(bot)
    sends = len(resends(bot.tusfacturas))

    await press(bot, old, old_button)

    (prompt,) = await eventually(lambda: prompts(bot, CHANNEL), what="the prompt")
    assert len(resends(bot.tusfacturas)) == sends
    assert "incierto" in prompt.text


async def test_a_retry_with_nothing_newer_goes_straight_to_the_provider(bot: Bot) -> None:
    old = await unknown_outcome(bot)
    (button,) = retry_buttons(old)
    confirm = button["confirm"]
    # TusFacturas has no key: the dialog says a second e-mail may go, and is not a blind yes.
    assert "segundo correo" in confirm["text"]["text"]
    assert confirm["style"] == "danger"
    sends = len(resends(bot.tusfacturas))

    await press(bot, old, button)

    await until_sent(bot, old)
    assert len(resends(bot.tusfacturas)) == sends + 1
    assert prompts(bot, CHANNEL) == []


async def test_the_same_button_pressed_again_after_its_retry_succeeded_asks(bot: Bot) -> None:
    old = await unknown_outcome(bot)
    (button,) = retry_buttons(old)
    await press(bot, old, button)
    await until_sent(bot, old)
    sends = len(resends(bot.tusfacturas))

    # A stale copy of the message (another client, a slow refresh) still shows the button.
    await press(bot, old, button, user=OTHER_AGENT)

    (prompt,) = await eventually(lambda: prompts(bot, CHANNEL, OTHER_AGENT), what="the prompt")
    assert len(resends(bot.tusfacturas)) == sends
    assert NEWER in prompt.text
    assert buttons_of(prompt.blocks, RETRY_ACTION) == []
