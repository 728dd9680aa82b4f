"""Getting a message in front of people, whatever Slack says.

An outcome is never lost: the channel first; if the bot cannot post there
(``not_in_channel``, ``channel_not_found``, ``is_archived``, or any other
refusal) the command's ``response_url`` (visible in the channel); failing that,
a DM to the agent. Slack's 429s are retried by slack-sdk's retry handler.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import structlog
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import deadlines
from bot.metrics import Metrics
from bot.slack.client import SLACK_FAILURES, slack_error
from bot.ui.blocks import SlackMessage
from bot.ui.outcome import with_dm_notice

log = structlog.get_logger(__name__)

#: Channel errors after which the response_url is the way in, as the brief names them.
EXPECTED_CHANNEL_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived"})


@dataclass(frozen=True)
class Destination:
    """Where a message may go: the channel, the command's response_url, the agent's DM."""

    #: The agent to DM as a last resort; None for announcements nobody must get by DM.
    user_id: str | None = None
    channel_id: str | None = None
    response_url: str | None = None
    #: Post in this thread of the channel (a message shortcut's); the other routes have none.
    thread_ts: str | None = None

    @property
    def dm_only(self) -> bool:
        """The agent's DM is the only route (the App Home, a workflow step without a
        channel): a DM there is no fallback, so it carries no "could not post" notice."""
        return self.channel_id is None and self.response_url is None


@dataclass(frozen=True)
class ChannelMessageRef:
    """A message the bot posted with chat.postMessage; updated with chat.update."""

    channel_id: str
    ts: str
    #: Posted in the agent's DM because the channel was out of reach: keep the notice.
    via_dm: bool = False


@dataclass(frozen=True)
class ResponseUrlRef:
    """A message posted through a response_url; replaced through the same URL."""

    response_url: str


MessageRef = ChannelMessageRef | ResponseUrlRef


class Delivery:
    """Posts and updates messages with the fallbacks above."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        webhook_timeout: float = deadlines.RESPONSE_URL,
        metrics: Metrics | None = None,
    ) -> None:
        self._client = client
        self._webhook_timeout = webhook_timeout
        self._metrics = metrics or Metrics()

    async def post(
        self,
        destination: Destination,
        message: SlackMessage,
        *,
        within: float = deadlines.SLACK_CALL,
    ) -> MessageRef | None:
        """Post a new message; returns where it landed, or None if every route failed.
        ``within``: how long the channel may take before the next route is tried (an
        outcome the agent waits for: `deadlines.SLACK_DELIVERY`)."""
        if destination.channel_id:
            ref = await self._post_to_channel(
                destination.channel_id, message, thread_ts=destination.thread_ts, within=within
            )
            if ref is not None:
                return ref
        if destination.response_url:
            ref = await self._send_to_response_url(destination.response_url, message)
            if ref is not None:
                if destination.channel_id:
                    self._metrics.delivery_fallbacks.labels(route="response_url").inc()
                return ref
        return await self._post_to_dm(destination, message)

    async def replace(
        self,
        ref: MessageRef | None,
        destination: Destination,
        message: SlackMessage,
        *,
        within: float = deadlines.SLACK_CALL,
    ) -> MessageRef | None:
        """Replace an earlier message in place; if that fails, post it anew (``within``:
        as for `post`, for the update and the post alike)."""
        if isinstance(ref, ChannelMessageRef):
            shown = with_dm_notice(message, destination.channel_id) if ref.via_dm else message
            try:
                await asyncio.wait_for(
                    self._client.chat_update(
                        channel=ref.channel_id, ts=ref.ts, text=shown.text, blocks=shown.blocks
                    ),
                    within,
                )
                return ref
            except SLACK_FAILURES as exc:
                log.warning("slack_update_failed", channel=ref.channel_id, error=slack_error(exc))
        elif isinstance(ref, ResponseUrlRef):
            replaced = await self._send_to_response_url(
                ref.response_url, message, replace_original=True
            )
            if replaced is not None:
                return replaced
        # The original is out of reach: post the outcome as a new message instead.
        if isinstance(ref, ChannelMessageRef) and destination.response_url:
            replaced = await self._send_to_response_url(
                destination.response_url, message, replace_original=True
            )
            if replaced is not None:
                self._metrics.delivery_fallbacks.labels(route="response_url").inc()
                return replaced
            destination = replace(destination, response_url=None)
        return await self.post(destination, message, within=within)

    def _webhook(self, response_url: str) -> AsyncWebhookClient:
        """A response_url client on the Web API client's shared session, when it has one."""
        return AsyncWebhookClient(
            response_url,
            timeout=max(1, round(self._webhook_timeout)),
            session=self._client.session,
        )

    async def retire(self, ref: MessageRef, *, attempts: int = 4, first_wait: float = 1.0) -> bool:
        """Remove a message that is no longer true (a stale "re-sending…"), retrying with
        backoff while Slack refuses; True once it is gone."""
        wait = first_wait
        for attempt in range(1, attempts + 1):
            try:
                if isinstance(ref, ChannelMessageRef):
                    await self._client.chat_delete(channel=ref.channel_id, ts=ref.ts)
                    return True
                webhook = self._webhook(ref.response_url)
                response = await webhook.send_dict({"delete_original": True})
                if response.status_code == 200:
                    return True
                error = f"HTTP {response.status_code}"
            except SLACK_FAILURES as exc:
                error = slack_error(exc)
                if error == "message_not_found":
                    return True
            log.warning("slack_retire_failed", attempt=attempt, error=error)
            if attempt < attempts:
                await asyncio.sleep(wait)
                wait *= 3
        log.error("slack_stale_message_left", ref=repr(ref)[:200])
        return False

    async def _post_to_channel(
        self,
        channel_id: str,
        message: SlackMessage,
        *,
        thread_ts: str | None = None,
        within: float = deadlines.SLACK_CALL,
    ) -> MessageRef | None:
        try:
            response = await asyncio.wait_for(
                self._client.chat_postMessage(
                    channel=channel_id,
                    text=message.text,
                    blocks=message.blocks,
                    unfurl_links=False,
                    thread_ts=thread_ts,
                ),
                within,
            )
        except SLACK_FAILURES as exc:
            error = slack_error(exc)
            level = "info" if error in EXPECTED_CHANNEL_ERRORS else "warning"
            getattr(log, level)("slack_channel_post_failed", channel=channel_id, error=error)
            return None
        return ChannelMessageRef(channel_id=str(response["channel"]), ts=str(response["ts"]))

    async def _send_to_response_url(
        self, response_url: str, message: SlackMessage, *, replace_original: bool = False
    ) -> MessageRef | None:
        webhook = self._webhook(response_url)
        try:
            response = await webhook.send(
                text=message.text,
                blocks=message.blocks,
                response_type="in_channel",
                replace_original=replace_original,
            )
        except Exception as exc:  # any network failure means: try the next route
            log.warning("slack_response_url_failed", error=type(exc).__name__)
            return None
        if response.status_code != 200:
            log.warning(
                "slack_response_url_failed", status=response.status_code, body=response.body[:100]
            )
            return None
        return ResponseUrlRef(response_url=response_url)

    async def _post_to_dm(
        self, destination: Destination, message: SlackMessage
    ) -> MessageRef | None:
        if destination.user_id is None:
            self._metrics.delivery_losses.inc()
            log.error(
                "slack_delivery_lost", channel=destination.channel_id, text=message.text[:200]
            )
            return None
        dm_only = destination.dm_only
        dm_message = message if dm_only else with_dm_notice(message, destination.channel_id)
        # Posting to a user id lands in the bot's DM with that user (needs only chat:write).
        # The last route: it gets Slack's whole call time, retries included.
        ref = await self._post_to_channel(destination.user_id, dm_message)
        if ref is None:
            self._metrics.delivery_losses.inc()
            log.error("slack_delivery_lost", user=destination.user_id, text=message.text[:200])
            return None
        if dm_only:
            return ref
        self._metrics.delivery_fallbacks.labels(route="dm").inc()
        return replace(ref, via_dm=True) if isinstance(ref, ChannelMessageRef) else ref
