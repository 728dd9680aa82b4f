"""The "Reintentar" button, end to end: signed Slack requests in, provider emulators behind.

A retry re-runs the same job (same idempotency key, attempt + 1) and updates the
same message in place: first to "re-sending", then to the outcome.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.ui import strings
from bot.ui.outcome import RETRY_ACTION
from bot.ui.resend_modal import ModalContext
from devkit.emulators.common import Fault, FaultKind
from devkit.localslack import button_action
from devkit.localslack.webapi import ApiCall, Message
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT, SEED_LUMMY_ID, Bot
from tests.e2e import (
    MAYBE_SENT,
    SENT,
    blocks_text,
    eventually,
    lummy_values,
    resends,
    retry_buttons,
    tf_values,
)

#: The retry dialog after an unknown outcome at TusFacturas (it gets no key).
TF_RETRY_RISK = strings.RETRY_CONFIRM_UNKNOWN.format(provider="TusFacturas")

# --- helpers (file-local) ---------------------------------------------------------


async def submit(bot: Bot, values: dict[str, Any]) -> Message:
    """Open the modal, submit it, and return the single outcome message in the channel."""
    view = await bot.open_modal()
    response = await bot.sender.view_submission(user_id=AGENT, view=view["id"], values=values)
    assert response.status == 200, response.body
    assert not response.body.strip() or response.json in (None, {}), response.body
    (outcome,) = await bot.wait_for_outcome(timeout=5)
    return outcome


def retry_button(message: Message) -> dict[str, Any]:
    buttons = retry_buttons(message)
    assert len(buttons) == 1, f"expected one Reintentar button in {message.blocks}"
    return buttons[0]


def has_retry_button(message: Message) -> bool:
    return RETRY_ACTION in json.dumps(message.blocks)


async def press(bot: Bot, message: Message, value: str | None, *, user: str = AGENT) -> None:
    """Click the Reintentar button of ``message`` as Slack would send it."""
    response = await bot.sender.block_actions(
        user_id=user,
        actions=[button_action(RETRY_ACTION, value, block_id="retry", text="Reintentar")],
        channel_id=message.channel,
        message=message.as_slack(),
    )
    assert response.status == 200, response.body
    assert response.elapsed_seconds < 3


async def wait_for(bot: Bot, predicate: Callable[[], bool], description: str) -> None:
    await bot.slack.wait_until(predicate, timeout=5, description=description)
    assert await bot.services.inflight.drain(5)


def updates_since(bot: Bot, start: int) -> list[ApiCall]:
    return bot.slack.calls_to("chat.update")[start:]


def is_success(message: Message | None) -> bool:
    return message is not None and SENT in blocks_text(message.blocks)


def idempotency_keys(bot: Bot) -> list[str | None]:
    return [request.header("x-idempotency") for request in resends(bot.lummy)]


# --- tests ------------------------------------------------------------------------


async def test_lummy_unavailable_then_retry_updates_the_same_message_with_the_same_key(
    bot: Bot,
) -> None:
    bot.lummy.inject(Fault(FaultKind.SERVER_ERROR))
    outcome = await submit(bot, lummy_values())

    # The bot's own retries (max 2) are exhausted: 3 requests, one key, nothing sent.
    first_keys = idempotency_keys(bot)
    assert len(first_keys) == 3
    assert len(set(first_keys)) == 1
    assert first_keys[0]
    assert bot.lummy.sends == []
    assert "no respondió o tuvo una falla interna" in outcome.text
    button = retry_button(outcome)
    assert button["confirm"]["text"]["text"] == strings.RETRY_CONFIRM_SAFE

    bot.lummy.clear_faults()
    posts_before = len(bot.slack.calls_to("chat.postMessage"))
    updates_before = len(bot.slack.calls_to("chat.update"))
    await press(bot, outcome, button["value"])
    await wait_for(
        bot, lambda: is_success(bot.slack.find_message(CHANNEL, outcome.ts)), "retry success"
    )

    # Same message, updated twice (progress, then success); nothing posted anew.
    assert len(bot.slack.calls_to("chat.postMessage")) == posts_before
    progress, final = updates_since(bot, updates_before)
    assert {progress.params["ts"], final.params["ts"]} == {outcome.ts}
    assert ":hourglass_flowing_sand:" in blocks_text(progress.params["blocks"])
    assert "Intento 2" in progress.params["text"]
    assert SENT in blocks_text(final.params["blocks"])
    (message,) = bot.slack.messages_in(CHANNEL)
    assert message.ts == outcome.ts
    assert "Intento 2" in blocks_text(message.blocks)
    assert "cliente@empresa.com" in message.text
    assert not has_retry_button(message)

    # The retry carried the first attempt's key, and exactly one e-mail went out.
    retry_keys = idempotency_keys(bot)[3:]
    assert retry_keys == [first_keys[0]]
    assert len(bot.lummy.sends) == 1
    assert bot.lummy.sends[0].idempotency_key == first_keys[0]


async def test_outcome_unknown_after_a_hang_warns_and_the_retry_succeeds(
    start_bot: Callable[..., Any],
) -> None:
    bot: Bot = await start_bot(provider_read_timeout=0.5)
    bot.lummy.inject(Fault(FaultKind.HANG, times=1))
    outcome = await submit(bot, lummy_values())

    # A read timeout is never retried automatically: one request only.
    assert len(resends(bot.lummy)) == 1
    assert MAYBE_SENT in blocks_text(outcome.blocks)
    assert "pudo haber salido de todos modos" in outcome.text
    button = retry_button(outcome)
    confirm = button["confirm"]["text"]["text"]
    assert confirm == strings.RETRY_CONFIRM_REPLAYED.format(provider="Lummy")
    assert "no manda otro correo" in confirm

    await press(bot, outcome, button["value"])
    await wait_for(
        bot, lambda: is_success(bot.slack.find_message(CHANNEL, outcome.ts)), "retry success"
    )
    keys = idempotency_keys(bot)
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert len(bot.lummy.sends) == 1
    assert len(bot.slack.messages_in(CHANNEL)) == 1


async def test_outcome_unknown_retry_is_replayed_by_lummy_not_sent_twice(
    start_bot: Callable[..., Any],
) -> None:
    """Lummy e-mailed but the answer came too late: the retry gets the stored answer back."""
    bot: Bot = await start_bot(provider_read_timeout=0.5)
    # LATENCY handles the request at once (the e-mail goes out) and holds the answer back.
    bot.lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=1.5, times=1))
    outcome = await submit(bot, lummy_values())

    assert len(bot.lummy.sends) == 1, "the first attempt did reach the customer"
    assert "pudo haber salido de todos modos" in outcome.text
    button = retry_button(outcome)
    assert "no manda otro correo" in button["confirm"]["text"]["text"]

    await press(bot, outcome, button["value"])
    await wait_for(
        bot, lambda: is_success(bot.slack.find_message(CHANNEL, outcome.ts)), "retry success"
    )
    keys = idempotency_keys(bot)
    assert len(keys) == 2
    assert keys[0] == keys[1]
    # The emulator replayed the first answer: still exactly one e-mail in total.
    assert len(bot.lummy.sends) == 1
    message = bot.slack.find_message(CHANNEL, outcome.ts)
    assert message is not None
    assert bot.lummy.sends[0].request_id in blocks_text(message.blocks)
    assert "Intento 2" in blocks_text(message.blocks)


async def test_tusfacturas_5xx_is_uncertain_not_retried_automatically_but_the_button_works(
    bot: Bot,
) -> None:
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR))
    outcome = await submit(bot, tf_values())

    assert len(resends(bot.tusfacturas)) == 1, "TusFacturas has no idempotency: never auto-retry"
    assert bot.tusfacturas.sends == []
    # A gateway error may come after the e-mail left: uncertain, and the retry says so.
    assert "no confirmó el reenvío" in outcome.text
    button = retry_button(outcome)
    assert button["confirm"]["text"]["text"] == TF_RETRY_RISK
    assert button["confirm"]["style"] == "danger"

    bot.tusfacturas.clear_faults()
    updates_before = len(bot.slack.calls_to("chat.update"))
    await press(bot, outcome, button["value"])
    await wait_for(
        bot, lambda: is_success(bot.slack.find_message(CHANNEL, outcome.ts)), "retry success"
    )
    assert len(resends(bot.tusfacturas)) == 2
    assert len(bot.tusfacturas.sends) == 1
    assert [c.params["ts"] for c in updates_since(bot, updates_before)] == [outcome.ts] * 2
    (message,) = bot.slack.messages_in(CHANNEL)
    assert "la factura B 0002-00000006" in message.text
    assert "Intento 2" in blocks_text(message.blocks)
    assert "compras@panaderialaespiga.com.ar" in blocks_text(message.blocks)


async def test_a_second_failure_offers_the_button_again_for_the_next_attempt(bot: Bot) -> None:
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR))
    outcome = await submit(bot, tf_values())
    first_value = retry_button(outcome)["value"]

    updates_before = len(bot.slack.calls_to("chat.update"))
    await press(bot, outcome, first_value)
    await wait_for(
        bot, lambda: len(updates_since(bot, updates_before)) >= 2, "progress and outcome"
    )
    message = bot.slack.find_message(CHANNEL, outcome.ts)
    assert message is not None
    assert "Intento 2" in blocks_text(message.blocks)
    second_value = retry_button(message)["value"]
    assert json.loads(second_value)["attempt"] == 3
    assert json.loads(second_value)["idempotency_key"] == json.loads(first_value)["idempotency_key"]
    assert len(resends(bot.tusfacturas)) == 2


def _tampered_values() -> list[Any]:
    job = {
        "request": {"provider": "lummy", "invoice_id": SEED_LUMMY_ID},
        "requested_by": AGENT,
        "idempotency_key": "6f1d7f1e-0000-4000-8000-000000000001",
        "attempt": 2,
    }
    return [
        pytest.param("garbage", id="garbage"),
        pytest.param(None, id="no-value"),
        pytest.param("", id="empty"),
        pytest.param(json.dumps({**job, "attempt": 0}), id="attempt-zero"),
        pytest.param(json.dumps({**job, "request": {"provider": "x"}}), id="unknown-provider"),
        pytest.param(
            json.dumps({**job, "request": {"provider": "lummy", "invoice_id": "not-a-uuid"}}),
            id="bad-invoice-id",
        ),
        pytest.param(
            json.dumps(
                {
                    **job,
                    "request": {
                        "provider": "tusfacturas",
                        "tipo": "FACTURA Z",
                        "punto_venta": 2,
                        "numero": 6,
                    },
                }
            ),
            id="bad-tipo",
        ),
        pytest.param(json.dumps({**job, "extra": "x"})[:-20], id="truncated-json"),
        pytest.param("[1, 2, 3]", id="json-list"),
    ]


@pytest.mark.parametrize("value", _tampered_values())
async def test_a_tampered_button_value_answers_only_the_clicker_and_sends_nothing(
    bot: Bot, value: str | None
) -> None:
    bot.slack.add_channel("C0ORIGIN", "origen")
    message = Message(
        channel="C0ORIGIN",
        ts="1700000000.000100",
        text="resultado",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "resultado"}}],
    )
    await press(bot, message, value, user=OTHER_AGENT)
    await bot.slack.wait_for_response_url(count=1, timeout=3)
    await asyncio.sleep(0.05)  # anything else the bot would wrongly do has time to show
    assert await bot.services.inflight.drain(1)

    (reply,) = bot.slack.response_url_messages
    assert reply.response_type == "ephemeral"
    assert reply.user_id == OTHER_AGENT
    assert reply.text == strings.RETRY_EXPIRED
    assert not reply.replace_original
    assert bot.slack.ephemeral_for("C0ORIGIN", OTHER_AGENT)[0].text == strings.RETRY_EXPIRED
    assert resends(bot.lummy) == []
    assert resends(bot.tusfacturas) == []
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.slack.calls_to("chat.update") == []


async def test_a_retry_pressed_twice_runs_once_and_names_who_retried(bot: Bot) -> None:
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, times=1))
    outcome = await submit(bot, tf_values())
    value = retry_button(outcome)["value"]
    # The retry is slow, so the second click lands while the first is still running.
    bot.tusfacturas.inject(Fault(FaultKind.LATENCY, delay_seconds=1.0, times=1))

    await press(bot, outcome, value, user=OTHER_AGENT)
    # Polled: while TusFacturas holds its answer back the bot makes no Slack call to wake on.
    await eventually(lambda: len(resends(bot.tusfacturas)) == 2, what="the first retry")
    await press(bot, outcome, value, user=AGENT)
    await wait_for(
        bot, lambda: is_success(bot.slack.find_message(CHANNEL, outcome.ts)), "retry success"
    )

    # One retry reached TusFacturas (no idempotency there: a second would e-mail again).
    assert len(resends(bot.tusfacturas)) == 2
    assert len(bot.tusfacturas.sends) == 1
    (notice,) = bot.slack.ephemeral_for(CHANNEL, AGENT)
    assert notice.text == strings.RETRY_IN_PROGRESS.format(user=f"<@{OTHER_AGENT}>")
    message = bot.slack.find_message(CHANNEL, outcome.ts)
    assert message is not None
    assert f"Intento 2. Reintentado por <@{OTHER_AGENT}>" in blocks_text(message.blocks)
    assert f"pedido por <@{AGENT}>" in blocks_text(message.blocks)


async def test_retry_from_the_dm_fallback_is_checked_against_the_command_channel(
    start_bot: Any,
) -> None:
    # Only CHANNEL may re-send. The bot is not in it and the response_url is dead, so the
    # outcome lands in the agent's DM; pressing Reintentar there must still be allowed.
    bot: Bot = await start_bot(allowed_channel_ids=[CHANNEL])
    bot.slack.channels[CHANNEL].bot_is_member = False
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, times=1))
    view = await bot.open_modal()
    context = ModalContext.from_metadata(view["private_metadata"])
    dead = context.model_copy(update={"response_url": "http://127.0.0.1:9/response_url/dead"})
    bot.slack.views[view["id"]]["private_metadata"] = dead.to_metadata()
    await bot.sender.view_submission(user_id=AGENT, view=view["id"], values=tf_values())
    await bot.slack.wait_until(
        lambda: any(
            has_retry_button(m) for m in bot.slack.messages_in(bot.slack.dm_channel_id(AGENT) or "")
        ),
        timeout=5,
        description="the outcome in the DM",
    )
    assert await bot.services.inflight.drain(5)
    dm = bot.slack.dm_channel_id(AGENT)
    assert dm is not None
    (outcome,) = bot.slack.messages_in(dm)

    await press(bot, outcome, retry_button(outcome)["value"])
    await wait_for(bot, lambda: is_success(bot.slack.find_message(dm, outcome.ts)), "success")

    assert len(bot.tusfacturas.sends) == 1
    assert bot.slack.ephemeral_for(dm, AGENT) == []
    message = bot.slack.find_message(dm, outcome.ts)
    assert message is not None
    assert "No se pudo publicar en" in blocks_text(message.blocks)  # the DM notice stays
