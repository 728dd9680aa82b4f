"""The demo's local world: a Slack workspace and the provider emulators, on 127.0.0.1.

`DemoWorkspace` starts the provider emulators (`devkit.emulators`) with their known
invoices and vouchers (or leaves a provider out when ``--real-providers`` makes it
real), and a local Slack workspace (`devkit.localslack.FakeSlackWebAPI`) with the agent
@ana (America/Argentina/Buenos_Aires) and the channel #soporte. Its `settings` are the
environment variables that point the bot at all of them.
"""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path
from typing import Final

from devkit.demo.real import RealProviders
from devkit.demo.render import Names
from devkit.emulators import LummyEmulator, TusFacturasEmulator, format_voucher
from devkit.emulators.common import EmulatorServer
from devkit.emulators.tusfacturas import TusFacturasCredentials as EmulatorCredentials
from devkit.localslack import FakeSlackWebAPI

__all__ = [
    "CHANNEL_ID",
    "CHANNEL_NAME",
    "COMMAND",
    "DEMO_READ_TIMEOUT",
    "HOST",
    "OTHER_APPS",
    "TICKETS_BOT_ID",
    "USER_ID",
    "USER_NAME",
    "USER_REAL_NAME",
    "USER_TZ",
    "DemoWorkspace",
]

HOST: Final = "127.0.0.1"
USER_ID: Final = "U0DEMOANA"
USER_NAME: Final = "ana"
USER_REAL_NAME: Final = "Ana Pérez"
USER_TZ: Final = "America/Argentina/Buenos_Aires"
CHANNEL_ID: Final = "C0SOPORTE"
CHANNEL_NAME: Final = "soporte"
COMMAND: Final = "/reenviar"

#: The demo's provider read timeout: short, so a hanging provider is shown in seconds.
DEMO_READ_TIMEOUT: Final = 5.0
#: Other apps that post in #soporte (ticket notifications), by bot id.
TICKETS_BOT_ID: Final = "B0ZENDESK"
OTHER_APPS: Final = {TICKETS_BOT_ID: "Zendesk"}


class DemoWorkspace:
    """The local Slack and the emulators one demo session talks to."""

    def __init__(
        self, *, real: RealProviders | None = None, read_timeout: float = DEMO_READ_TIMEOUT
    ) -> None:
        self.real = real
        self.read_timeout = read_timeout
        #: The bot's settings: tokens, and the URLs of the services below.
        self.settings: dict[str, str] = {}
        self._slack: FakeSlackWebAPI | None = None
        self.lummy: LummyEmulator | None = None
        self.tusfacturas: TusFacturasEmulator | None = None

    @property
    def slack(self) -> FakeSlackWebAPI:
        """The local Slack workspace."""
        if self._slack is None:
            raise RuntimeError("the demo session is not started")
        return self._slack

    @property
    def signing_secret(self) -> str:
        """The secret Slack's requests to the bot are signed with."""
        return self.settings["SLACK_SIGNING_SECRET"]

    async def start(self, data_dir: Path) -> dict[str, str]:
        """Start the emulators and the local Slack; return the bot's settings."""
        bot_token = "xoxb-demo-" + secrets.token_hex(12)
        env: dict[str, str] = {
            "SLACK_BOT_TOKEN": bot_token,
            "SLACK_SIGNING_SECRET": secrets.token_hex(16),
            "DATA_DIR": str(data_dir),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "SHUTDOWN_GRACE_SECONDS": "3",
        }
        self.settings = env
        real = self.real
        if real is not None:
            env.update(real.env)
        else:
            env["PROVIDER_READ_TIMEOUT"] = str(self.read_timeout)
        if real is None or not real.covers("lummy"):
            api_key, organization = "lummy-demo-" + secrets.token_hex(8), secrets.token_hex(8)
            self.lummy = LummyEmulator(api_key=api_key, organization_id=organization)
            env.update(
                {
                    "LUMMY_API_KEY": api_key,
                    "LUMMY_ORGANIZATION_ID": organization,
                    "LUMMY_BASE_URL": await self.lummy.start(HOST),
                }
            )
        if real is None or not real.covers("tusfacturas"):
            creds = EmulatorCredentials(
                apikey="tf-demo-" + secrets.token_hex(6),
                apitoken="tf-demo-" + secrets.token_hex(6),
                usertoken="tf-demo-" + secrets.token_hex(6),
            )
            self.tusfacturas = TusFacturasEmulator([creds])
            env.update(
                {
                    "TUSFACTURAS_APIKEY": creds.apikey,
                    "TUSFACTURAS_APITOKEN": creds.apitoken,
                    "TUSFACTURAS_USERTOKEN": creds.usertoken,
                    "TUSFACTURAS_BASE_URL": await self.tusfacturas.start(HOST),
                }
            )
        slack = FakeSlackWebAPI(bot_token=bot_token, team_name="Demo", team_domain="demo")
        await slack.start(HOST)
        self._slack = slack
        slack.add_user(USER_ID, USER_NAME, USER_REAL_NAME, tz=USER_TZ, tz_offset=-10800)
        slack.add_channel(CHANNEL_ID, CHANNEL_NAME)
        env["SLACK_API_URL"] = slack.api_url
        return env

    async def stop(self) -> None:
        """Stop the local Slack and the emulators (what was started of them)."""
        servers: list[EmulatorServer | FakeSlackWebAPI | None] = [
            self._slack,
            self.lummy,
            self.tusfacturas,
        ]
        for server in servers:
            if server is not None:
                with contextlib.suppress(Exception):
                    await server.stop()

    def emulator(self, provider: str) -> EmulatorServer | None:
        """The emulator of ``provider`` (``lummy``, ``tusfacturas``); None when it is real."""
        return self.lummy if provider == "lummy" else self.tusfacturas

    def names(self) -> Names:
        """How Slack shows the workspace's user and channel ids."""
        slack = self.slack
        users = {u.id: u.name for u in slack.users.values()}
        users[slack.bot_user_id] = slack.bot_user_name
        channels = {c.id: c.name for c in slack.channels.values()}
        return Names(users=users, channels=channels)

    # ------------------------------------------------------------------ texts

    def banner(self, bot_argv: list[str], log_path: Path) -> str:
        """What the demo is, what runs where, and the known invoices."""
        emulated = self.real is None
        lines = [
            "══ reenviar-bot demo ══",
            "Un Slack local y proveedores simulados, en esta máquina: no hace falta un espacio"
            if emulated
            else "Un Slack local en esta máquina: no hace falta un espacio",
            "de trabajo de Slack ni credenciales de los proveedores."
            if emulated
            else "de trabajo de Slack.",
            "El bot es el de producción, sin cambios: python " + " ".join(bot_argv[1:]),
            "configurado solo con variables de entorno que apuntan a estos servicios locales:",
            f"  Slack local   {self.slack.api_url}  (usuaria @{USER_NAME}, {USER_TZ}; canal"
            f" #{CHANNEL_NAME})",
        ]
        for name, emulator in (("Lummy", self.lummy), ("TusFacturas", self.tusfacturas)):
            if emulator is not None:
                lines.append(f"  {name:<13} emulador en {emulator.base_url}")
            else:
                url = self.settings.get(f"{name.upper()}_BASE_URL", "")
                lines.append(f"  {name:<13} PROVEEDOR REAL en {url} (credenciales del entorno)")
        lines.append(self._real_warning())
        lines += [
            f"Registro del bot (JSON): {log_path}",
            "Para conectar un Slack de verdad: README, sección «Set up the Slack app».",
            "",
            self.catalog(),
            "",
            "Escribir como en Slack, por ejemplo: /reenviar 550e8400-e29b-41d4-a716-446655440000",
            "«ayuda» muestra los comandos de la demo; «salir» la termina.",
        ]
        return "\n".join(lines)

    def _real_warning(self) -> str:
        if self.real is None:
            return "Nada sale de esta máquina: ningún cliente recibe correos."
        if len(self.real.names) == 1:
            (name,) = self.real.names
            return (
                f"ATENCIÓN: {name} es el proveedor REAL: cada reenvío por {name} le manda un "
                "correo de verdad al cliente."
            )
        return (
            "ATENCIÓN: TusFacturas y Lummy son los proveedores REALES: cada reenvío le manda "
            "un correo de verdad al cliente."
        )

    def catalog(self) -> str:
        """The invoices and vouchers the emulators know, as a short table."""
        lines: list[str] = []
        if self.lummy is not None:
            lines.append("Lummy (México): ID de la factura → correo del cliente")
            width = max((len(k) for k in self.lummy.invoices), default=0)
            lines.extend(f"  {k:<{width}}  {v}" for k, v in self.lummy.invoices.items())
        if self.tusfacturas is not None:
            lines.append("TusFacturas (Argentina): comprobante → correos de la ficha del cliente")
            rows: list[tuple[str, str]] = []
            for (tipo, operacion, pv, numero), record in self.tusfacturas.vouchers.items():
                printed = format_voucher(tipo, pv, numero)
                if operacion == "C":
                    printed += " compra"
                emails = ", ".join(record.customer_emails)
                if not record.email_enabled:
                    emails += " (sin envío por correo: TusFacturas lo rechaza)"
                rows.append((printed, emails))
            width = max((len(p) for p, _ in rows), default=0)
            lines.extend(f"  {p:<{width}}  {e}" for p, e in rows)
        if lines:
            lines.insert(0, "Comprobantes que conocen los emuladores (cualquier otro: no existe):")
        return "\n".join(lines)
