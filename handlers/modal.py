"""The re-send modal: switching provider, entering the invoice, submitting, and, once it
is open, what the history and the provider know about the invoice."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import deadlines
from bot.resend.admission import WHOLE_REQUEST, ConfirmDuplicate, Refuse
from bot.resend.before_sending import KnownBeforeSending, known_before_sending, usual_provider
from bot.resend.core import Origin
from bot.services import Services, services_of
from bot.slack.client import SLACK_FAILURES, slack_error
from bot.ui import strings
from bot.ui.forms import form_from_choice, form_from_view_state, request_from_form
from bot.ui.resend_modal import (
    MODAL_CALLBACK_ID,
    PROVIDER_ACTION,
    PROVIDER_BLOCK,
    REFERENCE_ACTION,
    VALUE_ACTION,
    FormState,
    ModalContext,
    resend_modal,
)
from bot.ui.wording import problem_messages
from providers.base import InvalidReferenceError

log = structlog.get_logger(__name__)


async def switch_provider(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Rebuild the modal for the chosen provider, keeping what was typed."""
    await ack()
    services = services_of(context)
    view = body["view"]
    form = form_from_view_state(view.get("state", {}).get("values", {}), services.registry)
    # The clicked option is the authority; state.values may lag behind it.
    chosen = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
    if chosen in services.registry:
        form = form.model_copy(update={"provider": chosen})
    modal_context = ModalContext.from_metadata(view.get("private_metadata"))
    await redraw(form, modal_context, view, client, services, body["user"]["id"])


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
    modal = resend_modal(
        form, modal_context, registry=services.registry, configured=services.configured
    )
    updated = await update_modal(view, modal, client, services, by_the_bot=False)
    if updated is not None:
        await show_what_is_known(form, modal_context, updated, client, services, user_id)


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


async def invoice_entered(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """The field that identifies the invoice was entered: show what is known about it
    (and drop what was shown about the previous one)."""
    await ack()
    services = services_of(context)
    view = body["view"]
    form = form_from_view_state(view.get("state", {}).get("values", {}), services.registry)
    modal_context = ModalContext.from_metadata(view.get("private_metadata"))
    await show_what_is_known(
        form, modal_context, view, client, services, body["user"]["id"], always=True
    )


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
    modal = resend_modal(
        form,
        modal_context,
        registry=services.registry,
        configured=services.configured,
        insight=known.insight,
        preview=known.facts,
        agent_tz=known.agent_tz,
    )
    await update_modal(opened_view, modal, client, services, by_the_bot=True)


async def submit_resend(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Validate inline (nothing is sent while a field is wrong), close, then re-send."""
    services = services_of(context)
    form = form_from_view_state(view.get("state", {}).get("values", {}), services.registry)
    try:
        request = request_from_form(form, services.registry)
    except InvalidReferenceError as exc:
        await ack(response_action="errors", errors=problem_messages(exc))
        return
    modal_context = ModalContext.from_metadata(view.get("private_metadata"))
    origin = Origin(
        user_id=body["user"]["id"],
        team_id=(body.get("team") or {}).get("id"),
        channel_id=modal_context.channel_id,
        response_url=modal_context.response_url,
        thread_ts=modal_context.thread_ts,
    )
    # A ticked confirmation counts only for the invoice the warning was about.
    confirmed = form.duplicate_confirmed and modal_context.duplicate_of == request.invoice_key
    decision = await services.core.submit(request, origin, confirmed=confirmed)
    if isinstance(decision, Refuse):
        block = PROVIDER_BLOCK if decision.field == WHOLE_REQUEST else decision.field
        await ack(response_action="errors", errors={block: decision.message})
        return
    if isinstance(decision, ConfirmDuplicate):
        warned = modal_context.model_copy(update={"duplicate_of": request.invoice_key})
        modal = resend_modal(
            form,
            warned,
            registry=services.registry,
            configured=services.configured,
            insight=decision.insight,
            preview=services.lookups.remembered(request),
        )
        await ack(response_action="update", view=modal)
        return
    await ack()
    await decision.run()


async def choose_reference(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Show the reference of the message the agent chose (a message shortcut's modal)."""
    await ack()
    services = services_of(context)
    view = body["view"]
    modal_context = ModalContext.from_metadata(view.get("private_metadata"))
    chosen = str((action.get("selected_option") or {}).get("value") or "0")
    form = form_from_choice(
        modal_context.choices, services.registry, choice=int(chosen) if chosen.isdigit() else 0
    )
    await redraw(form, modal_context, view, client, services, body["user"]["id"])


async def usual_provider_of(user_id: str, services: Services) -> str | None:
    """The provider a blank modal starts on for this agent (see `usual_provider`)."""
    return await usual_provider(
        user_id,
        store=services.store,
        directory=services.directory,
        registry=services.registry,
        configured=services.configured,
    )


async def open_resend_modal(
    form: FormState,
    modal_context: ModalContext,
    *,
    trigger_id: str,
    client: AsyncWebClient,
    services: Services,
    user_id: str,
) -> str | None:
    """Open the modal for ``form`` before anything slow (the trigger id dies after 3 s),
    then show what is known about its invoice. None once it is open; else why it could
    not be opened, for the agent."""
    modal = resend_modal(
        form, modal_context, registry=services.registry, configured=services.configured
    )
    try:
        opened = await asyncio.wait_for(
            client.views_open(trigger_id=trigger_id, view=modal), deadlines.VIEWS_OPEN
        )
    except (*SLACK_FAILURES, TimeoutError) as exc:
        error = slack_error(exc)
        log.warning("slack_views_open_failed", error=error)
        reason = (
            strings.SLACK_TOO_SLOW
            if isinstance(exc, TimeoutError)
            else strings.SLACK_ANSWERED.format(error=error)
        )
        return strings.MODAL_OPEN_FAILED.format(reason=reason)
    await show_what_is_known(
        form, modal_context, opened.get("view") or {}, client, services, user_id
    )
    return None


def register(app: AsyncApp) -> None:
    """Wire the modal's provider switch, its invoice field, and its submission."""
    app.action(PROVIDER_ACTION)(switch_provider)
    app.action(REFERENCE_ACTION)(choose_reference)
    # Only the field that identifies the invoice dispatches actions.
    app.action(VALUE_ACTION)(invoice_entered)
    app.view(MODAL_CALLBACK_ID)(submit_resend)
