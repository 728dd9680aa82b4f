"""Failures with the next step as a button, through the signed endpoint and the local Slack:
"Corregir y reenviar" after a not found, Reintentar after TusFacturas' per-second throttle,
the PDF link when TusFacturas will not e-mail the voucher, and Lummy's hourly cap said in
the modal as soon as the invoice is known (see also tests/handlers/test_preview.py)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from bot.ui import strings
from bot.ui.outcome import FIX_ACTION, PDF_ACTION, RETRY_ACTION
from devkit.emulators import LOOKUP_ROUTE, Fault, FaultKind
from devkit.localslack import button_action
from devkit.localslack.webapi import JsonDict, Message
from tests.conftest import AGENT, CHANNEL, SEED_LUMMY_ID, Bot
from tests.e2e import (
    NOT_SENT,
    SEED_VOUCHER,
    SENT,
    lummy_values,
    resend,
    resends,
    shown,
    submit,
    tf_values,
)

pytestmark = pytest.mark.timeout(30)

UNKNOWN_LUMMY_ID = "00000000-0000-4000-8000-000000000000"


def button(message: Message, action_id: str) -> JsonDict:
    (found,) = [
        element
        for block in message.blocks
        for element in block.get("elements", [])
        if element.get("action_id") == action_id
    ]
    return found


async def click(bot: Bot, message: Message, pressed: JsonDict, *, user: str = AGENT) -> None:
    """Click a button of ``message`` as Slack sends it (with a fresh trigger id)."""
    response = await bot.sender.block_actions(
        user_id=user,
        actions=[
            button_action(
                pressed["action_id"],
                pressed.get("value"),
                block_id="next_steps",
                text=pressed["text"]["text"],
            )
        ],
        channel_id=message.channel,
        message=message.as_slack(),
    )
    assert response.status == 200, response.body
    assert response.elapsed_seconds < 3


def field_value(view: JsonDict, block_id: str) -> Any:
    (block,) = [b for b in view["blocks"] if b.get("block_id") == block_id]
    element = block["element"]
    return element.get("initial_value") or (element.get("initial_option") or {}).get("value")


async def test_not_found_offers_corregir_y_reenviar_which_reopens_the_modal_prefilled(
    bot: Bot,
) -> None:
    outcome = await resend(bot, UNKNOWN_LUMMY_ID, lummy_values(UNKNOWN_LUMMY_ID))
    assert f"{NOT_SENT}la factura 00000000*" in shown(outcome)
    fix = button(outcome, FIX_ACTION)
    assert fix["text"]["text"] == strings.FIX_BUTTON
    assert not [b for b in outcome.blocks if RETRY_ACTION in str(b)]  # a retry is useless

    await click(bot, outcome, fix)
    await bot.slack.wait_for_call("views.open", count=2)
    assert await bot.services.inflight.drain(5)

    view = bot.slack.current_view(AGENT)
    assert view is not None
    assert field_value(view, "provider") == "lummy"
    assert field_value(view, "invoice_id") == UNKNOWN_LUMMY_ID
    # Lummy's answer is already known: the modal says it before anything is sent again.
    assert "Lummy no encuentra nada con estos datos" in shown(view)

    # Corrected, it goes out and posts a new outcome in the same channel.
    response = await submit(bot, view, lummy_values())
    assert response.body == ""
    outcomes = await bot.wait_for_outcome(count=2)
    assert f"{SENT}cliente@empresa.com*" in shown(outcomes[-1])
    assert len(bot.lummy.sends) == 1


async def test_a_tusfacturas_voucher_not_found_offers_the_same_fix(bot: Bot) -> None:
    outcome = await resend(
        bot, "Factura B 0002-00000099", tf_values("FACTURA B", "0002", "00000099")
    )

    await click(bot, outcome, button(outcome, FIX_ACTION))
    await bot.slack.wait_for_call("views.open", count=2)
    assert await bot.services.inflight.drain(5)

    view = bot.slack.current_view(AGENT)
    assert view is not None
    assert field_value(view, "tipo") == "FACTURA B"
    assert (field_value(view, "punto_venta"), field_value(view, "numero")) == ("0002", "00000099")


async def test_tusfacturas_throttle_offers_a_retry_that_goes_through(bot: Bot) -> None:
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, status=429, times=1))

    outcome = await resend(bot, SEED_VOUCHER, tf_values())

    text = shown(outcome)
    assert NOT_SENT in text
    assert "no se envió nada" in text
    retry = button(outcome, RETRY_ACTION)
    # Nothing was sent: the confirmation says a retry is safe, not that it may e-mail twice.
    assert retry["confirm"]["text"]["text"] == strings.RETRY_CONFIRM_SAFE
    assert bot.tusfacturas.sends == []

    await click(bot, outcome, retry)
    await bot.slack.wait_until(
        lambda: SENT in shown(bot.slack.find_message(CHANNEL, outcome.ts) or outcome),
        timeout=5,
        description="the retry's success",
    )
    assert await bot.services.inflight.drain(5)
    assert len(bot.tusfacturas.sends) == 1
    assert len(resends(bot.tusfacturas)) == 2


async def test_email_sending_off_offers_the_pdf_link_from_the_lookup(bot: Bot) -> None:
    outcome = await resend(
        bot, "Factura C 0002-00000041", tf_values("FACTURA C", "0002", "00000041")
    )

    text = shown(outcome)
    assert NOT_SENT in text
    assert strings.PDF_NEXT_STEP in text
    pdf = button(outcome, PDF_ACTION)
    assert pdf["text"]["text"] == strings.PDF_BUTTON
    # The link TusFacturas' consulta gave, valid for the day: it serves the PDF.
    assert pdf["url"].startswith(bot.tusfacturas.base_url + "/pdf/")
    async with aiohttp.ClientSession() as http, http.get(pdf["url"]) as answer:
        assert answer.status == 200
        assert answer.content_type == "application/pdf"
    assert bot.tusfacturas.sends == []

    # Slack still tells the app a link button was clicked: it is acknowledged, nothing else.
    messages_before = len(bot.slack.messages_in(CHANNEL))
    await click(bot, outcome, pdf)
    assert len(bot.slack.messages_in(CHANNEL)) == messages_before


async def test_email_sending_off_without_a_lookup_says_where_to_get_the_pdf(bot: Bot) -> None:
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR), route=LOOKUP_ROUTE)

    outcome = await resend(
        bot, "Factura C 0002-00000041", tf_values("FACTURA C", "0002", "00000041")
    )

    assert strings.PDF_ELSEWHERE.format(provider="TusFacturas") in shown(outcome)
    assert PDF_ACTION not in str(outcome.blocks)


async def test_a_failure_names_the_invoice_as_its_lookup_knew_it(bot: Bot) -> None:
    # The preview's lookup knew the serie-folio: the failure says it, like a success.
    bot.lummy.inject(Fault(FaultKind.SERVER_ERROR, status=503, times=10))

    outcome = await resend(bot, SEED_LUMMY_ID, lummy_values())

    assert "la factura A-1234 (550e8400)" in shown(outcome)
