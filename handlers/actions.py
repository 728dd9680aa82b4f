"""Buttons in outcome messages: "Reintentar" re-runs the same job with the same key."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot import strings, views
from bot.admission import Proceed, Refuse, Requester
from bot.delivery import ChannelMessageRef, Destination, MessageRef, ResponseUrlRef
from bot.jobs import ResendJob
from bot.services import services_of

log = structlog.get_logger(__name__)


def _message_ref(body: dict[str, Any]) -> MessageRef | None:
    container = body.get("container") or {}
    if container.get("channel_id") and container.get("message_ts"):
        return ChannelMessageRef(channel_id=container["channel_id"], ts=container["message_ts"])
    if body.get("response_url"):
        return ResponseUrlRef(response_url=body["response_url"])
    return None


async def retry_resend(
    ack: AsyncAck,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """Retry the job carried by the button, updating the same message."""
    await ack()
    try:
        job = ResendJob.from_button_value(str(action.get("value", "")))
    except ValueError:
        log.warning("retry_button_unreadable")
        await respond(text=strings.RETRY_EXPIRED, response_type="ephemeral", replace_original=False)
        return
    user_id = body["user"]["id"]
    log.info("retry_requested", retried_by=user_id, idempotency_key=job.idempotency_key)
    container = body.get("container") or {}
    destination = Destination(
        user_id=user_id,
        channel_id=container.get("channel_id") or (body.get("channel") or {}).get("id"),
        response_url=body.get("response_url"),
    )
    services = services_of(context)
    requester = Requester(
        user_id=user_id,
        channel_id=destination.channel_id,
        team_id=(body.get("team") or {}).get("id"),
    )
    # The button's confirm dialog is the explicit "send it again": duplicates are allowed.
    decision = await services.gatekeeper.review(job, requester, confirmed=True)
    if isinstance(decision, Refuse):
        await respond(text=decision.message, response_type="ephemeral", replace_original=False)
        return
    claimed = isinstance(decision, Proceed) and decision.claimed
    await services.workflow.run(
        job,
        destination,
        team_id=requester.team_id,
        existing=_message_ref(body),
        claimed=claimed,
    )


def register(app: AsyncApp) -> None:
    """Wire the outcome message's buttons."""
    app.action(views.RETRY_ACTION)(retry_resend)
