"""``/reenviar``: ack at once, then open the modal (prefilled from the text) or show help."""

from __future__ import annotations

from typing import Any, Final

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import strings, views
from bot.forms import ModalContext, form_from_text
from bot.services import services_of

log = structlog.get_logger(__name__)

COMMAND: Final = "/reenviar"
HELP_WORDS: Final = frozenset({"ayuda", "help", "?"})


async def handle_reenviar(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """Open the re-send modal; the trigger id dies after 3 s, so nothing comes before it."""
    text = str(command.get("text") or "")
    if text.strip().lower() in HELP_WORDS:
        help_message = views.help_message()
        await ack(text=help_message.text, blocks=help_message.blocks)
        return
    await ack()
    services = services_of(context)
    modal = views.resend_modal(
        form_from_text(text),
        ModalContext(
            channel_id=command.get("channel_id"),
            response_url=command.get("response_url"),
            user_id=command.get("user_id"),
        ),
        configured=services.configured,
    )
    try:
        await client.views_open(trigger_id=command["trigger_id"], view=modal)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        log.warning("slack_views_open_failed", error=error)
        await respond(text=strings.MODAL_OPEN_FAILED.format(error=error), response_type="ephemeral")


def register(app: AsyncApp) -> None:
    """Wire the slash command."""
    app.command(COMMAND)(handle_reenviar)
