"""The "Reintentar" buttons: the outcome message's own, and the clicker's confirmation
when the invoice was re-sent after the attempt it repeats (`bot.ui.retry_prompt`).

A retry is a new decision (`ResendCore.retry`): it goes ahead and updates the outcome
message in place, or the clicker alone is told why not, or what to confirm.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from slack_bolt.async_app import AsyncBoltContext, AsyncRespond

from bot.jobs import ResendJob
from bot.resend.admission import ConfirmRetry, Refuse
from bot.resend.core import Accepted, Origin
from bot.services import services_of
from bot.slack.delivery import ChannelMessageRef, MessageRef, ResponseUrlRef
from bot.surfaces.access import requester_of
from bot.ui import strings
from bot.ui.retry_prompt import newer_send_prompt, prompt_choice

log = structlog.get_logger(__name__)


def message_ref(body: Mapping[str, Any]) -> MessageRef | None:
    """The message a button was pressed in, to update it in place."""
    container = body.get("container") or {}
    channel_id = str(container.get("channel_id") or "")
    if channel_id and container.get("message_ts") and not container.get("is_ephemeral"):
        # A button in the bot's DM: the outcome went there because the channel was out of reach.
        return ChannelMessageRef(
            channel_id=channel_id, ts=container["message_ts"], via_dm=channel_id.startswith("D")
        )
    if body.get("response_url") and not container.get("is_ephemeral"):
        return ResponseUrlRef(response_url=body["response_url"])
    return None


def _location(ref: MessageRef | None) -> dict[str, str] | None:
    """Where the outcome message is, as the prompt's button carries it."""
    if isinstance(ref, ChannelMessageRef):
        return {"channel": ref.channel_id, "ts": ref.ts, **({"dm": "1"} if ref.via_dm else {})}
    if isinstance(ref, ResponseUrlRef):
        return {"response_url": ref.response_url}
    return None


def _ref_at(location: Mapping[str, str]) -> MessageRef | None:
    if location.get("channel") and location.get("ts"):
        return ChannelMessageRef(
            channel_id=location["channel"], ts=location["ts"], via_dm="dm" in location
        )
    if location.get("response_url"):
        return ResponseUrlRef(response_url=location["response_url"])
    return None


async def retry_pressed(
    job: ResendJob,
    body: Mapping[str, Any],
    value: str,
    respond: AsyncRespond,
    context: AsyncBoltContext,
) -> None:
    """Decide on the retry of ``job`` a button asked for (already acked), and run it or
    answer the clicker only."""
    services = services_of(context)
    user_id = requester_of(context).user_id
    choice = prompt_choice(value)
    from_prompt = choice.seen is not None
    existing = _ref_at(choice.message) if choice.message else message_ref(body)
    log.info(
        "retry_requested",
        retried_by=user_id,
        idempotency_key=job.idempotency_key,
        confirmed_newer=choice.seen,
    )
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
    decision = await services.core.retry(job, origin, existing=existing, seen=choice.seen)
    if isinstance(decision, Accepted):
        if from_prompt:
            # The prompt has been answered: take it away (it is the clicker's alone).
            services.inflight.spawn(respond(delete_original=True))
        await decision.run()
        return
    if isinstance(decision, ConfirmRetry):
        prompt = newer_send_prompt(
            job,
            decision.newer,
            mark=decision.mark,
            message=_location(existing),
            now=datetime.now(UTC),
        )
        await respond(
            text=prompt.text,
            blocks=prompt.blocks,
            response_type="ephemeral",
            replace_original=from_prompt,
        )
        return
    if isinstance(decision, Refuse):
        text = decision.message
    else:
        holder = decision.insight.recent.user_id if decision.insight.recent else user_id
        text = strings.RETRY_IN_PROGRESS.format(user=f"<@{holder}>")
    await respond(text=text, response_type="ephemeral", replace_original=False)
