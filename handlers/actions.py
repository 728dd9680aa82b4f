"""Buttons in outcome messages: "Reintentar" decides again on the same job (same key),
asking the clicker first when the invoice was re-sent since; "Corregir y reenviar"
reopens the modal with the invoice; "Descargar PDF" is a link."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_bolt.response import BoltResponse

from bot.jobs import ResendJob
from bot.services import services_of
from bot.surfaces.modal import open_resend_modal
from bot.surfaces.retry import retry_pressed
from bot.ui import strings
from bot.ui.forms import form_for
from bot.ui.outcome import FIX_ACTION, PDF_ACTION, RETRY_ACTION
from bot.ui.resend_modal import ModalContext
from bot.ui.retry_prompt import RETRY_ANYWAY_ACTION

log = structlog.get_logger(__name__)

#: Where `carried_job` leaves the button's job.
JOB_KEY: Final = "reenviar_job"


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
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """Retry the job carried by the button (or by the clicker's confirmation of a newer
    send), updating the outcome message."""
    await ack()
    await retry_pressed(context[JOB_KEY], body, str(action.get("value", "")), respond, context)


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
    app.action(RETRY_ANYWAY_ACTION, middleware=[carried_job])(retry_resend)
    app.action(FIX_ACTION, middleware=[carried_job])(fix_and_resend)
    app.action(PDF_ACTION)(pdf_link_clicked)
