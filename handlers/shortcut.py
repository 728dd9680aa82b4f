"""The "Reenviar factura" message shortcut: re-send from the message the escalation is about.

Escalations live in threads: a customer's message or a ticket notification, and the
team's discussion under it. On any message, the shortcut reads every reference it
holds (its text, and the attachments and blocks a bot's notification puts them in),
opens the modal prefilled with the first one (a select offers the others), and the
"re-sending" message and the outcome are posted as replies in that message's thread.
The access rules, duplicate guard, history and fallbacks are the resend core's, as
for the command.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot.services import services_of
from bot.slack.messages import message_text, thread_of
from bot.surfaces.access import requester_of, require_access
from bot.surfaces.modal import open_resend_modal
from bot.surfaces.search import open_search, searchable_in_message
from bot.ui.forms import form_from_choice, message_choices
from bot.ui.resend_modal import ModalContext
from providers.scanning import references_in

log = structlog.get_logger(__name__)

#: The shortcut's callback id, as the manifest declares it.
SHORTCUT_CALLBACK_ID: Final = "reenviar_factura"
#: The most addresses the modal lists (it carries them in its 3000-character metadata).
EMAILS_SHOWN: Final = 5


async def resend_from_message(
    ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Open the modal prefilled from the message; its outcome goes to the message's thread."""
    await ack()
    services = services_of(context)
    message: dict[str, Any] = body.get("message") or {}
    requester = requester_of(context)
    async with services.inflight.track():
        # Pure work, but a long message takes a while: keep the event loop free meanwhile.
        text = message_text(message)
        found, emails = await asyncio.to_thread(
            references_in, text, list(services.registry.values())
        )
        choices = message_choices(found)
        log.info("shortcut_references", found=len(found), emails=len(emails))
        modal_context = ModalContext(
            channel_id=requester.channel_id,
            response_url=body.get("response_url"),
            thread_ts=thread_of(message),
            choices=choices if len(choices) > 1 else (),
            emails=tuple(email[:100] for email in emails[:EMAILS_SHOWN]),
        )
        searchable = (
            None
            if choices
            else await asyncio.to_thread(searchable_in_message, text, services.registry)
        )
        if searchable is not None:
            typed, reading = searchable
            await open_search(
                typed, reading, modal_context, trigger_id=body["trigger_id"], context=context
            )
            return
        await open_resend_modal(
            form_from_choice(choices, services.registry),
            modal_context,
            trigger_id=body["trigger_id"],
            context=context,
        )


def register(app: AsyncApp) -> None:
    """Wire the message shortcut."""
    app.message_shortcut(SHORTCUT_CALLBACK_ID, middleware=[require_access()])(resend_from_message)
