"""Buttons in outcome messages: "Reintentar" re-runs the same job with the same key;
"Corregir y reenviar" reopens the modal with the invoice; "Descargar PDF" is a link."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.response import BoltResponse

from bot.jobs import ResendJob
from bot.resend.admission import Refuse
from bot.resend.core import Accepted, Origin
from bot.services import services_of
from bot.slack.delivery import ChannelMessageRef, MessageRef, ResponseUrlRef
from bot.surfaces.access import requester_of
from bot.surfaces.modal import open_resend_modal
from bot.ui import strings
from bot.ui.forms import form_for
from bot.ui.outcome import FIX_ACTION, PDF_ACTION, RETRY_ACTION
from bot.ui.resend_modal import ModalContext

log = structlog.get_logger(__name__)

#: Where `carried_job` leaves the button's job.
JOB_KEY: Final = "reenviar_job"


def _message_ref(body: dict[str, Any]) -> MessageRef | None:
    container = body.get("container") or {}
    channel_id = str(container.get("channel_id") or "")
    if channel_id and container.get("message_ts"):
        # A button in the bot's DM: the outcome went there because the channel was out of reach.
        return ChannelMessageRef(
            channel_id=channel_id, ts=container["message_ts"], via_dm=channel_id.startswith("D")
        )
    if body.get("response_url"):
        return ResponseUrlRef(response_url=body["response_url"])
    return None


async def carried_job(
    ack: AsyncAck,
    action: dict[str, Any],
    context: AsyncBoltContext,
    next: Callable[[], Awaitable[None]],  # Bolt injects middleware arguments by name
) -> BoltResponse | None:
    """A listener middleware: the job the button carries, in the context as ``job``;
    an expired or tampered one is answered, to the clicker only, and goes no further."""
    try:
        context[JOB_KEY] = ResendJob.from_button_value(
            str(action.get("value", "")), services_of(context).registry
        )
    except ValueError:
        log.warning("button_value_unreadable", action_id=action.get("action_id"))
        if context.respond is not None:
            # After the ack, which goes out when this middleware returns.
            services_of(context).inflight.spawn(
                context.respond(
                    text=strings.RETRY_EXPIRED, response_type="ephemeral", replace_original=False
                )
            )
        return await ack()
    await next()
    return None


async def retry_resend(
    ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
) -> None:
    """Retry the job carried by the button, updating the same message."""
    await ack()
    services = services_of(context)
    job: ResendJob = context[JOB_KEY]
    user_id = requester_of(context).user_id
    log.info("retry_requested", retried_by=user_id, idempotency_key=job.idempotency_key)
    container = body.get("container") or {}
    # The re-send belongs to the channel where it was asked for, even when its outcome
    # landed in a DM because the bot could not post there: access and fallbacks use it.
    origin = Origin(
        user_id=user_id,
        team_id=context.team_id,
        channel_id=job.origin_channel_id or container.get("channel_id") or context.channel_id,
        response_url=body.get("response_url"),
        thread_ts=job.origin_thread_ts,
    )
    decision = await services.core.retry(job, origin, existing=_message_ref(body))
    if isinstance(decision, Accepted):
        await decision.run()
        return
    if isinstance(decision, Refuse):
        text = decision.message
    else:
        holder = decision.insight.recent.user_id if decision.insight.recent else user_id
        text = strings.RETRY_IN_PROGRESS.format(user=f"<@{holder}>")
    await respond(text=text, response_type="ephemeral", replace_original=False)


async def fix_and_resend(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    """Reopen the modal prefilled with the failed invoice, to correct it and send again."""
    await ack()
    job: ResendJob = context[JOB_KEY]
    container = body.get("container") or {}
    form = form_for(job.request, services_of(context).registry)
    modal_context = ModalContext(
        channel_id=job.origin_channel_id or container.get("channel_id"),
        response_url=body.get("response_url"),
        thread_ts=job.origin_thread_ts,
    )
    await open_resend_modal(form, modal_context, trigger_id=body["trigger_id"], context=context)


async def pdf_link_clicked(ack: AsyncAck) -> None:
    """The PDF button is a link the browser opens; Slack still expects an ack."""
    await ack()


def register(app: AsyncApp) -> None:
    """Wire the outcome message's buttons."""
    app.action(RETRY_ACTION, middleware=[carried_job])(retry_resend)
    app.action(FIX_ACTION, middleware=[carried_job])(fix_and_resend)
    app.action(PDF_ACTION)(pdf_link_clicked)
