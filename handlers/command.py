"""``/reenviar``: ack fast, then open the modal (prefilled from the text), show help,
or show an invoice's history.
"""

from __future__ import annotations

from typing import Any, Final

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot.history.failures import StoreUnavailableError
from bot.resend.admission import Requester
from bot.services import Services, services_of
from bot.surfaces.access import requester_of, require_access
from bot.surfaces.modal import open_resend_modal, usual_provider_of
from bot.surfaces.search import open_search, read_text
from bot.ui import strings
from bot.ui.blocks import escape
from bot.ui.forms import address_asked, form_from_text
from bot.ui.history_message import history_message
from bot.ui.outcome import help_message, notice_message
from bot.ui.resend_modal import ModalContext
from bot.ui.wording import problems_paragraph
from providers.base import InvalidReferenceError
from providers.reading import ToResend

log = structlog.get_logger(__name__)

COMMAND: Final = "/reenviar"
HELP_WORDS: Final = frozenset({"ayuda", "help", "?"})
HISTORY_WORDS: Final = frozenset({"historial", "history"})


async def asks_for_help(command: dict[str, Any]) -> bool:
    """``/reenviar ayuda``: answered for anyone, before any access check."""
    first_word = str(command.get("text") or "").strip().partition(" ")[0]
    return first_word.lower() in HELP_WORDS


async def show_help(ack: AsyncAck) -> None:
    """The help, in the ack itself."""
    message = help_message()
    await ack(text=message.text, blocks=message.blocks)


async def handle_reenviar(
    ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    """Open the re-send modal; the trigger id dies after 3 s, so nothing slow comes first."""
    await ack()
    text = str(command.get("text") or "").strip()
    first_word, _, rest = text.partition(" ")
    services = services_of(context)
    requester = requester_of(context)
    async with services.inflight.track():
        if first_word.lower() in HISTORY_WORDS:
            await _show_history(rest, requester, respond, services)
        else:
            await _open_modal(text, command, context)


async def _open_modal(text: str, command: dict[str, Any], context: AsyncBoltContext) -> None:
    """Open the modal prefilled from ``text`` (blank: on the agent's usual provider), then
    add what the history and the provider know about the invoice; or, for what a
    customer quoted (a CUIT, a date…), the search modal."""
    services = services_of(context)
    requester = requester_of(context)
    reading = read_text(text, services.registry)
    modal_context = ModalContext(
        channel_id=requester.channel_id,
        response_url=command.get("response_url"),
    )
    trigger_id = command["trigger_id"]
    if not isinstance(reading, ToResend):
        await open_search(text, reading, modal_context, trigger_id=trigger_id, context=context)
        return
    form = form_from_text(reading.text, services.registry)
    address = address_asked(reading.text, form, services.registry)
    modal_context = modal_context.model_copy(update={"address": address})
    if form.provider is None:
        usual = await usual_provider_of(requester.user_id, services)
        form = form.model_copy(update={"provider": usual})
    await open_resend_modal(form, modal_context, trigger_id=trigger_id, context=context)


async def _show_history(
    text: str, requester: Requester, respond: AsyncRespond, services: Services
) -> None:
    """The last attempts for one invoice, only to the caller."""
    try:
        request = services.registry.parse_reference(text)
    except InvalidReferenceError as exc:
        message = notice_message(strings.HISTORY_USAGE if not text.strip() else escape_problem(exc))
        await respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
        return
    try:
        records = await services.store.history(request.invoice_key)
        total = await services.store.attempt_count(request.invoice_key)
    except StoreUnavailableError as exc:
        log.error("history_read_failed", error=str(exc)[:200])
        await respond(text=strings.HISTORY_UNAVAILABLE, response_type="ephemeral")
        return
    agent_tz = await services.directory.timezone(requester.user_id)
    label = services.registry.of(request).label
    message = history_message(
        request, records, agent_tz=agent_tz, provider_label=label, total=total
    )
    await respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


def escape_problem(error: InvalidReferenceError) -> str:
    """The parser's Spanish message, safe for mrkdwn."""
    return escape(problems_paragraph(error))


def register(app: AsyncApp) -> None:
    """Wire the slash command: the help for anyone, the rest for who may re-send."""
    app.command(COMMAND, matchers=[asks_for_help])(show_help)
    app.command(COMMAND, middleware=[require_access()])(handle_reenviar)
