"""The App Home: the agent's own last attempts, a button that opens the modal, the help.

Published (``views.publish``) each time the agent opens the Home tab
(``app_home_opened``, through the Events API in HTTP mode or Socket Mode). Only the
agent's own attempts are listed, from the history store; a store that cannot answer
shows a one-line notice instead. A re-send started here has no channel: its outcome
goes to the agent's DM with the bot, and the access rules are the same as anywhere.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import structlog
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot import deadlines
from bot.history.failures import StoreUnavailableError
from bot.history.records import AttemptRecord
from bot.resend.access import Refusal
from bot.resend.admission import Requester
from bot.services import Services, services_of
from bot.slack.client import SLACK_FAILURES, slack_error
from bot.slack.permalinks import PermalinkCache
from bot.surfaces.access import requester_of, require_access
from bot.surfaces.modal import open_resend_modal, usual_provider_of
from bot.ui import strings
from bot.ui.home_tab import HOME_OPEN_ACTION, home_view
from bot.ui.resend_modal import FormState, ModalContext

log = structlog.get_logger(__name__)

#: How many of the agent's attempts the Home lists.
ATTEMPTS_SHOWN: Final = 20


class Home:
    """Publishes an agent's Home; remembers the links to outcome messages it showed."""

    def __init__(self) -> None:
        self._links = PermalinkCache()

    async def opened(self, event: dict[str, Any], context: AsyncBoltContext) -> None:
        """``app_home_opened``: publish the Home tab (not for the Messages tab)."""
        if event.get("tab", "home") != "home":
            return
        await self.publish(requester_of(context), services_of(context))

    async def open_modal(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """The "Reenviar una factura" button: the modal, for an agent who may re-send."""
        await ack()
        services = services_of(context)
        requester = requester_of(context)
        async with services.inflight.track():
            usual = await usual_provider_of(requester.user_id, services)
            opened = await open_resend_modal(
                FormState(provider=usual),
                ModalContext(),
                trigger_id=body["trigger_id"],
                context=context,
            )
        if not opened:
            log.warning("home_modal_not_opened", user=requester.user_id)

    async def show_refusal(
        self, context: AsyncBoltContext, requester: Requester, refusal: Refusal
    ) -> None:
        """The Home says why the agent may not re-send, in place of the button."""
        await self.publish(requester, services_of(context), refusal=refusal)

    async def publish(
        self, requester: Requester, services: Services, *, refusal: Refusal | None = None
    ) -> None:
        """Build the agent's Home from the history and publish it."""
        user_id = requester.user_id
        if refusal is None:
            refusal = await services.gatekeeper.check_access(requester)
        records = await _attempts(services, user_id)
        located = {
            record.attempt_id: (record.message_channel, record.message_ts)
            for record in records or []
            if record.message_channel and record.message_ts
        }
        links, agent_tz = await asyncio.gather(
            self._links.links(services.client, located.values(), within=deadlines.HOME_LINKS),
            services.directory.timezone(user_id),
        )
        view = home_view(
            records,
            registry=services.registry,
            links={key: links[where] for key, where in located.items() if where in links},
            agent_tz=agent_tz,
            refusal=_why_not(refusal),
        )
        try:
            await services.client.views_publish(user_id=user_id, view=view)
        except SLACK_FAILURES as exc:
            log.warning("slack_views_publish_failed", user=user_id, error=slack_error(exc))


async def _attempts(services: Services, user_id: str) -> list[AttemptRecord] | None:
    """The agent's latest attempts, newest first; None when the history cannot answer."""
    try:
        return await asyncio.wait_for(
            services.store.attempts_by(user_id, limit=ATTEMPTS_SHOWN), deadlines.HOME_HISTORY
        )
    except (StoreUnavailableError, TimeoutError) as exc:
        log.error("history_read_failed", surface="home", error=str(exc)[:200] or "timeout")
        return None


def _why_not(refusal: Refusal | None) -> str | None:
    """What the Home says in place of the button; with channels restricted, a re-send
    started here (without a channel) is never allowed, so it says where to go instead."""
    if refusal is None:
        return None
    if refusal.code == "channel_not_allowed":
        return strings.HOME_CHANNEL_REQUIRED
    return refusal.message


def register(app: AsyncApp) -> None:
    """Wire the Home tab and its button."""
    home = Home()
    app.event("app_home_opened")(home.opened)
    app.action(HOME_OPEN_ACTION, middleware=[require_access(tell=home.show_refusal)])(
        home.open_modal
    )
