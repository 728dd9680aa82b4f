"""Following the workspace while the bot works: show what changed, wait until it settles.

The bot answers Slack at once and finishes later (it posts "re-sending…", then
replaces it with the outcome). `Watcher` shows each message that is new or changed
since it was last shown, and `Watcher.settle` keeps doing so until the workspace is
quiet and no "re-sending" message is left, within a time limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Final

from devkit.demo.render import looks_in_progress
from devkit.demo.terminal import Terminal
from devkit.demo.workspace import USER_ID, DemoWorkspace

__all__ = ["POLL_SECONDS", "STILL_WORKING", "Fingerprint", "Watcher"]

#: How often the workspace is looked at while waiting.
POLL_SECONDS: Final = 0.05
#: The workspace counts as quiet after this long without a change.
_QUIET_SECONDS: Final = 0.25
#: Shown when the wait for an outcome ends while the bot is still working.
STILL_WORKING: Final = "(el bot sigue trabajando; el resultado va a aparecer acá cuando llegue)"

Fingerprint = tuple[Any, ...]


class Watcher:
    """Shows the agent what changed in the workspace since it was last shown."""

    def __init__(
        self, workspace: DemoWorkspace, terminal: Terminal, check_alive: Callable[[], None]
    ) -> None:
        self.workspace = workspace
        self.terminal = terminal
        self.check_alive = check_alive
        self._seen: dict[tuple[Any, ...], str] = {}

    def fingerprint(self) -> Fingerprint:
        """What the agent can see in the workspace (messages, ephemerals), for change checks."""
        slack = self.workspace.slack
        messages = tuple(
            (channel, m.ts, m.edited_ts, m.text, repr(m.blocks))
            for channel, items in slack.messages.items()
            for m in items
        )
        ephemeral = tuple(
            (key, tuple((e.text, repr(e.blocks), e.replaced, e.deleted) for e in items))
            for key, items in slack.ephemeral.items()
        )
        return (messages, ephemeral)

    def in_progress(self, before: Fingerprint) -> bool:
        """Whether a message that appeared or changed since ``before`` says "re-sending…"."""
        slack = self.workspace.slack
        old_messages = set(before[0])
        for channel, items in slack.messages.items():
            for m in items:
                shape = (channel, m.ts, m.edited_ts, m.text, repr(m.blocks))
                if shape not in old_messages and looks_in_progress(m.blocks):
                    return True
        old_ephemeral = dict(before[1])
        for key, ephemerals in slack.ephemeral.items():
            if key[1] != USER_ID:
                continue
            for e in ephemerals[len(old_ephemeral.get(key, ())) :]:
                if not e.deleted and looks_in_progress(e.blocks):
                    return True
        return False

    def emit_changes(self) -> None:
        """Render every message that is new or changed since it was last shown."""
        slack = self.workspace.slack
        terminal = self.terminal
        for channel_id, messages in list(slack.messages.items()):
            for message in list(messages):
                rendered = terminal.channel_message(channel_id, message)
                key: tuple[Any, ...] = ("message", channel_id, message.ts)
                if self._seen.get(key) != rendered:
                    self._seen[key] = rendered
                    terminal.emit(rendered)
        for (channel_id, user), items in list(slack.ephemeral.items()):
            if user != USER_ID:
                continue
            for index, ephemeral in enumerate(list(items)):
                if ephemeral.deleted:
                    continue
                rendered = terminal.ephemeral_message(channel_id, ephemeral)
                key = ("ephemeral", channel_id, index)
                if self._seen.get(key) != rendered:
                    self._seen[key] = rendered
                    terminal.emit(rendered)

    async def settle(
        self,
        before: Fingerprint,
        *,
        limit: float,
        expect_change: bool,
        done: Callable[[], bool] | None = None,
    ) -> bool:
        """Show changes as they come until the workspace is quiet and nothing is in progress.

        Bounded by ``limit`` seconds; True when it settled (or ``done()`` held), else False.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        last = self.fingerprint()
        quiet_since = loop.time()
        while True:
            self.check_alive()
            current = self.fingerprint()
            if current != last:
                last, quiet_since = current, loop.time()
                self.emit_changes()
            if done is not None and done():
                self.emit_changes()
                return True
            quiet = loop.time() - quiet_since >= _QUIET_SECONDS
            settled = quiet and not self.in_progress(before)
            if (current != before or not expect_change) and settled:
                self.emit_changes()
                return True
            if loop.time() >= deadline:
                self.emit_changes()
                return False
            await asyncio.sleep(POLL_SECONDS)
