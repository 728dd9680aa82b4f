"""Slack's requests to the bot under demo, and what Slack shows when one fails.

Requests are signed as Slack signs them (`devkit.localslack.SlackEventSender`) and given
Slack's 3 s to be answered; a request the bot does not answer in time, or answers
with an error, is reported the way Slack reports it to the person who clicked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Final

import httpx

from devkit.demo.terminal import Terminal
from devkit.localslack import FakeSlackWebAPI, SenderResponse, SlackEventSender

__all__ = ["SLACK_ACK_SECONDS", "Outbox"]

#: Slack gives an app 3 s to answer a request; later answers are discarded.
SLACK_ACK_SECONDS: Final = 3.0


class Outbox:
    """Sends Slack's requests to the bot; shows Slack's error when one fails."""

    def __init__(self, terminal: Terminal, check_alive: Callable[[], None]) -> None:
        self.terminal = terminal
        self.check_alive = check_alive
        self._sender: SlackEventSender | None = None

    def connect(self, events_url: str, signing_secret: str, slack: FakeSlackWebAPI) -> None:
        """Send to ``events_url`` from now on, signed with ``signing_secret``."""
        self._sender = SlackEventSender(
            events_url, signing_secret, slack, timeout=SLACK_ACK_SECONDS
        )

    @property
    def sender(self) -> SlackEventSender:
        """What builds and signs the requests."""
        if self._sender is None:
            raise RuntimeError("the demo session is not started")
        return self._sender

    async def aclose(self) -> None:
        """Close the HTTP client (idempotent, never raises)."""
        if self._sender is not None:
            with contextlib.suppress(Exception):
                await self._sender.aclose()

    async def deliver(
        self, send: Callable[[], Awaitable[SenderResponse]], what: str
    ) -> SenderResponse | None:
        """Send one request to the bot as Slack would; None (and Slack's error) on failure."""
        try:
            response = await send()
        except httpx.TimeoutException:
            self.check_alive()
            self.terminal.slack_error(
                f"{what} falló con el error «operation_timeout»: la app no respondió en "
                f"{SLACK_ACK_SECONDS:.0f} s."
            )
            return None
        except httpx.TransportError as exc:
            self.check_alive()
            self.terminal.slack_error(
                f"{what} falló con el error «dispatch_failed» ({type(exc).__name__})."
            )
            return None
        if response.status != 200:
            self.terminal.slack_error(
                f"{what} falló con el error «dispatch_failed» (la app respondió HTTP "
                f"{response.status})."
            )
            return None
        return response
