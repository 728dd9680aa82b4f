"""The re-send modal's listeners: switching provider, choosing or entering the invoice,
and submitting. Opening and updating the modal is `bot.surfaces.modal`'s."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.resend.admission import WHOLE_REQUEST, ConfirmDuplicate, Refuse
from bot.resend.core import Origin
from bot.services import services_of
from bot.surfaces.modal import modal_for, redraw, show_what_is_known
from bot.ui.file_addresses import confirmation_errors, unsendable
from bot.ui.forms import form_from_choice, form_from_view_state, request_from_form
from bot.ui.resend_modal import (
    MODAL_CALLBACK_ID,
    PROVIDER_ACTION,
    PROVIDER_BLOCK,
    REFERENCE_ACTION,
    VALUE_ACTION,
    ModalContext,
)
from bot.ui.wording import problem_messages
from providers.base import InvalidReferenceError


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
    # Another address was asked for and the provider sends only to the file: say so first.
    provider = services.registry.of(request)
    unconfirmed = confirmation_errors(form.values, modal_context.address, provider)
    if unconfirmed:
        await ack(response_action="errors", errors=unconfirmed)
        return
    origin = Origin(
        user_id=body["user"]["id"],
        team_id=(body.get("team") or {}).get("id"),
        channel_id=modal_context.channel_id,
        response_url=modal_context.response_url,
        thread_ts=modal_context.thread_ts,
    )
    # A ticked confirmation counts only for the invoice the warning was about.
    confirmed = form.duplicate_confirmed and modal_context.duplicate_of == request.invoice_key
    decision = await services.core.submit(
        request,
        origin,
        confirmed=confirmed,
        asked_address=unsendable(modal_context.address, provider),
    )
    if isinstance(decision, Refuse):
        block = PROVIDER_BLOCK if decision.field == WHOLE_REQUEST else decision.field
        await ack(response_action="errors", errors={block: decision.message})
        return
    if isinstance(decision, ConfirmDuplicate):
        warned = modal_context.model_copy(update={"duplicate_of": request.invoice_key})
        modal = modal_for(
            form,
            warned,
            services,
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


def register(app: AsyncApp) -> None:
    """Wire the modal's provider switch, its invoice field, and its submission."""
    app.action(PROVIDER_ACTION)(switch_provider)
    app.action(REFERENCE_ACTION)(choose_reference)
    # Only the field that identifies the invoice dispatches actions.
    app.action(VALUE_ACTION)(invoice_entered)
    app.view(MODAL_CALLBACK_ID)(submit_resend)
