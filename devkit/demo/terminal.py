"""What the demo shows: the agent's view of the local Slack, as terminal text.

`Terminal` keeps everything shown since the last typed line (for expectations and
``poll``), passes each piece to the output as it is shown, and renders the
workspace's messages the way Slack shows them to @ana: where, who, when, and only
to her when ephemeral (`devkit.demo.render` does the Block Kit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from devkit.demo.render import render_message
from devkit.demo.workspace import (
    CHANNEL_ID,
    CHANNEL_NAME,
    OTHER_APPS,
    USER_NAME,
    USER_TZ,
    DemoWorkspace,
)
from devkit.localslack import EphemeralMessage, Message, SenderResponse

__all__ = ["DEMO_NOTE", "REAL_NOTE", "Output", "Terminal"]

DEMO_NOTE = "(demo: nada se envió a ningún cliente real)"
REAL_NOTE = "(demo con proveedores REALES: este reenvío pudo llegar a un cliente real)"

Output = Callable[[str], None]


class Terminal:
    """The demo's output, and how the workspace's messages read in it."""

    def __init__(self, workspace: DemoWorkspace, *, output: Output | None = None) -> None:
        self.workspace = workspace
        self.footer = REAL_NOTE if workspace.real is not None else DEMO_NOTE
        #: Why the last line was not accepted (unknown command, invalid answer), else None.
        self.rejected: str | None = None
        self._output = output
        self._recent: list[str] = []

    # ------------------------------------------------------------------ output

    @property
    def recent(self) -> list[str]:
        """Everything shown since the last typed line, in order."""
        return list(self._recent)

    def new_line(self) -> None:
        """A line was typed: what is shown from now on answers it."""
        self._recent = []

    def emit(self, text: str) -> None:
        """Show ``text``."""
        self._recent.append(text)
        if self._output is not None:
            self._output(text)

    def reject(self, why: str) -> None:
        """Refuse the typed line, saying why."""
        self.rejected = why
        self.emit(f"  ⚠ {why}")

    # ------------------------------------------------------------------ Slack, as text

    @staticmethod
    def clock(ts: str) -> str:
        """A Slack timestamp as @ana's local time of day."""
        try:
            moment = datetime.fromtimestamp(float(ts), ZoneInfo(USER_TZ))
        except (ValueError, OverflowError):
            return ""
        return moment.strftime("%H:%M:%S")

    def where(self, channel_id: str) -> str:
        """``#soporte``, or ``mensaje directo`` for a DM."""
        channel = self.workspace.slack.channels.get(channel_id)
        if channel is not None and channel.is_im:
            return "mensaje directo"
        return "#" + (channel.name if channel is not None else channel_id)

    def author(self, user: str | None, bot_id: str | None = None) -> str:
        """``reenviar (app)`` for the bot, ``Zendesk (app)`` for another app, ``@name`` for
        a member."""
        slack = self.workspace.slack
        if bot_id is not None and bot_id != slack.bot_id:
            return f"{OTHER_APPS.get(bot_id, bot_id)} (app)"
        if user in (None, slack.bot_user_id):
            return f"{slack.bot_user_name} (app)"
        member = slack.users.get(user or "")
        return "@" + (member.name if member is not None else str(user))

    def framed(self, heading: str, text: str, blocks: Sequence[Mapping[str, Any]]) -> str:
        """A message's text or blocks under ``heading``, with the demo's footer."""
        return render_message(
            heading=heading,
            text=text,
            blocks=blocks,
            names=self.workspace.names(),
            footer=self.footer,
        )

    def channel_message(self, channel_id: str, message: Message) -> str:
        """A message in a channel, framed with where (and in which thread), who and when."""
        in_thread = message.thread_ts is not None and message.thread_ts != message.ts
        heading = " · ".join(
            part
            for part in (
                self.where(channel_id),
                f"en el hilo del mensaje de las {self.clock(message.thread_ts or '')}"
                if in_thread
                else "",
                self.author(message.user, message.bot_id),
                self.clock(message.ts),
                "editado" if message.edited else "",
            )
            if part
        )
        return self.framed(heading, message.text, message.blocks)

    def ephemeral_message(self, channel_id: str, message: EphemeralMessage) -> str:
        """A message only @ana sees."""
        heading = " · ".join(
            [
                self.where(channel_id),
                self.author(None),
                self.clock(message.message_ts),
                f"solo visible para @{USER_NAME}",
            ]
        )
        return self.framed(heading, message.text, message.blocks)

    def show_ack(self, response: SenderResponse) -> bool:
        """Show a command's ack body as Slack does (only to the caller); True if any."""
        body = response.json
        if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
            text, blocks = str(body.get("text") or ""), list(body.get("blocks") or [])
        elif response.body.strip() and body is None:
            text, blocks = response.body.strip(), []
        else:
            return False
        heading = f"#{CHANNEL_NAME} · {self.author(None)} · solo visible para @{USER_NAME}"
        self.emit(self.framed(heading, text, blocks))
        return True

    def slack_error(self, what: str) -> None:
        """An error Slack itself shows to @ana (the app did not answer, or failed)."""
        heading = f"#{CHANNEL_NAME} · Slackbot · solo visible para @{USER_NAME}"
        self.emit(render_message(heading=heading, text=what, footer=self.footer))

    def show_channel(self) -> None:
        """Every message in #soporte, oldest first."""
        messages = self.workspace.slack.messages_in(CHANNEL_ID)
        if not messages:
            self.emit(f"(#{CHANNEL_NAME} no tiene mensajes todavía)")
        for message in messages:
            self.emit(self.channel_message(CHANNEL_ID, message))
