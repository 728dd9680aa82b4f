"""Who is asking, and whether they may re-send: one listener middleware for every surface.

A surface declares it (``app.command(..., middleware=[require_access()])``) and its
listener runs only for an agent the access rules let in; it then reads who asked
with `requester_of`. A refused agent is told why (a command's ack carries the reason;
elsewhere the surface says it its own way, after the ack) and the refusal is audited.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final

from slack_bolt.async_app import AsyncAck, AsyncBoltContext
from slack_bolt.response import BoltResponse

from bot.resend.access import Refusal
from bot.resend.admission import Requester
from bot.services import services_of
from bot.ui import strings

#: Where the middleware leaves the requester it let in.
REQUESTER_KEY: Final = "reenviar_requester"

#: How a surface tells a refused agent why, after the ack.
RefusalReply = Callable[[AsyncBoltContext, Requester, Refusal], Coroutine[Any, Any, None]]
Middleware = Callable[..., Awaitable[BoltResponse | None]]


def requester_of(context: AsyncBoltContext) -> Requester:
    """Who sent this request: the one `require_access` let in, else as Bolt read it
    from the payload (user, channel, workspace)."""
    admitted = context.get(REQUESTER_KEY)
    if isinstance(admitted, Requester):
        return admitted
    return Requester(
        user_id=str(context.user_id or ""),
        channel_id=context.channel_id,
        team_id=context.team_id,
    )


async def tell_ephemerally(
    context: AsyncBoltContext, _requester: Requester, refusal: Refusal
) -> None:
    """The reason, only to the agent, through the request's ``response_url``."""
    if context.respond is not None:
        await context.respond(
            text=strings.REFUSED_PREFIX + refusal.message,
            response_type="ephemeral",
            replace_original=False,
        )


def require_access(*, tell: RefusalReply = tell_ephemerally) -> Middleware:
    """A listener middleware: the listener runs only if the requester may re-send.

    The check is bounded (a slow user group lookup lets the request through, and the
    submission checks again), so the ack still comes well within Slack's 3 s."""

    async def may_resend(
        ack: AsyncAck,
        body: dict[str, Any],
        context: AsyncBoltContext,
        next: Callable[[], Awaitable[None]],  # Bolt injects middleware arguments by name
    ) -> BoltResponse | None:
        services = services_of(context)
        requester = requester_of(context)
        refusal = await services.gatekeeper.check_access(requester)
        if refusal is None:
            context[REQUESTER_KEY] = requester
            await next()
            return None
        services.gatekeeper.refuse_command(requester, refusal, str(body.get("text") or ""))
        if body.get("command"):
            # A command's ack can carry the answer, so the agent reads it at once.
            return await ack(text=strings.REFUSED_PREFIX + refusal.message)
        services.inflight.spawn(tell(context, requester, refusal))
        return await ack()

    return may_resend
