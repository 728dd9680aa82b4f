"""Re-sending from where the escalation lives, in the demo: a message's shortcut, the
App Home, and a Workflow Builder step.

- ``!mensaje …`` posts a message as @ana in #soporte and ``!ticket …`` a ticket
  notification from another app (Zendesk); ``!atajo`` then uses the "Reenviar
  factura" shortcut on the newest of them (``message_action``): the modal opens
  prefilled, and the outcome arrives in the message's thread.
- ``!inicio`` opens the bot's Home tab (``app_home_opened``) and shows what the
  bot published (``views.publish``); typing one of its buttons presses it.
- ``!flujo …`` runs the workflow step as a workflow would (``function_executed``)
  and shows how the bot ended it (``functions.completeSuccess`` / ``completeError``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from devkit.demo.context import DemoPart
from devkit.demo.modal import ModalFiller
from devkit.demo.render import Button, buttons_in, fold, render_message
from devkit.demo.watch import POLL_SECONDS, STILL_WORKING
from devkit.demo.workspace import CHANNEL_ID, TICKETS_BOT_ID, USER_ID, USER_NAME
from devkit.localslack import button_action
from devkit.localslack.functions import PENDING
from handlers.shortcut import SHORTCUT_CALLBACK_ID
from handlers.workflow_step import (
    INPUT_EMAIL,
    INPUT_PROVIDER,
    INPUT_REFERENCE,
    INPUT_USER,
    STEP_CALLBACK_ID,
)

__all__ = ["Surfaces"]

SHORTCUT_NAME: Final = "Reenviar factura"
_TICKET_NUMBER_START: Final = 4521


@dataclass(frozen=True)
class HomeButton:
    """A button in the Home tab, and the tab it is in."""

    button: Button
    view: dict[str, Any]


class Surfaces(DemoPart):
    """The shortcut, the Home tab and the workflow step, driven from typed lines."""

    def __init__(self, modal: ModalFiller) -> None:
        super().__init__(modal.context)
        #: Fills in the modal a shortcut or a button opens.
        self.modal = modal
        self._tickets = 0

    # ------------------------------------------------------------------ messages and the shortcut

    def post_message(self, text: str) -> None:
        """@ana writes ``text`` in #soporte."""
        self.workspace.slack.post_as(CHANNEL_ID, text, user=USER_ID)
        self._show_posted()

    def post_ticket(self, text: str) -> None:
        """A ticket notification from another app, with ``text`` as the customer's words."""
        number = _TICKET_NUMBER_START + self._tickets
        self._tickets += 1
        title = f"Ticket #{number}: el cliente no recibió su factura"
        self.workspace.slack.post_as(
            CHANNEL_ID,
            title,
            bot_id=TICKETS_BOT_ID,
            blocks=[
                {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}},
                {"type": "section", "text": {"type": "mrkdwn", "text": f"> {text}"}},
            ],
        )
        self._show_posted()

    def _show_posted(self) -> None:
        self.watcher.emit_changes()
        self.terminal.emit(f"(para reenviar desde este mensaje: «!atajo», «{SHORTCUT_NAME}»)")

    async def shortcut(self) -> None:
        """Use "Reenviar factura" on the newest message someone else than the bot posted."""
        slack = self.workspace.slack
        candidates = [m for m in slack.messages_in(CHANNEL_ID) if m.bot_id != slack.bot_id]
        if not candidates:
            self.terminal.reject(
                "No hay mensajes en #soporte para usar el atajo: escribir uno con "
                "«!mensaje …» o «!ticket …»."
            )
            return
        message = candidates[-1]
        self.terminal.emit(
            f"(atajo «{SHORTCUT_NAME}» en el mensaje de las {self.terminal.clock(message.ts)})"
        )
        sender = self.outbox.sender
        await self.modal.request(
            lambda: sender.message_shortcut(
                SHORTCUT_CALLBACK_ID,
                user_id=USER_ID,
                channel_id=CHANNEL_ID,
                message=message.as_slack(),
            ),
            f"El atajo «{SHORTCUT_NAME}»",
        )

    # ------------------------------------------------------------------ the Home tab

    async def home(self) -> None:
        """Open the Home tab and show what the bot published in it."""
        slack = self.workspace.slack
        published = len(slack.calls_to("views.publish"))
        response = await self.outbox.deliver(
            lambda: self.outbox.sender.event(slack.app_home_opened(USER_ID)),
            "La pestaña Inicio",
        )
        if response is None:
            return
        if not await self._until(
            lambda: len(slack.calls_to("views.publish")) > published, self.context.command_timeout
        ):
            self.terminal.emit("(el bot no publicó la pestaña Inicio)")
            return
        self.show_home()

    def show_home(self) -> None:
        """The Home tab as @ana sees it now."""
        view = self.workspace.slack.home_views.get(USER_ID)
        if view is None:
            self.terminal.emit("(la pestaña Inicio está vacía)")
            return
        heading = f"Inicio de {self.workspace.slack.bot_user_name} (app) · solo para @{USER_NAME}"
        names = self.workspace.names()
        self.terminal.emit(
            render_message(heading=heading, text="", blocks=view["blocks"], names=names)
        )

    def home_button(self, typed: str) -> HomeButton | None:
        """The Home tab's button whose text is ``typed``, if it shows one."""
        view = self.workspace.slack.home_views.get(USER_ID)
        wanted = fold(typed.strip().strip("[]"))
        if view is None or not wanted:
            return None
        for button in buttons_in(view["blocks"], self.workspace.names()):
            if fold(button.label) == wanted:
                return HomeButton(button, view)
        return None

    async def press_home_button(self, found: HomeButton) -> None:
        """Press a Home button; when it opens the modal, fill it in."""
        button, view = found.button, found.view
        sender = self.outbox.sender
        await self.modal.request(
            lambda: sender.block_actions(
                user_id=USER_ID,
                view=view,
                container={"type": "view", "view_id": view["id"]},
                actions=[
                    button_action(
                        button.action_id, button.value, block_id=button.block_id, text=button.label
                    )
                ],
            ),
            f"El botón [{button.label}]",
        )
        if not self.modal.is_open:
            self.show_home()  # the bot may have said why in the tab instead

    # ------------------------------------------------------------------ the workflow step

    async def workflow(self, words: list[str]) -> None:
        """``!flujo [proveedor] COMPROBANTE [correo]``: a workflow runs the step as @ana."""
        if not words:
            self.terminal.reject(
                "Indicar el comprobante: «!flujo lummy 550e8400-e29b-41d4-a716-446655440000», "
                "«!flujo FACTURA B 0002-00000006»."
            )
            return
        inputs: dict[str, Any] = {INPUT_USER: {"id": USER_ID, "secret": "demo"}}
        if "@" in words[-1] and len(words) > 1:
            inputs[INPUT_EMAIL] = words.pop()
        if fold(words[0]) in {"lummy", "tusfacturas", "tf"} and len(words) > 1:
            inputs[INPUT_PROVIDER] = words.pop(0)
        inputs[INPUT_REFERENCE] = " ".join(words)
        slack = self.workspace.slack
        execution, body = slack.function_executed(STEP_CALLBACK_ID, inputs)
        shown = ", ".join(f"{k}: {v}" for k, v in inputs.items() if k != INPUT_USER)
        self.terminal.emit(f"(flujo: paso «{SHORTCUT_NAME}» con {shown}; lo ejecuta @{USER_NAME})")
        before = self.watcher.fingerprint()
        response = await self.outbox.deliver(
            lambda: self.outbox.sender.post_json(body), "El paso del flujo"
        )
        if response is None:
            return
        ended = await self._until(lambda: execution.state != PENDING, self.context.outcome_timeout)
        await self.watcher.settle(before, limit=self.context.command_timeout, expect_change=False)
        if not ended:
            self.terminal.emit(STILL_WORKING)
            return
        if execution.outputs is not None:
            lines = [f"{name}: {value}" for name, value in execution.outputs.items()]
            self.terminal.emit(
                "┌─ Paso completado (functions.completeSuccess)\n│ " + "\n│ ".join(lines) + "\n└─"
            )
        else:
            self.terminal.emit(
                f"┌─ Paso fallido (functions.completeError)\n│ {execution.error}\n└─"
            )

    async def _until(self, condition: Callable[[], bool], limit: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while not condition():
            if loop.time() >= deadline:
                return False
            self.watcher.check_alive()
            self.watcher.emit_changes()
            await asyncio.sleep(POLL_SECONDS)
        return True
