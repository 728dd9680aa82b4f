"""The "Reenviar factura" message shortcut, end to end through signed HTTP.

A message in the channel (a customer's, or a ticket notification from another app),
the shortcut used on it as Slack sends it (``message_action``), the modal the bot
opens, its submission; the "re-sending" message and the outcome land in the
message's thread.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.ui import strings
from bot.ui.resend_modal import REFERENCE_ACTION, REFERENCE_BLOCK
from devkit.localslack import static_select_action
from devkit.localslack.webapi import JsonDict, Message
from handlers.shortcut import SHORTCUT_CALLBACK_ID
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT, SEED_LUMMY_ID, Bot, is_progress
from tests.e2e import (
    SEED_VOUCHER,
    SEED_VOUCHER_FIELDS,
    eventually,
    field_values,
    history_rows,
    lummy_values,
    shown,
    submit,
    tf_values,
)

AUDIT = "C0AUDIT"
ZENDESK_BOT = "B0ZENDESK"


# --- helpers -------------------------------------------------------------------------


async def use_shortcut(
    bot: Bot, message: Message, *, user: str = AGENT, opens: bool = True
) -> JsonDict | None:
    """Use the shortcut on ``message``; the modal it opened (None when ``opens`` is False)."""
    opened_before = len(bot.slack.calls_to("views.open"))
    response = await bot.sender.message_shortcut(
        SHORTCUT_CALLBACK_ID, user_id=user, channel_id=message.channel, message=message.as_slack()
    )
    assert response.status == 200, response.body
    assert response.elapsed_seconds < 3
    if not opens:
        return None
    await bot.slack.wait_for_call("views.open", count=opened_before + 1)
    view = bot.slack.current_view(user)
    assert view is not None
    return view


async def outcome_in_thread(bot: Bot, thread_ts: str, channel: str = CHANNEL) -> Message:
    """The bot's one reply in the thread once it shows an outcome (not "re-sending")."""

    def outcome() -> Message | None:
        replies = [
            m for m in bot.slack.replies_to(channel, thread_ts) if m.bot_id == bot.slack.bot_id
        ]
        return replies[0] if len(replies) == 1 and not is_progress(replies[0]) else None

    await bot.slack.wait_until(lambda: outcome() is not None, description="outcome in thread")
    assert await bot.services.inflight.drain(5)
    found = outcome()
    assert found is not None
    return found


# --- a voucher in a customer's message ----------------------------------------------


async def test_voucher_in_a_message_is_prefilled_and_its_outcome_goes_to_the_thread(
    start_bot: Any,
) -> None:
    bot: Bot = await start_bot(audit_channel_id=AUDIT)
    bot.slack.add_channel(AUDIT, "auditoria-reenvios")
    customer = bot.slack.post_as(
        CHANNEL, f"Hola, nunca me llegó la {SEED_VOUCHER}. ¿Me la reenvían?", user=OTHER_AGENT
    )

    view = await use_shortcut(bot, customer)
    assert view is not None
    assert field_values(view) == SEED_VOUCHER_FIELDS
    assert REFERENCE_BLOCK not in json.dumps(view)  # one reference: nothing to choose

    response = await submit(bot, view, tf_values())
    assert response.status == 200
    assert response.body == ""
    outcome = await outcome_in_thread(bot, customer.ts)

    # The provider got the voucher; both messages carry the customer message's thread.
    (send,) = bot.tusfacturas.sends
    assert send.voucher[2:] == (2, 6)
    (progress,) = bot.slack.calls_to("chat.postMessage")[:1]
    assert progress.params["thread_ts"] == customer.ts
    assert "Reenviando" in progress.params["text"]
    assert outcome.thread_ts == customer.ts
    assert outcome.edited  # the progress reply, updated with the outcome
    assert "compras@panaderialaespiga.com.ar" in shown(outcome)
    # Nothing at the channel's top level but the customer's message.
    top_level = [m for m in bot.slack.messages_in(CHANNEL) if m.thread_ts in (None, m.ts)]
    assert top_level == [customer]

    # The audit trail points at the reply: the history row and the audit line's link.
    async def row() -> Any:
        rows = [r for r in await history_rows(bot) if r.outcome == "success"]
        return rows[0] if rows else None

    recorded = await eventually(row, what="the success row")
    assert (recorded.message_channel, recorded.message_ts) == (CHANNEL, outcome.ts)
    (line,) = await eventually(lambda: bot.slack.messages_in(AUDIT), what="the audit line")
    assert f"?thread_ts={customer.ts}" in line.text
    assert f"p{outcome.ts.replace('.', '')}" in line.text


async def test_a_reply_in_a_thread_sends_the_outcome_to_that_thread(bot: Bot) -> None:
    ticket = bot.slack.post_as(CHANNEL, "Ticket #4521: factura no recibida", bot_id=ZENDESK_BOT)
    reply = bot.slack.post_as(
        CHANNEL, f"El cliente pasó el ID: {SEED_LUMMY_ID}", user=OTHER_AGENT, thread_ts=ticket.ts
    )

    view = await use_shortcut(bot, reply)
    assert view is not None
    assert field_values(view)["invoice_id"] == SEED_LUMMY_ID
    await submit(bot, view, lummy_values())
    outcome = await outcome_in_thread(bot, ticket.ts)
    assert outcome.thread_ts == ticket.ts
    assert "cliente@empresa.com" in outcome.text
    assert [send.invoice_id for send in bot.lummy.sends] == [SEED_LUMMY_ID]


# --- several references, and none -----------------------------------------------------


async def test_notification_with_a_voucher_and_a_lummy_id_offers_both(bot: Bot) -> None:
    notification = bot.slack.post_as(
        CHANNEL,
        "Nuevo ticket de soporte",
        bot_id=ZENDESK_BOT,
        attachments=[
            {
                "title": "Ticket #4522: reenvío de comprobantes",
                "text": f"Pide el reenvío de la {SEED_VOUCHER} (Argentina).",
                "fields": [
                    {"title": "Solicitante", "value": "<mailto:ana@cliente.com|ana@cliente.com>"}
                ],
            }
        ],
        blocks=[
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"Y la factura de México: *{SEED_LUMMY_ID}*"},
            }
        ],
    )

    view = await use_shortcut(bot, notification)
    assert view is not None
    (choice,) = [b for b in view["blocks"] if b.get("block_id") == REFERENCE_BLOCK]
    options = [option["text"]["text"] for option in choice["element"]["options"]]
    assert options == [f"{SEED_VOUCHER} (TusFacturas)", f"{SEED_LUMMY_ID} (Lummy)"]
    assert field_values(view)["provider"] == "tusfacturas"  # the first one, prefilled
    assert "ana@cliente.com" in shown(view)  # the address is shown, never prefilled
    assert "email" not in field_values(view)

    await bot.sender.block_actions(
        user_id=AGENT,
        view=view["id"],
        actions=[static_select_action(REFERENCE_ACTION, "1", block_id=REFERENCE_BLOCK)],
    )
    # The preview may update the modal too (before or after): wait for the choice itself.
    await bot.slack.wait_until(
        lambda: field_values(bot.slack.views[view["id"]]).get("provider") == "lummy",
        description="the modal switched to the chosen reference",
    )
    chosen = bot.slack.views[view["id"]]
    assert field_values(chosen)["provider"] == "lummy"
    assert field_values(chosen)["invoice_id"] == SEED_LUMMY_ID
    assert field_values(chosen)[REFERENCE_BLOCK] == "1"

    await submit(bot, chosen, lummy_values())
    outcome = await outcome_in_thread(bot, notification.ts)
    assert [send.invoice_id for send in bot.lummy.sends] == [SEED_LUMMY_ID]
    assert bot.tusfacturas.sends == []
    assert outcome.thread_ts == notification.ts


async def test_message_without_a_reference_opens_the_empty_modal_with_a_note(bot: Bot) -> None:
    message = bot.slack.post_as(
        CHANNEL, "Hola, ¿alguien me ayuda con un reenvío?", user=OTHER_AGENT
    )

    view = await use_shortcut(bot, message)
    assert view is not None
    assert strings.SHORTCUT_NOTHING_FOUND in shown(view)
    assert set(field_values(view)) <= {"provider", "operacion"}  # only the defaults
    assert REFERENCE_BLOCK not in json.dumps(view)
    assert bot.tusfacturas.requests == []
    assert bot.lummy.requests == []


# --- the same rules as the command ------------------------------------------------------


async def test_an_agent_without_access_is_refused_only_to_them(start_bot: Any) -> None:
    bot: Bot = await start_bot(allowed_user_ids=[OTHER_AGENT])
    message = bot.slack.post_as(CHANNEL, f"No me llegó la {SEED_VOUCHER}", user=OTHER_AGENT)

    await use_shortcut(bot, message, opens=False)

    (answer,) = await bot.slack.wait_for_response_url()
    assert answer.response_type == "ephemeral"
    assert answer.user_id == AGENT
    assert strings.REFUSED_USER in answer.text
    assert bot.slack.calls_to("views.open") == []
    assert bot.slack.calls_to("chat.postMessage") == []

    async def refused() -> Any:
        rows = await history_rows(bot, within=timedelta(hours=1))
        return [r for r in rows if r.outcome == "refused"]

    (row,) = await eventually(refused, what="the refusal in the history")
    assert (row.user_id, row.channel_id, row.detail) == (AGENT, CHANNEL, "user_not_allowed")


async def test_a_channel_the_bot_cannot_post_in_gets_the_outcome_by_response_url(
    bot: Bot,
) -> None:
    private = "G0PRIVATE"
    bot.slack.add_channel(private, "escalaciones", bot_is_member=False, is_private=True)
    message = bot.slack.post_as(private, f"Reenviar {SEED_LUMMY_ID}, por favor", user=OTHER_AGENT)

    view = await use_shortcut(bot, message)
    assert view is not None
    await submit(bot, view, lummy_values())

    await bot.slack.wait_until(
        lambda: any("cliente@empresa.com" in m.text for m in bot.slack.response_url_messages),
        description="the outcome through the shortcut's response_url",
    )
    assert await bot.services.inflight.drain(5)
    final = bot.slack.response_url_messages[-1]
    assert final.channel_id == private
    assert final.response_type == "in_channel"
    assert [send.invoice_id for send in bot.lummy.sends] == [SEED_LUMMY_ID]


async def test_a_long_message_still_opens_a_modal_slack_accepts(bot: Bot) -> None:
    vouchers = " ".join(f"FACTURA B 0002-{n:08d}," for n in range(1, 16))
    addresses = " ".join(f"contacto{n}@cliente-con-nombre-largo.com.ar" for n in range(20))
    message = bot.slack.post_as(CHANNEL, f"Reenviar {vouchers} a {addresses}", user=OTHER_AGENT)

    view = await use_shortcut(bot, message)

    assert view is not None
    assert len(view["private_metadata"]) <= 3000
    (choice,) = [b for b in view["blocks"] if b.get("block_id") == REFERENCE_BLOCK]
    assert len(choice["element"]["options"]) == 10
    assert "contacto4@" in shown(view)
    assert "contacto5@" not in shown(view)
