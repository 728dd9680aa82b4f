"""``/reenviar``: ack fast, then open the modal (prefilled from the text), show help,
or show an invoice's history.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.history.store import StoreUnavailableError
from bot.resend.admission import Requester
from bot.resend.foresight import usual_provider
from bot.services import Services, services_of
from bot.slack.client import SLACK_FAILURES, slack_error
from bot.ui import strings, views
from bot.ui.forms import ModalContext, form_from_text
from bot.ui.wording import problems_paragraph
from handlers.modal import show_what_is_known
from providers.base import InvalidReferenceError

log = structlog.get_logger(__name__)

COMMAND: Final = "/reenviar"
#: How long to wait for views.open (Slack's trigger ids expire after 3 s).
VIEWS_OPEN_TIMEOUT: Final = 4.0
HELP_WORDS: Final = frozenset({"ayuda", "help", "?"})
HISTORY_WORDS: Final = frozenset({"historial", "history"})


async def handle_reenviar(
    ack: AsyncAck,
    command: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """Open the re-send modal; the trigger id dies after 3 s, so nothing slow comes first."""
    text = str(command.get("text") or "").strip()
    first_word, _, rest = text.partition(" ")
    if first_word.lower() in HELP_WORDS:
        help_message = views.help_message()
        await ack(text=help_message.text, blocks=help_message.blocks)
        return
    services = services_of(context)
    requester = Requester(
        user_id=command["user_id"],
        channel_id=command.get("channel_id"),
        team_id=command.get("team_id"),
    )
    refusal = await services.gatekeeper.check_access(requester)
    if refusal is not None:
        await ack(text=strings.REFUSED_PREFIX + refusal.message)
        services.gatekeeper.refuse_command(requester, refusal, text)
        return
    await ack()
    async with services.inflight.track():
        if first_word.lower() in HISTORY_WORDS:
            await _show_history(rest, requester, respond, services)
        else:
            await _open_modal(text, command, requester, client, respond, services)


async def _open_modal(
    text: str,
    command: dict[str, Any],
    requester: Requester,
    client: AsyncWebClient,
    respond: AsyncRespond,
    services: Services,
) -> None:
    """Open the modal prefilled from ``text`` (blank: on the agent's usual provider), then
    add what the history and the provider know about the invoice."""
    form = form_from_text(text, services.registry)
    if form.provider is None:
        usual = await usual_provider(
            requester.user_id,
            store=services.store,
            directory=services.directory,
            registry=services.registry,
            configured=services.configured,
        )
        form = form.model_copy(update={"provider": usual})
    modal_context = ModalContext(
        channel_id=requester.channel_id,
        response_url=command.get("response_url"),
    )
    modal = views.resend_modal(
        form, modal_context, registry=services.registry, configured=services.configured
    )
    try:
        # The trigger id lives 3 s: an answer later than this cannot open anything.
        opened = await asyncio.wait_for(
            client.views_open(trigger_id=command["trigger_id"], view=modal), VIEWS_OPEN_TIMEOUT
        )
    except (*SLACK_FAILURES, TimeoutError) as exc:
        error = slack_error(exc)
        log.warning("slack_views_open_failed", error=error)
        reason = (
            strings.SLACK_TOO_SLOW
            if isinstance(exc, TimeoutError)
            else strings.SLACK_ANSWERED.format(error=error)
        )
        await respond(
            text=strings.MODAL_OPEN_FAILED.format(reason=reason), response_type="ephemeral"
        )
        return
    await show_what_is_known(
        form, modal_context, opened.get("view") or {}, client, services, requester.user_id
    )


async def _show_history(
    text: str, requester: Requester, respond: AsyncRespond, services: Services
) -> None:
    """The last attempts for one invoice, only to the caller."""
    try:
        request = services.registry.parse_reference(text)
    except InvalidReferenceError as exc:
        message = views.notice_message(
            strings.HISTORY_USAGE if not text.strip() else escape_problem(exc)
        )
        await respond(text=message.text, blocks=message.blocks, response_type="ephemeral")
        return
    try:
        records = await services.store.history(request.invoice_key)
    except StoreUnavailableError as exc:
        log.error("history_read_failed", error=str(exc)[:200])
        await respond(text=strings.HISTORY_UNAVAILABLE, response_type="ephemeral")
        return
    agent_tz = await services.directory.timezone(requester.user_id)
    message = views.history_message(request, records, agent_tz=agent_tz)
    await respond(text=message.text, blocks=message.blocks, response_type="ephemeral")


def escape_problem(error: InvalidReferenceError) -> str:
    """The parser's Spanish message, safe for mrkdwn."""
    return views.escape(problems_paragraph(error))


def register(app: AsyncApp) -> None:
    """Wire the slash command."""
    app.command(COMMAND)(handle_reenviar)
