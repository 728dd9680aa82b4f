"""The re-send modal's life: opened before anything slow, then updated with what the
history and the provider know about its invoice, guarded against stale views."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from slack_bolt.async_app import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import deadlines
from bot.history.insight import Insight
from bot.resend.before_sending import KnownBeforeSending, known_before_sending, usual_provider
from bot.services import Services, services_of
from bot.slack.client import SLACK_FAILURES, slack_error
from bot.surfaces.access import requester_of
from bot.ui import strings
from bot.ui.forms import request_from_form
from bot.ui.resend_modal import FormState, ModalContext, resend_modal
from providers.base import InvalidReferenceError, InvoiceFacts

log = structlog.get_logger(__name__)


def modal_for(
    form: FormState,
    modal_context: ModalContext,
    services: Services,
    *,
    insight: Insight | None = None,
    preview: InvoiceFacts | None = None,
    agent_tz: str | None = None,
) -> dict[str, Any]:
    """The modal for ``form`` with the providers this bot offers (see `resend_modal`)."""
    return resend_modal(
        form,
        modal_context,
        registry=services.registry,
        configured=services.configured,
        insight=insight,
        preview=preview,
        agent_tz=agent_tz,
    )


async def open_resend_modal(
    form: FormState, modal_context: ModalContext, *, trigger_id: str, context: AsyncBoltContext
) -> bool:
    """Open the modal for ``form`` before anything slow (the trigger id dies after 3 s),
    then show what is known about its invoice. False when Slack would not open it (the
    agent is told why; see `open_view`)."""
    services = services_of(context)
    opened = await open_view(modal_for(form, modal_context, services), trigger_id, context)
    if opened is None:
        return False
    user_id = requester_of(context).user_id
    await show_what_is_known(form, modal_context, opened, services.client, services, user_id)
    return True


async def open_view(
    view: dict[str, Any], trigger_id: str, context: AsyncBoltContext
) -> dict[str, Any] | None:
    """``views.open``, bounded; the view as opened, or None when Slack would not open it:
    the agent is told why, only to them, where the surface has a ``response_url``."""
    services = services_of(context)
    try:
        opened = await asyncio.wait_for(
            services.client.views_open(trigger_id=trigger_id, view=view), deadlines.VIEWS_OPEN
        )
    except (*SLACK_FAILURES, TimeoutError) as exc:
        error = slack_error(exc)
        log.warning("slack_views_open_failed", error=error)
        reason = (
            strings.SLACK_TOO_SLOW
            if isinstance(exc, TimeoutError)
            else strings.SLACK_ANSWERED.format(error=error)
        )
        if context.respond is not None:
            await context.respond(
                text=strings.MODAL_OPEN_FAILED.format(reason=reason),
                response_type="ephemeral",
                replace_original=False,
            )
        return None
    shown: dict[str, Any] = opened.get("view") or {}
    return shown


async def usual_provider_of(user_id: str, services: Services) -> str | None:
    """The provider a blank modal starts on for this agent (see `usual_provider`)."""
    return await usual_provider(
        user_id,
        store=services.store,
        directory=services.directory,
        registry=services.registry,
        configured=services.configured,
    )


async def redraw(
    form: FormState,
    modal_context: ModalContext,
    view: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
    user_id: str,
) -> None:
    """Show ``form`` in the open modal ``view`` (the agent changed what it is about),
    then what is known about its invoice."""
    modal = modal_for(form, modal_context, services)
    updated = await update_modal(view, modal, client, services, by_the_bot=False)
    if updated is not None:
        await show_what_is_known(form, modal_context, updated, client, services, user_id)


async def show_what_is_known(
    form: FormState,
    modal_context: ModalContext,
    opened_view: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
    user_id: str,
    *,
    always: bool = False,
) -> None:
    """Once the modal is open (never before: the trigger would expire), update it with what
    the history and the provider know about its invoice: a recent re-send, the quota, the
    customer and where it goes. Bounded; nothing is shown when nothing is known, unless
    ``always`` (the invoice changed, so the old view must go)."""
    known = KnownBeforeSending()
    with contextlib.suppress(InvalidReferenceError):
        request = request_from_form(form, services.registry)
        known = await known_before_sending(
            request,
            user_id,
            duplicates=services.duplicates,
            lookups=services.lookups,
            directory=services.directory,
        )
        if known.insight is not None and known.insight.needs_confirmation:
            modal_context = modal_context.model_copy(update={"duplicate_of": request.invoice_key})
    if not always and not known.worth_showing:
        return
    modal = modal_for(
        form,
        modal_context,
        services,
        insight=known.insight,
        preview=known.facts,
        agent_tz=known.agent_tz,
    )
    await update_modal(opened_view, modal, client, services, by_the_bot=True)


async def update_modal(
    view: dict[str, Any],
    modal: dict[str, Any],
    client: AsyncWebClient,
    services: Services,
    *,
    by_the_bot: bool,
) -> dict[str, Any] | None:
    """Replace the open ``view`` with ``modal``, guarded by the hash of the view it was
    built from; the view as updated, or None when Slack refused (a newer change won, or
    the modal is closed). ``by_the_bot``: a change nobody clicked for (a preview)."""
    own = services.own_view_updates
    view_id = str(view.get("id") or "")
    async with own.updating(view_id):
        # A preview the bot put in since the agent's click does not make the click stale.
        seen = own.current(view_id, view.get("hash"))
        try:
            response = await client.views_update(view_id=view_id, hash=seen, view=modal)
        except SlackApiError as exc:
            log.info("slack_views_update_skipped", error=exc.response.get("error"))
            return None
        updated: dict[str, Any] = response.get("view") or {}
        if by_the_bot:
            own.record(view_id, replaced=seen, now=updated.get("hash"))
        return updated
