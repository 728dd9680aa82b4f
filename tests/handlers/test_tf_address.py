"""TusFacturas and an address of the agent's choosing, through the signed endpoint and the
local Slack: TusFacturas sends only to the e-mails on the customer's file, so an address
typed after a voucher is understood (never blamed on the number), the modal says where
it will really go and offers the PDF link to forward, the send waits for the agent's
confirmation, and the outcome's ready reply says so. The message shortcut adds the same
note next to the addresses it found."""

from __future__ import annotations

import pytest

from bot.ui import strings
from bot.ui.file_addresses import FILE_CONFIRM_BLOCK, FILE_CONFIRMED
from bot.ui.outcome import PDF_ACTION
from bot.ui.resend_modal import VALUE_ACTION
from devkit.emulators import LOOKUP_ROUTE, Fault, FaultKind
from devkit.localslack import checkboxes_value
from devkit.localslack.webapi import JsonDict, Message
from handlers.shortcut import SHORTCUT_CALLBACK_ID
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT, SEED_LUMMY_ID, Bot
from tests.e2e import (
    SEED_VOUCHER,
    SEED_VOUCHER_FIELDS,
    SENT,
    field_values,
    resends,
    shown,
    submit,
    tf_values,
)

pytestmark = pytest.mark.timeout(30)

ON_FILE = "compras@panaderialaespiga.com.ar"
ASKED = "otro@cliente.com"
NOTE = strings.FILE_ONLY_NOTE.format(provider="TusFacturas")


def pdf_buttons(blocks: list[JsonDict]) -> list[JsonDict]:
    """Every "Descargar PDF" link button in ``blocks`` (as accessories or in actions)."""
    found = []
    for block in blocks:
        for element in [block.get("accessory") or {}, *block.get("elements", [])]:
            if isinstance(element, dict) and element.get("action_id") == PDF_ACTION:
                found.append(element)
    return found


def with_confirmation(values: JsonDict) -> JsonDict:
    return {**values, FILE_CONFIRM_BLOCK: {VALUE_ACTION: checkboxes_value([FILE_CONFIRMED])}}


async def test_an_address_after_a_voucher_opens_the_modal_with_the_note_and_the_pdf_link(
    bot: Bot,
) -> None:
    view = await bot.open_modal(f"{SEED_VOUCHER} {ASKED}", empty_ack=True)

    assert field_values(view) == SEED_VOUCHER_FIELDS
    text = shown(view)
    assert "No se entiende" not in text  # the number is not blamed
    assert NOTE in text
    assert strings.FILE_ONLY_PDF.format(address=ASKED) in text
    (pdf,) = pdf_buttons(view["blocks"])
    assert pdf["url"].startswith(bot.tusfacturas.base_url + "/pdf/")
    (confirm,) = [b for b in view["blocks"] if b.get("block_id") == FILE_CONFIRM_BLOCK]
    assert confirm["type"] == "input"
    assert confirm["optional"] is False
    assert resends(bot.tusfacturas) == []


async def test_it_sends_to_the_file_only_once_the_agent_confirms_and_the_reply_says_so(
    bot: Bot,
) -> None:
    view = await bot.open_modal(f"{SEED_VOUCHER} {ASKED}")

    refused = await submit(bot, view, tf_values())
    assert refused.json == {
        "response_action": "errors",
        "errors": {FILE_CONFIRM_BLOCK: strings.FILE_CONFIRM_REQUIRED},
    }
    assert resends(bot.tusfacturas) == []

    accepted = await submit(bot, view, with_confirmation(tf_values()))
    assert accepted.body == ""
    (outcome,) = await bot.wait_for_outcome()
    assert len(bot.tusfacturas.sends) == 1

    said = shown(outcome)
    assert outcome.blocks[0]["text"]["text"].startswith(f"{SENT}{ON_FILE}*")
    assert strings.FILE_ONLY_SENT.format(address=ASKED, provider="TusFacturas") in said
    assert strings.REPLY_FILE_ONLY.format(address=ASKED) in said
    (pdf,) = pdf_buttons(outcome.blocks)
    assert strings.REPLY_PDF_LINK.format(url=pdf["url"]) in said


async def test_without_the_lookup_it_says_where_to_get_the_pdf(bot: Bot) -> None:
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, times=10), route=LOOKUP_ROUTE)

    view = await bot.open_modal(f"tusfacturas {SEED_VOUCHER} {ASKED}")

    text = shown(view)
    assert NOTE in text
    assert strings.FILE_ONLY_NO_PDF.format(address=ASKED, provider="TusFacturas") in text
    assert pdf_buttons(view["blocks"]) == []
    await submit(bot, view, with_confirmation(tf_values()))
    (outcome,) = await bot.wait_for_outcome()
    said = shown(outcome)
    assert strings.REPLY_FILE_ONLY.format(address=ASKED) in said
    assert "/pdf/" not in said


async def test_without_an_address_nothing_changes(bot: Bot) -> None:
    view = await bot.open_modal(SEED_VOUCHER)

    assert NOTE not in shown(view)
    assert FILE_CONFIRM_BLOCK not in str(view["blocks"])
    assert (await submit(bot, view, tf_values())).body == ""
    (outcome,) = await bot.wait_for_outcome()
    assert strings.REPLY_FILE_ONLY.split("{")[0] not in shown(outcome)


# --- the message shortcut -------------------------------------------------------------


async def shortcut_on(bot: Bot, message: Message) -> JsonDict:
    opened_before = len(bot.slack.calls_to("views.open"))
    response = await bot.sender.message_shortcut(
        SHORTCUT_CALLBACK_ID, user_id=AGENT, channel_id=message.channel, message=message.as_slack()
    )
    assert response.status == 200, response.body
    await bot.slack.wait_for_call("views.open", count=opened_before + 1)
    assert await bot.services.inflight.drain(5)
    view = bot.slack.current_view(AGENT)
    assert view is not None
    return view


async def test_the_shortcut_notes_beside_the_addresses_that_tusfacturas_sends_to_the_file(
    bot: Bot,
) -> None:
    message = bot.slack.post_as(
        CHANNEL,
        f"Hola, ¿me reenvían la {SEED_VOUCHER} a compras2@cliente.com? Gracias",
        user=OTHER_AGENT,
    )

    view = await shortcut_on(bot, message)

    emails = strings.MESSAGE_EMAILS.format(emails="compras2@cliente.com")
    (line,) = [t for t in shown(view).split("\n") if emails in t]
    assert NOTE in line
    assert field_values(view)["provider"] == "tusfacturas"


async def test_the_shortcut_adds_no_note_for_a_provider_that_sends_elsewhere(bot: Bot) -> None:
    message = bot.slack.post_as(
        CHANNEL, f"Mándenla a compras2@cliente.com, es la {SEED_LUMMY_ID}", user=OTHER_AGENT
    )

    view = await shortcut_on(bot, message)

    assert strings.MESSAGE_EMAILS.format(emails="compras2@cliente.com") in shown(view)
    assert "envía solo a los correos cargados" not in shown(view)
