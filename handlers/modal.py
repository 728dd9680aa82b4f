"""The re-send modal: switching provider, and submitting."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import views
from bot.admission import ConfirmDuplicate, Refuse, Requester
from bot.delivery import Destination
from bot.forms import (
    PROVIDER_ACTION,
    PROVIDER_BLOCK,
    ModalContext,
    form_from_view_state,
    request_from_form,
)
from bot.jobs import ResendJob
from bot.services import services_of
from providers.base import Provider
from providers.parsing import InvalidReferenceError

log = structlog.get_logger(__name__)


async def switch_provider(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """Rebuild the modal for the chosen provider, keeping what was typed."""
    await ack()
    view = body["view"]
    form = form_from_view_state(view.get("state", {}).get("values", {}))
    # The clicked option is the authority; state.values may lag behind it.
    chosen = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
    if chosen in {p.value for p in Provider}:
        form = form.model_copy(update={"provider": Provider(chosen)})
    modal = views.resend_modal(
        form,
        ModalContext.from_metadata(view.get("private_metadata")),
        configured=services_of(context).configured,
    )
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"), view=modal)
    except SlackApiError as exc:
        # hash_conflict: a newer switch already updated the view; that one wins.
        log.info("slack_views_update_skipped", error=exc.response.get("error"))


async def submit_resend(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    """Validate inline (nothing is sent while a field is wrong), close, then re-send."""
    services = services_of(context)
    form = form_from_view_state(view.get("state", {}).get("values", {}))
    try:
        request = request_from_form(form)
    except InvalidReferenceError as exc:
        await ack(response_action="errors", errors=exc.field_errors)
        return
    missing = services.providers.missing_configuration(request)
    if missing is not None:
        block = "punto_venta" if missing.punto_venta is not None else PROVIDER_BLOCK
        await ack(response_action="errors", errors={block: missing.agent_message})
        return

    modal_context = ModalContext.from_metadata(view.get("private_metadata"))
    requester = Requester(
        user_id=body["user"]["id"],
        channel_id=modal_context.channel_id,
        team_id=(body.get("team") or {}).get("id"),
    )
    job = ResendJob(
        request=request,
        requested_by=requester.user_id,
        origin_channel_id=modal_context.channel_id,
    )
    # A ticked confirmation counts only for the invoice the warning was about.
    confirmed = form.duplicate_confirmed and modal_context.duplicate_of == request.invoice_key
    decision = await services.gatekeeper.review(job, requester, confirmed=confirmed)
    if isinstance(decision, Refuse):
        block = PROVIDER_BLOCK if decision.field == "request" else decision.field
        await ack(response_action="errors", errors={block: decision.message})
        return
    if isinstance(decision, ConfirmDuplicate):
        warned = modal_context.model_copy(update={"duplicate_of": request.invoice_key})
        modal = views.resend_modal(
            form, warned, configured=services.configured, insight=decision.insight
        )
        await ack(response_action="update", view=modal)
        return
    await ack()
    await services.workflow.run(
        job,
        Destination(
            user_id=requester.user_id,
            channel_id=modal_context.channel_id,
            response_url=modal_context.response_url,
        ),
        team_id=requester.team_id,
        claimed=decision.claimed,
    )


def register(app: AsyncApp) -> None:
    """Wire the modal's provider switch and its submission."""
    app.action(PROVIDER_ACTION)(switch_provider)
    app.view(views.MODAL_CALLBACK_ID)(submit_resend)
