"""What a typed line means when no form or confirmation is open.

``/reenviar …`` goes to the bot as Slack's slash command; a button's text presses
that button (in a message, or in the Home tab); the demo's own commands (``ayuda``,
``salir``, ``!canal``, ``!falla``, and ``!mensaje``, ``!ticket``, ``!atajo``,
``!inicio``, ``!flujo`` of `devkit.demo.surfaces`) are handled here; anything else is
refused with a hint.
"""

from __future__ import annotations

from devkit.demo.buttons import ButtonPresser
from devkit.demo.context import DemoContext, DemoPart
from devkit.demo.faults import fault_command
from devkit.demo.modal import ModalFiller
from devkit.demo.render import fold
from devkit.demo.surfaces import Surfaces
from devkit.demo.workspace import CHANNEL_ID, COMMAND, USER_ID

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
            "  !mensaje No me llegó la FACTURA B 0002-00000006",
            "                           escribe un mensaje en #soporte (también: !ticket …,",
            "                           un aviso de Zendesk con esas palabras)",
            "  !atajo                   usa el atajo «Reenviar factura» en el último mensaje:",
            "                           el resultado queda en su hilo",
            "  !inicio                  abre la pestaña Inicio del bot (sus botones: escribir",
            "                           su texto, por ejemplo «Reenviar una factura»)",
            "  !flujo lummy 550e8400-e29b-41d4-a716-446655440000 [correo]",
            "                           un flujo de Workflow Builder ejecuta el paso",
            "                           «Reenviar factura»",
            "  ayuda                    esta ayuda",
            "  salir                    termina la demo",
            "En un formulario: Enter deja el valor propuesto, «-» borra un campo opcional,",
            "«!cancelar» lo cierra sin enviar.",
        ]
    )


class DemoCommands(DemoPart):
    """Interprets the lines typed at the channel prompt."""

    def __init__(
        self,
        context: DemoContext,
        modal: ModalFiller,
        buttons: ButtonPresser,
        surfaces: Surfaces,
    ) -> None:
        super().__init__(context)
        self.modal = modal
        self.buttons = buttons
        self.surfaces = surfaces
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
        elif word.startswith(("!mensaje", "!ticket")):
            command, _, said = text.partition(" ")
            if not said.strip():
                self.terminal.reject(f"Escribir el mensaje después de {command}.")
            elif fold(command) == "!mensaje":
                self.surfaces.post_message(said.strip())
            else:
                self.surfaces.post_ticket(said.strip())
        elif word == "!atajo":
            await self.surfaces.shortcut()
        elif word == "!inicio":
            await self.surfaces.home()
        elif word.startswith("!flujo"):
            await self.surfaces.workflow(text.split()[1:])
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
        elif (home_button := self.surfaces.home_button(text)) is not None:
            await self.surfaces.press_home_button(home_button)
        else:
            self.terminal.reject(f"No se entiende «{text}». Escribir {COMMAND} … o «ayuda».")

    async def slash(self, text: str) -> None:
        """``/reenviar text``: show the bot's answer, or the modal it opened."""
        sender = self.outbox.sender
        await self.modal.request(
            lambda: sender.slash_command(COMMAND, text, user_id=USER_ID, channel_id=CHANNEL_ID),
            COMMAND,
        )
