"""What a typed line means when no form or confirmation is open.

``/reenviar …`` goes to the bot as Slack's slash command; a button's text presses
that button; the demo's own commands (``ayuda``, ``salir``, ``!canal``, ``!falla``)
are handled here; anything else is refused with a hint.
"""

from __future__ import annotations

from bot.demo.buttons import ButtonPresser
from bot.demo.faults import fault_command
from bot.demo.modal import ModalFiller
from bot.demo.outbox import Outbox
from bot.demo.render import fold
from bot.demo.terminal import Terminal
from bot.demo.watch import Watcher
from bot.demo.workspace import CHANNEL_ID, COMMAND, USER_ID, DemoWorkspace

__all__ = ["HELP_WORDS", "QUIT_WORDS", "DemoCommands", "help_text"]

QUIT_WORDS = frozenset({"salir", "exit", "quit", "chau"})
HELP_WORDS = frozenset({"ayuda", "help", "/help", "/ayuda"})


def help_text() -> str:
    """The demo's own commands."""
    return "\n".join(
        [
            "Comandos de la demo:",
            "  /reenviar …              como en Slack; «/reenviar ayuda»: la ayuda del bot",
            "  reintentar               aprieta el botón «Reintentar» del último mensaje que"
            " lo tenga",
            "                           (cualquier botón: escribir su texto)",
            "  !falla lummy 503         el emulador responde 503 hasta «!falla lummy no»",
            "  !falla lummy 503 1       ... solo en el próximo pedido",
            "  !falla tusfacturas cuelga  no responde (también: corta, json, lento 8, 500, 429)",
            "  !falla lummy no          el emulador vuelve a responder bien",
            "  !canal                   muestra otra vez los mensajes de #soporte",
            "  ayuda                    esta ayuda",
            "  salir                    termina la demo",
            "En un formulario: Enter deja el valor propuesto, «-» borra un campo opcional,",
            "«!cancelar» lo cierra sin enviar.",
        ]
    )


class DemoCommands:
    """Interprets the lines typed at the channel prompt."""

    def __init__(
        self,
        workspace: DemoWorkspace,
        terminal: Terminal,
        outbox: Outbox,
        watcher: Watcher,
        modal: ModalFiller,
        buttons: ButtonPresser,
        *,
        command_timeout: float,
    ) -> None:
        self.workspace = workspace
        self.terminal = terminal
        self.outbox = outbox
        self.watcher = watcher
        self.modal = modal
        self.buttons = buttons
        self.command_timeout = command_timeout
        #: True after ``salir``.
        self.finished = False

    def quit(self) -> None:
        """End the demo."""
        self.finished = True
        self.terminal.emit("Fin de la demo.")

    async def run(self, text: str) -> None:
        """Handle one line typed at the channel prompt (already stripped)."""
        if not text:
            return
        word = fold(text)
        if word in QUIT_WORDS:
            self.quit()
        elif word in HELP_WORDS:
            self.terminal.emit(help_text())
        elif word == "!canal":
            self.terminal.show_channel()
        elif word.startswith("!falla"):
            reply = fault_command(
                text.split()[1:], self.workspace, read_timeout=self.workspace.read_timeout
            )
            if reply.accepted:
                self.terminal.emit(reply.text)
            else:
                self.terminal.reject(reply.text)
        elif text.startswith("/"):
            command, _, rest = text.partition(" ")
            if command.casefold() != COMMAND:
                self.terminal.reject(
                    f"«{command}» no es un comando de este Slack local. Probar {COMMAND} …"
                )
                return
            await self.slash(rest.strip())
        elif (pressable := self.buttons.find(text)) is not None:
            await self.buttons.press(pressable)
        else:
            self.terminal.reject(f"No se entiende «{text}». Escribir {COMMAND} … o «ayuda».")

    async def slash(self, text: str) -> None:
        """``/reenviar text``: show the bot's answer, or the modal it opened."""
        slack = self.workspace.slack
        sender = self.outbox.sender
        views_before = set(slack.views)
        before = self.watcher.fingerprint()
        response = await self.outbox.deliver(
            lambda: sender.slash_command(COMMAND, text, user_id=USER_ID, channel_id=CHANNEL_ID),
            COMMAND,
        )
        if response is None:
            return
        answered = self.terminal.show_ack(response)

        def new_views() -> list[str]:
            return [
                view_id
                for view_id in slack.views
                if view_id not in views_before and view_id not in self.modal.handled_views
            ]

        settled = await self.watcher.settle(
            before,
            limit=self.command_timeout,
            expect_change=not answered,
            done=lambda: bool(new_views()),
        )
        opened = new_views()
        if opened:
            self.modal.open(opened[-1])
        elif not settled and not answered:
            self.terminal.emit("(el bot no mostró nada todavía)")
