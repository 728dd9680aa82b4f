"""Pressing a button in a message by typing its text, confirmation dialog included.

The newest message @ana can see with a button of that text wins. A button with a
``confirm`` dialog asks first; the press is then sent to the bot as Slack sends it
(``block_actions`` with the message, or with the ephemeral container). A modal the
press opens ("Corregir y reenviar") is filled in like any other.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from devkit.demo.context import DemoContext, DemoPart
from devkit.demo.modal import ModalFiller
from devkit.demo.render import Button, buttons_in, confirm_labels, fold, render_confirm
from devkit.demo.watch import STILL_WORKING
from devkit.demo.workspace import USER_ID
from devkit.localslack import button_action

__all__ = ["ButtonPresser", "Pressable"]

#: Answers to a confirmation dialog that mean yes (besides its own confirm label); Enter
#: alone too, unless the dialog's confirm is styled ``danger`` (then Enter means no).
_YES = frozenset({"s", "si", "y", "yes", "ok"})
#: ... and no (besides its deny label).
_NO = frozenset({"n", "no"})


@dataclass(frozen=True)
class Pressable:
    """A button in a message the agent can see, with where that message is."""

    button: Button
    channel_id: str
    message_ts: str
    message: dict[str, Any] | None
    ephemeral: bool
    shown_at: float


class ButtonPresser(DemoPart):
    """Finds buttons by their text, asks their confirmation, and presses them."""

    def __init__(self, context: DemoContext, *, modal: ModalFiller | None = None) -> None:
        super().__init__(context)
        #: Fills in a modal a button opens.
        self.modal = modal
        #: The button whose confirmation dialog is open, if any.
        self.confirming: Pressable | None = None

    def prompt(self) -> str | None:
        """The text before the cursor while a confirmation dialog is open, else None."""
        if self.confirming is None or self.confirming.button.confirm is None:
            return None
        yes, no = confirm_labels(self.confirming.button.confirm)
        default = "n" if _risky(self.confirming.button.confirm) else "s"
        return f"¿{yes}? (s = {yes}, n = {no}) [{default}]: "

    def find(self, typed: str) -> Pressable | None:
        """The newest visible button whose text is ``typed`` (brackets, case, accents aside)."""
        wanted = fold(typed.strip().strip("[]"))
        if not wanted:
            return None
        names = self.workspace.names()
        found = [
            Pressable(
                button, channel_id, ts, message, ephemeral=message is None, shown_at=float(ts)
            )
            for channel_id, ts, blocks, message in self._visible_messages()
            for button in buttons_in(blocks, names)
            if fold(button.label) == wanted
        ]
        return max(found, key=lambda p: p.shown_at) if found else None

    def _visible_messages(self) -> Iterator[tuple[str, str, list[Any], dict[str, Any] | None]]:
        """Each message @ana sees: channel, ``ts``, blocks, and the message as Slack sends it
        with an action (None for an ephemeral one: its press names its container instead)."""
        slack = self.workspace.slack
        for channel_id, messages in slack.messages.items():
            for message in messages:
                yield channel_id, message.ts, message.blocks, message.as_slack()
        for (channel_id, user), items in slack.ephemeral.items():
            if user == USER_ID:
                for ephemeral in items:
                    if not ephemeral.deleted:
                        yield channel_id, ephemeral.message_ts, ephemeral.blocks, None

    async def press(self, pressable: Pressable) -> None:
        """Press it: a link button says where it goes; a confirm dialog asks first."""
        if pressable.button.url:
            self.terminal.emit(f"(el botón abre {pressable.button.url} en el navegador)")
        if pressable.button.confirm is not None:
            self.confirming = pressable
            self.terminal.emit(render_confirm(pressable.button.confirm, self.workspace.names()))
            return
        await self._send(pressable)

    async def answer_confirm(self, text: str) -> None:
        """The typed line answers the open confirmation dialog."""
        pressable = self.confirming
        assert pressable is not None
        assert pressable.button.confirm is not None
        yes, no = confirm_labels(pressable.button.confirm)
        word = fold(text)
        if not word:
            word = "n" if _risky(pressable.button.confirm) else "s"
        if word in _YES or word == fold(yes):
            self.confirming = None
            await self._send(pressable)
        elif word in _NO or word == fold(no):
            self.confirming = None
            self.terminal.emit(f"«{no}»: no se envió nada al bot.")
        else:
            self.terminal.reject(f"Responder «s» ({yes}) o «n» ({no}).")

    async def _send(self, pressable: Pressable) -> None:
        sender = self.outbox.sender
        button = pressable.button
        container = None
        if pressable.ephemeral:
            container = {
                "type": "message",
                "message_ts": pressable.message_ts,
                "channel_id": pressable.channel_id,
                "is_ephemeral": True,
            }
        before = self.watcher.fingerprint()
        views_before = set(self.workspace.slack.views)

        def opened() -> list[str]:
            handled = self.modal.handled_views if self.modal else set()
            return [v for v in self.workspace.slack.views if v not in views_before | handled]

        response = await self.outbox.deliver(
            lambda: sender.block_actions(
                user_id=USER_ID,
                actions=[
                    button_action(
                        button.action_id, button.value, block_id=button.block_id, text=button.label
                    )
                ],
                channel_id=pressable.channel_id,
                message=pressable.message,
                container=container,
            ),
            f"El botón [{button.label}]",
        )
        if response is None:
            return
        settled = await self.watcher.settle(
            before,
            limit=self.context.outcome_timeout,
            expect_change=True,
            done=lambda: bool(opened()),
        )
        if opened() and self.modal is not None:
            self.modal.open(opened()[-1])
        elif not settled:
            self.terminal.emit(STILL_WORKING)


def _risky(confirm: Mapping[str, Any]) -> bool:
    """A dialog whose confirm is styled ``danger``: Enter alone must not say yes."""
    return confirm.get("style") == "danger"
