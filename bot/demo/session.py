"""One demo conversation: local Slack, provider emulators, and the production bot process.

`DemoSession` starts

- the provider emulators (`providers.emulators`) with their known invoices and vouchers,
- a local Slack workspace (`bot.localslack.FakeSlackWebAPI`) with the agent @ana
  (America/Argentina/Buenos_Aires) and the channel #soporte,
- the bot itself as a subprocess running the production entry point,
  ``python -m bot serve --http --host 127.0.0.1 --port N``, configured only through
  environment variables that point it at the services above,

and then turns typed lines into what Slack would send (`bot.localslack.SlackEventSender`:
signed slash commands, ``block_actions``, ``view_submission``) and what the bot sent to
Slack back into terminal text (`bot.demo.render`). Every wait is bounded; the
subprocess is terminated (then killed) on `stop`, and killed at interpreter exit if
`stop` never ran.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self
from zoneinfo import ZoneInfo

import httpx

import bot as bot_package
from bot.config import Settings
from bot.demo.render import (
    Button,
    ModalForm,
    Names,
    Prompt,
    Value,
    action_entry,
    buttons_in,
    confirm_labels,
    fold,
    looks_in_progress,
    modal_form,
    parse_answer,
    prompt_line,
    render_confirm,
    render_errors,
    render_message,
    render_modal_intro,
    render_notes,
    render_prompt,
    searchable,
    state_values,
)
from bot.localslack import FakeSlackWebAPI, SlackEventSender, button_action
from bot.localslack.sender import SenderResponse
from bot.localslack.webapi import EphemeralMessage, Message
from bot.server import EVENTS_PATH
from providers.emulators import (
    Fault,
    FaultKind,
    LummyEmulator,
    TusFacturasEmulator,
    format_voucher,
)
from providers.emulators.common import EmulatorServer
from providers.emulators.tusfacturas import TusFacturasCredentials as EmulatorCredentials

HOST: Final = "127.0.0.1"
USER_ID: Final = "U0DEMOANA"
USER_NAME: Final = "ana"
USER_REAL_NAME: Final = "Ana Pérez"
USER_TZ: Final = "America/Argentina/Buenos_Aires"
CHANNEL_ID: Final = "C0SOPORTE"
CHANNEL_NAME: Final = "soporte"
COMMAND: Final = "/reenviar"

DEMO_NOTE: Final = "(demo: nada se envió a ningún cliente real)"
REAL_NOTE: Final = "(demo con proveedores REALES: este reenvío pudo llegar a un cliente real)"

#: Slack gives an app 3 s to answer a request; later answers are discarded.
SLACK_ACK_SECONDS: Final = 3.0
READY_TIMEOUT: Final = 30.0
#: How long the bot may take to open a modal or answer a command visibly.
COMMAND_TIMEOUT: Final = 6.0
#: How long a re-send may take to reach its outcome (provider timeouts and retries included).
OUTCOME_TIMEOUT: Final = 25.0
#: The demo's provider read timeout: short, so a hanging provider is shown in seconds.
DEMO_READ_TIMEOUT: Final = 5.0
STOP_GRACE_SECONDS: Final = 8.0
_QUIET_SECONDS: Final = 0.25
_POLL_SECONDS: Final = 0.05

#: Environment variables the bot process inherits, besides its settings.
_PASSTHROUGH_ENV: Final = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SYSTEMROOT")

#: What ``!falla`` understands, besides an HTTP status.
_FAULT_WORDS: Final[Mapping[str, FaultKind]] = {
    "cuelga": FaultKind.HANG,
    "corta": FaultKind.RESET,
    "json": FaultKind.MALFORMED_JSON,
    "lento": FaultKind.LATENCY,
}
_PROVIDER_WORDS: Final[Mapping[str, str]] = {
    "lummy": "lummy",
    "tusfacturas": "tusfacturas",
    "tus": "tusfacturas",
    "tf": "tusfacturas",
}
_DISPLAY: Final[Mapping[str, str]] = {"lummy": "Lummy", "tusfacturas": "TusFacturas"}

Output = Callable[[str], None]
Fingerprint = tuple[Any, ...]


class DemoError(Exception):
    """The demo cannot go on (the bot did not start, or exited); the message says why."""


def bot_argv(port: int, python: str = sys.executable) -> list[str]:
    """The bot's command line: the production entry point, HTTP mode, loopback only."""
    return [python, "-m", "bot", "serve", "--http", "--host", HOST, "--port", str(port)]


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def base_environment() -> dict[str, str]:
    """What Python needs to start and import the bot; none of the caller's settings."""
    env = {name: os.environ[name] for name in _PASSTHROUGH_ENV if name in os.environ}
    env.setdefault("PATH", os.defpath)
    # The directory that holds the ``bot`` package: an editable checkout or site-packages.
    env["PYTHONPATH"] = str(Path(bot_package.__file__).resolve().parent.parent)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass(frozen=True)
class RealProviders:
    """Provider settings from the environment or ``.env``, for ``--real-providers``."""

    env: Mapping[str, str]
    tusfacturas: bool
    lummy: bool

    @property
    def names(self) -> list[str]:
        """Display names of the providers that are real."""
        return [n for n, real in (("TusFacturas", self.tusfacturas), ("Lummy", self.lummy)) if real]

    @classmethod
    def from_settings(cls, settings: Settings) -> RealProviders | None:
        """The configured providers' variables, or None when no provider is configured."""
        env: dict[str, str] = {
            "PROVIDER_CONNECT_TIMEOUT": str(settings.provider_connect_timeout),
            "PROVIDER_READ_TIMEOUT": str(settings.provider_read_timeout),
            "PROVIDER_MAX_RETRIES": str(settings.provider_max_retries),
            "PROVIDER_RETRY_BACKOFF": str(settings.provider_retry_backoff),
        }
        tusfacturas = settings.tusfacturas_config() is not None
        if tusfacturas:
            env["TUSFACTURAS_BASE_URL"] = str(settings.tusfacturas_base_url)
            for name, secret in (
                ("TUSFACTURAS_APIKEY", settings.tusfacturas_apikey),
                ("TUSFACTURAS_APITOKEN", settings.tusfacturas_apitoken),
                ("TUSFACTURAS_USERTOKEN", settings.tusfacturas_usertoken),
            ):
                if secret is not None:
                    env[name] = secret.get_secret_value()
            if settings.tusfacturas_credentials:
                env["TUSFACTURAS_CREDENTIALS"] = json.dumps(
                    {
                        str(pv): {
                            "apikey": creds.apikey.get_secret_value(),
                            "apitoken": creds.apitoken.get_secret_value(),
                            "usertoken": creds.usertoken.get_secret_value(),
                        }
                        for pv, creds in settings.tusfacturas_credentials.items()
                    }
                )
        lummy = settings.lummy_config() is not None
        if lummy and settings.lummy_api_key and settings.lummy_organization_id:
            env["LUMMY_BASE_URL"] = str(settings.lummy_base_url)
            env["LUMMY_API_KEY"] = settings.lummy_api_key.get_secret_value()
            env["LUMMY_ORGANIZATION_ID"] = settings.lummy_organization_id
            if settings.lummy_access_token is not None:
                env["LUMMY_ACCESS_TOKEN"] = settings.lummy_access_token.get_secret_value()
        if not tusfacturas and not lummy:
            return None
        return cls(env=env, tusfacturas=tusfacturas, lummy=lummy)


@dataclass
class _ModalState:
    """The modal being filled in: its form, the answers so far, what to ask next."""

    view_id: str
    form: ModalForm
    answers: dict[str, Value] = field(default_factory=dict)
    queue: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    #: A modal without inputs waits for Enter to be submitted.
    awaiting_submit: bool = False

    def current(self, prompt: Prompt) -> Value:
        return self.answers.get(prompt.block_id, prompt.default)


@dataclass(frozen=True)
class _Pressable:
    """A button in a message the agent can see, with where that message is."""

    button: Button
    channel_id: str
    message_ts: str
    message: dict[str, Any] | None
    ephemeral: bool
    shown_at: float


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the bot gets SIGTERM if the demo process dies without stopping it."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class DemoSession:
    """The local workspace, the emulators and the bot process, driven one line at a time.

    ``await start()``, then ``await send_line(line)`` for each line the agent types (it
    returns what the demo shows), ``prompt`` for the text before the cursor, and
    ``await stop()`` at the end (also ``async with DemoSession() as session``).
    """

    def __init__(
        self,
        *,
        workdir: Path | None = None,
        real: RealProviders | None = None,
        output: Output | None = None,
        python: str = sys.executable,
        ready_timeout: float = READY_TIMEOUT,
        command_timeout: float = COMMAND_TIMEOUT,
        outcome_timeout: float = OUTCOME_TIMEOUT,
        read_timeout: float = DEMO_READ_TIMEOUT,
    ) -> None:
        self._owns_workdir = workdir is None
        self._workdir_arg = workdir
        self._real = real
        self._output = output
        self._python = python
        self.ready_timeout = ready_timeout
        self.command_timeout = command_timeout
        self.outcome_timeout = outcome_timeout
        self.read_timeout = read_timeout

        self.footer = REAL_NOTE if real is not None else DEMO_NOTE
        #: Why the last line was not accepted (unknown command, invalid answer), else None.
        self.rejected: str | None = None
        #: True after ``salir``.
        self.finished = False

        self._workdir: Path | None = None
        self._slack: FakeSlackWebAPI | None = None
        self._sender: SlackEventSender | None = None
        self._lummy: LummyEmulator | None = None
        self._tusfacturas: TusFacturasEmulator | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._port: int | None = None
        self._env: dict[str, str] = {}
        self._argv: list[str] = []
        self._lock = asyncio.Lock()
        self._seen: dict[tuple[Any, ...], str] = {}
        self._recent: list[str] = []
        self._modal: _ModalState | None = None
        self._confirm: _Pressable | None = None
        self._handled_views: set[str] = set()
        self._stopped = False
        self._atexit_registered = False

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def workdir(self) -> Path:
        """The session's directory: the bot's log, its DATA_DIR."""
        if self._workdir is None:
            raise RuntimeError("the demo session is not started")
        return self._workdir

    @property
    def log_path(self) -> Path:
        """Where the bot's output (JSON log lines) goes."""
        return self.workdir / "bot.log"

    @property
    def bot_argv(self) -> list[str]:
        """The command line the bot runs with."""
        return list(self._argv)

    @property
    def bot_env(self) -> dict[str, str]:
        """The bot's whole environment."""
        return dict(self._env)

    @property
    def bot_pid(self) -> int | None:
        """The bot process id while it runs."""
        return self._proc.pid if self._proc is not None else None

    @property
    def slack(self) -> FakeSlackWebAPI:
        """The local Slack workspace."""
        if self._slack is None:
            raise RuntimeError("the demo session is not started")
        return self._slack

    @property
    def lummy(self) -> LummyEmulator | None:
        """The Lummy emulator (None when Lummy is real)."""
        return self._lummy

    @property
    def tusfacturas(self) -> TusFacturasEmulator | None:
        """The TusFacturas emulator (None when TusFacturas is real)."""
        return self._tusfacturas

    async def start(self) -> None:
        """Start the emulators, the local Slack and the bot; wait until the bot is ready."""
        if self._workdir is not None:
            raise RuntimeError("the demo session is already started")
        self._workdir = self._workdir_arg or Path(tempfile.mkdtemp(prefix="reenviar-demo-"))
        self._workdir.mkdir(parents=True, exist_ok=True)
        atexit.register(self._kill_at_exit)
        self._atexit_registered = True
        try:
            settings_env = await self._start_services()
            await self._start_bot(settings_env)
        except BaseException:
            await self.stop(keep_files=True)
            raise

    async def _start_services(self) -> dict[str, str]:
        bot_token = "xoxb-demo-" + secrets.token_hex(12)
        signing_secret = secrets.token_hex(16)
        env: dict[str, str] = {
            "SLACK_BOT_TOKEN": bot_token,
            "SLACK_SIGNING_SECRET": signing_secret,
            "DATA_DIR": str(self.workdir / "data"),
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "SHUTDOWN_GRACE_SECONDS": "3",
        }
        real = self._real
        if real is not None:
            env.update(real.env)
        else:
            env["PROVIDER_READ_TIMEOUT"] = str(self.read_timeout)
        if real is None or not real.lummy:
            api_key, organization = "lummy-demo-" + secrets.token_hex(8), secrets.token_hex(8)
            self._lummy = LummyEmulator(api_key=api_key, organization_id=organization)
            env.update(
                {
                    "LUMMY_API_KEY": api_key,
                    "LUMMY_ORGANIZATION_ID": organization,
                    "LUMMY_BASE_URL": await self._lummy.start(HOST),
                }
            )
        if real is None or not real.tusfacturas:
            creds = EmulatorCredentials(
                apikey="tf-demo-" + secrets.token_hex(6),
                apitoken="tf-demo-" + secrets.token_hex(6),
                usertoken="tf-demo-" + secrets.token_hex(6),
            )
            self._tusfacturas = TusFacturasEmulator([creds])
            env.update(
                {
                    "TUSFACTURAS_APIKEY": creds.apikey,
                    "TUSFACTURAS_APITOKEN": creds.apitoken,
                    "TUSFACTURAS_USERTOKEN": creds.usertoken,
                    "TUSFACTURAS_BASE_URL": await self._tusfacturas.start(HOST),
                }
            )
        slack = FakeSlackWebAPI(bot_token=bot_token, team_name="Demo", team_domain="demo")
        await slack.start(HOST)
        self._slack = slack
        slack.add_user(USER_ID, USER_NAME, USER_REAL_NAME, tz=USER_TZ, tz_offset=-10800)
        slack.add_channel(CHANNEL_ID, CHANNEL_NAME)
        env["SLACK_API_URL"] = slack.api_url
        return env

    async def _start_bot(self, settings_env: Mapping[str, str]) -> None:
        self._env = {**base_environment(), **settings_env}
        for _ in range(3):
            self._port = free_port()
            self._argv = bot_argv(self._port, self._python)
            with self.log_path.open("ab") as log:
                self._proc = await asyncio.create_subprocess_exec(
                    *self._argv,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    cwd=self.workdir,
                    env=self._env,
                    preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                )
            if await self._wait_ready():
                break
        else:
            raise DemoError(self._exit_report("el bot no pudo abrir un puerto local"))
        self._sender = SlackEventSender(
            f"http://{HOST}:{self._port}{EVENTS_PATH}",
            settings_env["SLACK_SIGNING_SECRET"],
            self.slack,
            timeout=SLACK_ACK_SECONDS,
        )

    async def _wait_ready(self) -> bool:
        """True when ``/readyz`` answers 200; False when the port was taken (try another)."""
        proc = self._proc
        assert proc is not None
        url = f"http://{HOST}:{self._port}/readyz"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ready_timeout
        last = "sin respuesta"
        async with httpx.AsyncClient(timeout=2.0) as http:
            while loop.time() < deadline:
                if proc.returncode is not None:
                    if "listen_failed" in self._log_tail():
                        return False
                    raise DemoError(self._exit_report("el bot terminó al arrancar"))
                try:
                    response = await http.get(url)
                except httpx.TransportError as exc:
                    last = type(exc).__name__
                else:
                    if response.status_code == 200:
                        return True
                    last = f"HTTP {response.status_code} {response.text.strip()}"
                await asyncio.sleep(0.1)
        raise DemoError(
            self._exit_report(f"el bot no quedó listo en {self.ready_timeout:.0f} s ({last})")
        )

    def _log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _exit_report(self, what: str) -> str:
        code = self._proc.returncode if self._proc is not None else None
        status = f" (código {code})" if code is not None else ""
        tail = self._log_tail()
        report = f"{what}{status}. Registro del bot: {self.log_path}"
        return report + (f"\nÚltimas líneas:\n{tail}" if tail else "")

    async def stop(self, *, keep_files: bool = True) -> None:
        """Stop the bot (SIGTERM, then SIGKILL), the local Slack and the emulators.

        ``keep_files=False`` removes the session directory when the session created it.
        """
        if self._stopped:
            return
        self._stopped = True
        try:
            await self._stop_bot()
        finally:
            if self._sender is not None:
                with contextlib.suppress(Exception):
                    await self._sender.aclose()
            servers: list[EmulatorServer | FakeSlackWebAPI | None] = [
                self._slack,
                self._lummy,
                self._tusfacturas,
            ]
            for server in servers:
                if server is not None:
                    with contextlib.suppress(Exception):
                        await server.stop()
            if self._atexit_registered:
                atexit.unregister(self._kill_at_exit)
                self._atexit_registered = False
            if not keep_files and self._owns_workdir and self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)

    async def _stop_bot(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        try:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), STOP_GRACE_SECONDS)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await asyncio.wait_for(proc.wait(), 5)
        finally:
            if proc.returncode is None:  # cancelled while waiting: never leave it running
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()

    def _kill_at_exit(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None and not self._stopped:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(proc.pid, signal.SIGKILL)

    # ------------------------------------------------------------------ texts

    def banner(self) -> str:
        """What the demo is, what runs where, and the known invoices."""
        slack = self.slack
        lines = [
            "══ reenviar-bot demo ══",
            "Un Slack local y proveedores simulados, en esta máquina: no hace falta un espacio"
            if self._real is None
            else "Un Slack local en esta máquina: no hace falta un espacio",
            "de trabajo de Slack ni credenciales de los proveedores."
            if self._real is None
            else "de trabajo de Slack.",
            "El bot es el de producción, sin cambios: python " + " ".join(self.bot_argv[1:]),
            "configurado solo con variables de entorno que apuntan a estos servicios locales:",
            f"  Slack local   {slack.api_url}  (usuaria @{USER_NAME}, {USER_TZ}; canal"
            f" #{CHANNEL_NAME})",
        ]
        for name, emulator in (("Lummy", self._lummy), ("TusFacturas", self._tusfacturas)):
            if emulator is not None:
                lines.append(f"  {name:<13} emulador en {emulator.base_url}")
            else:
                url = self._env.get(f"{name.upper()}_BASE_URL", "")
                lines.append(f"  {name:<13} PROVEEDOR REAL en {url} (credenciales del entorno)")
        if self._real is None:
            lines.append("Nada sale de esta máquina: ningún cliente recibe correos.")
        elif len(self._real.names) == 1:
            (name,) = self._real.names
            lines.append(
                f"ATENCIÓN: {name} es el proveedor REAL: cada reenvío por {name} le manda un "
                "correo de verdad al cliente."
            )
        else:
            lines.append(
                "ATENCIÓN: TusFacturas y Lummy son los proveedores REALES: cada reenvío le manda "
                "un correo de verdad al cliente."
            )
        lines += [
            f"Registro del bot (JSON): {self.log_path}",
            "Para conectar un Slack de verdad: README, sección «Set up the Slack app».",
            "",
            self.catalog(),
            "",
            "Escribir como en Slack, por ejemplo: /reenviar 550e8400-e29b-41d4-a716-446655440000",
            "«ayuda» muestra los comandos de la demo; «salir» la termina.",
        ]
        return "\n".join(lines)

    def catalog(self) -> str:
        """The invoices and vouchers the emulators know, as a short table."""
        lines: list[str] = []
        if self._lummy is not None:
            lines.append("Lummy (México): ID de la factura → e-mail del cliente")
            width = max((len(k) for k in self._lummy.invoices), default=0)
            lines.extend(f"  {k:<{width}}  {v}" for k, v in self._lummy.invoices.items())
        if self._tusfacturas is not None:
            lines.append("TusFacturas (Argentina): comprobante → e-mails de la ficha del cliente")
            rows: list[tuple[str, str]] = []
            for (tipo, operacion, pv, numero), record in self._tusfacturas.vouchers.items():
                printed = format_voucher(tipo, pv, numero)
                if operacion == "C":
                    printed += " compra"
                emails = ", ".join(record.customer_emails)
                if not record.email_enabled:
                    emails += " (sin envío por e-mail: TusFacturas lo rechaza)"
                rows.append((printed, emails))
            width = max((len(p) for p, _ in rows), default=0)
            lines.extend(f"  {p:<{width}}  {e}" for p, e in rows)
        if lines:
            lines.insert(0, "Comprobantes que conocen los emuladores (cualquier otro: no existe):")
        return "\n".join(lines)

    @staticmethod
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
                "  !falla tusfacturas cuelga  no responde (también: corta, json, lento 8, 500,"
                " 429)",
                "  !falla lummy no          el emulador vuelve a responder bien",
                "  !canal                   muestra otra vez los mensajes de #soporte",
                "  ayuda                    esta ayuda",
                "  salir                    termina la demo",
                "En un formulario: Enter deja el valor propuesto, «-» borra un campo opcional,",
                "«!cancelar» lo cierra sin enviar.",
            ]
        )

    # ------------------------------------------------------------------ state for callers

    @property
    def prompt(self) -> str:
        """The text before the cursor for the next line."""
        if self._confirm is not None and self._confirm.button.confirm is not None:
            yes, no = confirm_labels(self._confirm.button.confirm)
            return f"¿{yes}? (s = {yes}, n = {no}) [s]: "
        modal = self._modal
        if modal is not None:
            if modal.awaiting_submit or not modal.queue:
                submit = modal.form.submit or "Enviar"
                return f"Enter para «{submit}», «!cancelar» para cerrar: "
            prompt = modal.form.prompt(modal.queue[0])
            return prompt_line(prompt, modal.current(prompt))
        return f"@{USER_NAME} en #{CHANNEL_NAME}> "

    @property
    def pending(self) -> str | None:
        """``"modal"`` or ``"confirm"`` while a question is open, else None."""
        if self._confirm is not None:
            return "confirm"
        if self._modal is not None:
            return "modal"
        return None

    @property
    def recent_output(self) -> str:
        """Everything shown since the last typed line, the current prompt included."""
        return "\n".join([*self._recent, self.prompt])

    def recent_contains(self, text: str) -> bool:
        """Whether the recent output shows ``text`` (case, accents and spacing ignored)."""
        return searchable(text) in searchable(self.recent_output)

    async def wait_for(self, text: str, *, limit: float) -> bool:
        """Wait (bounded) until the recent output shows ``text``; late messages count."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            if self.recent_contains(text):
                return True
            if loop.time() >= deadline:
                return False
            async with self._lock:
                self._check_alive()
                self._emit_changes()
            await asyncio.sleep(_POLL_SECONDS)

    async def poll(self) -> str:
        """Show what changed in the workspace since last shown (late outcomes)."""
        async with self._lock:
            start = len(self._recent)
            self._check_alive()
            self._emit_changes()
            return "\n".join(self._recent[start:])

    # ------------------------------------------------------------------ typed lines

    async def send_line(self, line: str) -> str:
        """Handle one typed line; return what the demo showed in response."""
        async with self._lock:
            self.rejected = None
            self._check_alive()
            text = line.strip()
            if not text and self.pending is None:
                return ""  # Enter with no question open: nothing happens, nothing is shown
            self._recent = []
            if fold(text) in {"!ayuda", "!help"}:
                self._emit(self.help_text())
            elif fold(text) == "!salir":
                await self._close_modal(quiet=True)
                self._confirm = None
                self._quit()
            elif self._confirm is not None:
                await self._answer_confirm(text)
            elif self._modal is not None:
                await self._answer_modal(line)
            else:
                await self._idle_line(text)
            return "\n".join(self._recent)

    def _emit(self, text: str) -> None:
        self._recent.append(text)
        if self._output is not None:
            self._output(text)

    def _reject(self, why: str) -> None:
        self.rejected = why
        self._emit(f"  ⚠ {why}")

    def _quit(self) -> None:
        self.finished = True
        self._emit("Fin de la demo.")

    async def _idle_line(self, text: str) -> None:
        if not text:
            return
        word = fold(text)
        if word in {"salir", "exit", "quit", "chau"}:
            self._quit()
        elif word in {"ayuda", "help", "/help", "/ayuda"}:
            self._emit(self.help_text())
        elif word == "!canal":
            self._show_channel()
        elif word.startswith("!falla"):
            self._fault(text.split()[1:])
        elif text.startswith("/"):
            command, _, rest = text.partition(" ")
            if command.casefold() != COMMAND:
                self._reject(
                    f"«{command}» no es un comando de este Slack local. Probar {COMMAND} …"
                )
                return
            await self._slash(rest.strip())
        elif (pressable := self._find_button(text)) is not None:
            await self._press(pressable)
        else:
            self._reject(f"No se entiende «{text}». Escribir {COMMAND} … o «ayuda».")

    # ------------------------------------------------------------------ Slack: rendering

    def _names(self) -> Names:
        slack = self.slack
        users = {u.id: u.name for u in slack.users.values()}
        users[slack.bot_user_id] = slack.bot_user_name
        channels = {c.id: c.name for c in slack.channels.values()}
        return Names(users=users, channels=channels)

    @staticmethod
    def _clock(ts: str) -> str:
        try:
            moment = datetime.fromtimestamp(float(ts), ZoneInfo(USER_TZ))
        except (ValueError, OverflowError):
            return ""
        return moment.strftime("%H:%M:%S")

    def _where(self, channel_id: str) -> str:
        channel = self.slack.channels.get(channel_id)
        if channel is not None and channel.is_im:
            return "mensaje directo"
        return "#" + (channel.name if channel is not None else channel_id)

    def _author(self, user: str | None) -> str:
        slack = self.slack
        if user in (None, slack.bot_user_id):
            return f"{slack.bot_user_name} (app)"
        member = slack.users.get(user or "")
        return "@" + (member.name if member is not None else str(user))

    def _render_channel_message(self, channel_id: str, message: Message) -> str:
        heading = " · ".join(
            part
            for part in (
                self._where(channel_id),
                self._author(message.user),
                self._clock(message.ts),
                "editado" if message.edited else "",
            )
            if part
        )
        return render_message(
            heading=heading,
            text=message.text,
            blocks=message.blocks,
            names=self._names(),
            footer=self.footer,
        )

    def _render_ephemeral(self, channel_id: str, message: EphemeralMessage) -> str:
        heading = " · ".join(
            [
                self._where(channel_id),
                self._author(None),
                self._clock(message.message_ts),
                f"solo visible para @{USER_NAME}",
            ]
        )
        return render_message(
            heading=heading,
            text=message.text,
            blocks=message.blocks,
            names=self._names(),
            footer=self.footer,
        )

    def _render_ack(self, response: SenderResponse) -> bool:
        """Show a command's ack body as Slack does (only to the caller); True if any."""
        body = response.json
        if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
            text, blocks = str(body.get("text") or ""), list(body.get("blocks") or [])
        elif response.body.strip() and body is None:
            text, blocks = response.body.strip(), []
        else:
            return False
        heading = f"#{CHANNEL_NAME} · {self._author(None)} · solo visible para @{USER_NAME}"
        self._emit(
            render_message(
                heading=heading, text=text, blocks=blocks, names=self._names(), footer=self.footer
            )
        )
        return True

    def _slack_error(self, what: str) -> None:
        heading = f"#{CHANNEL_NAME} · Slackbot · solo visible para @{USER_NAME}"
        self._emit(render_message(heading=heading, text=what, footer=self.footer))

    def _show_channel(self) -> None:
        messages = self.slack.messages_in(CHANNEL_ID)
        if not messages:
            self._emit(f"(#{CHANNEL_NAME} no tiene mensajes todavía)")
        for message in messages:
            self._emit(self._render_channel_message(CHANNEL_ID, message))

    def _fingerprint(self) -> Fingerprint:
        """What the agent can see in the workspace (messages, ephemerals), for change checks."""
        slack = self.slack
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

    def _in_progress(self, before: Fingerprint) -> bool:
        """Whether a message that appeared or changed since ``before`` says "re-sending…"."""
        slack = self.slack
        old_messages = set(before[0])
        for channel, items in slack.messages.items():
            for m in items:
                shape = (channel, m.ts, m.edited_ts, m.text, repr(m.blocks))
                if shape not in old_messages and looks_in_progress(m.text, m.blocks):
                    return True
        old_ephemeral = dict(before[1])
        for key, ephemerals in slack.ephemeral.items():
            if key[1] != USER_ID:
                continue
            for e in ephemerals[len(old_ephemeral.get(key, ())) :]:
                if not e.deleted and looks_in_progress(e.text, e.blocks):
                    return True
        return False

    def _emit_changes(self) -> None:
        """Render every message that is new or changed since it was last shown."""
        slack = self.slack
        for channel_id, messages in list(slack.messages.items()):
            for message in list(messages):
                rendered = self._render_channel_message(channel_id, message)
                key: tuple[Any, ...] = ("message", channel_id, message.ts)
                if self._seen.get(key) != rendered:
                    self._seen[key] = rendered
                    self._emit(rendered)
        for (channel_id, user), items in list(slack.ephemeral.items()):
            if user != USER_ID:
                continue
            for index, ephemeral in enumerate(list(items)):
                if ephemeral.deleted:
                    continue
                rendered = self._render_ephemeral(channel_id, ephemeral)
                key = ("ephemeral", channel_id, index)
                if self._seen.get(key) != rendered:
                    self._seen[key] = rendered
                    self._emit(rendered)

    def _check_alive(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is not None:
            raise DemoError(self._exit_report("el bot terminó inesperadamente"))

    async def _settle(
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
        last = self._fingerprint()
        quiet_since = loop.time()
        while True:
            self._check_alive()
            current = self._fingerprint()
            if current != last:
                last, quiet_since = current, loop.time()
                self._emit_changes()
            if done is not None and done():
                self._emit_changes()
                return True
            quiet = loop.time() - quiet_since >= _QUIET_SECONDS
            settled = quiet and not self._in_progress(before)
            if (current != before or not expect_change) and settled:
                self._emit_changes()
                return True
            if loop.time() >= deadline:
                self._emit_changes()
                return False
            await asyncio.sleep(_POLL_SECONDS)

    # ------------------------------------------------------------------ Slack: sending

    def _sender_or_fail(self) -> SlackEventSender:
        if self._sender is None:
            raise RuntimeError("the demo session is not started")
        return self._sender

    async def _deliver(
        self, send: Callable[[], Awaitable[SenderResponse]], what: str
    ) -> SenderResponse | None:
        """Send one request to the bot as Slack would; None (and Slack's error) on failure."""
        try:
            response = await send()
        except httpx.TimeoutException:
            self._check_alive()
            self._slack_error(
                f"{what} falló con el error «operation_timeout»: la app no respondió en "
                f"{SLACK_ACK_SECONDS:.0f} s."
            )
            return None
        except httpx.TransportError as exc:
            self._check_alive()
            self._slack_error(
                f"{what} falló con el error «dispatch_failed» ({type(exc).__name__})."
            )
            return None
        if response.status != 200:
            self._slack_error(
                f"{what} falló con el error «dispatch_failed» (la app respondió HTTP "
                f"{response.status})."
            )
            return None
        return response

    async def _slash(self, text: str) -> None:
        sender = self._sender_or_fail()
        views_before = set(self.slack.views)
        before = self._fingerprint()
        response = await self._deliver(
            lambda: sender.slash_command(COMMAND, text, user_id=USER_ID, channel_id=CHANNEL_ID),
            COMMAND,
        )
        if response is None:
            return
        answered = self._render_ack(response)

        def new_views() -> list[str]:
            return [
                view_id
                for view_id in self.slack.views
                if view_id not in views_before and view_id not in self._handled_views
            ]

        settled = await self._settle(
            before,
            limit=self.command_timeout,
            expect_change=not answered,
            done=lambda: bool(new_views()),
        )
        opened = new_views()
        if opened:
            self._open_modal(opened[-1])
        elif not settled and not answered:
            self._emit("(el bot no mostró nada todavía)")

    # ------------------------------------------------------------------ modals

    def _open_modal(self, view_id: str, *, previous: ModalForm | None = None) -> None:
        """Show a modal and ask its fields; after an update, only new or empty required ones."""
        self._handled_views.add(view_id)
        form = modal_form(self.slack.views[view_id], self._names())
        queue = form.block_ids()
        if previous is not None:
            known = set(previous.block_ids())
            queue = [
                p.block_id
                for p in form.prompts
                if p.block_id not in known or (p.default is None and not p.optional)
            ]
        self._modal = _ModalState(view_id=view_id, form=form, queue=queue)
        self._modal.awaiting_submit = not queue
        self._emit(render_modal_intro(form))
        if previous is not None and len(queue) < len(form.prompts):
            self._emit("(el formulario cambió; los demás campos quedan como están)")
        self._ask_next()

    def _ask_next(self) -> None:
        modal = self._modal
        if modal is None or not modal.queue:
            return
        prompt = modal.form.prompt(modal.queue[0])
        self._emit(render_prompt(prompt, error=modal.errors.get(prompt.block_id)))

    async def _close_modal(self, *, quiet: bool = False) -> None:
        modal, self._modal = self._modal, None
        if modal is None:
            return
        view = self.slack.views.get(modal.view_id)
        if view is not None and view.get("notify_on_close"):
            sender = self._sender_or_fail()
            await self._deliver(
                lambda: sender.view_closed(user_id=USER_ID, view=modal.view_id), "El formulario"
            )
        else:
            self.slack.close_view(modal.view_id, whole_stack=True)
        if not quiet:
            self._emit("Formulario cerrado sin enviar: no se reenvió nada.")

    async def _answer_modal(self, line: str) -> None:
        modal = self._modal
        assert modal is not None
        if fold(line) == "!cancelar":
            await self._close_modal()
            return
        if modal.awaiting_submit or not modal.queue:
            if line.strip():
                self._reject("Enter envía el formulario; «!cancelar» lo cierra.")
                return
            await self._submit()
            return
        prompt = modal.form.prompt(modal.queue[0])
        answer = parse_answer(prompt, line, modal.current(prompt))
        if answer.error is not None:
            self._reject(answer.error)
            return
        modal.queue.pop(0)
        modal.answers[prompt.block_id] = answer.value
        modal.errors.pop(prompt.block_id, None)
        value = answer.value
        if prompt.dispatch_action and isinstance(value, str) and value != prompt.default:
            await self._dispatch(prompt, value)
        modal = self._modal
        if modal is None:
            return
        if modal.queue:
            self._ask_next()
        else:
            await self._submit()

    async def _dispatch(self, prompt: Prompt, value: str) -> None:
        """An input with ``dispatch_action`` changed: Slack tells the app; wait for views.update."""
        modal = self._modal
        assert modal is not None
        sender = self._sender_or_fail()
        old_hash = self.slack.views[modal.view_id].get("hash")
        values = state_values(modal.form.prompts, modal.answers)
        response = await self._deliver(
            lambda: sender.block_actions(
                user_id=USER_ID,
                view=modal.view_id,
                actions=[action_entry(prompt, value)],
                values=values,
            ),
            f"«{prompt.label}»",
        )
        if response is None:
            return

        def updated() -> bool:
            view = self.slack.views.get(modal.view_id)
            return view is None or view.get("hash") != old_hash

        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.command_timeout
        while not updated() and loop.time() < deadline:
            self._check_alive()
            await asyncio.sleep(_POLL_SECONDS)
        view = self.slack.views.get(modal.view_id)
        if view is None:
            self._modal = None
            self._emit("(el formulario se cerró)")
            return
        if view.get("hash") == old_hash:
            self._emit("(el formulario no cambió)")
            return
        form = modal_form(view, self._names())
        ids = form.block_ids()
        after = ids[ids.index(prompt.block_id) + 1 :] if prompt.block_id in ids else ids
        kept = {k: v for k, v in modal.answers.items() if k in ids and k not in after}
        self._modal = _ModalState(view_id=modal.view_id, form=form, answers=kept, queue=after)
        self._modal.awaiting_submit = not form.prompts
        notes = render_notes(form)
        self._emit("(el formulario cambió)" + (f"\n{notes}" if notes else ""))

    async def _submit(self) -> None:
        modal = self._modal
        assert modal is not None
        sender = self._sender_or_fail()
        values = state_values(modal.form.prompts, modal.answers)
        submit = modal.form.submit or "Enviar"
        # Before sending: the bot may post (and even finish) before the answer is read.
        before = self._fingerprint()
        response = await self._deliver(
            lambda: sender.view_submission(user_id=USER_ID, view=modal.view_id, values=values),
            f"El formulario («{submit}»)",
        )
        if response is None:
            # Slack keeps the modal open after a failed submission; Enter tries again.
            modal.awaiting_submit = True
            return
        body = response.json if isinstance(response.json, dict) else {}
        if body.get("response_action") == "errors":
            errors = {str(k): str(v) for k, v in (body.get("errors") or {}).items()}
            self._emit(render_errors(modal.form, errors))
            ids = modal.form.block_ids()
            modal.errors = errors
            modal.queue = [i for i in ids if i in errors] or ids
            self._ask_next()
            return
        view = self.slack.views.get(modal.view_id)
        if view is not None:  # response_action update: the same modal, changed
            self._modal = None
            self._open_modal(modal.view_id, previous=modal.form)
            return
        pushed = self.slack.current_view(USER_ID)
        if pushed is not None and pushed.get("id") not in self._handled_views:
            self._modal = None  # response_action push: a new modal on top
            self._open_modal(str(pushed["id"]))
            return
        self._modal = None
        self._emit(f"(formulario enviado con «{submit}»; Slack lo cierra)")
        if not await self._settle(before, limit=self.outcome_timeout, expect_change=True):
            self._emit("(el bot sigue trabajando; el resultado va a aparecer acá cuando llegue)")

    # ------------------------------------------------------------------ buttons

    def _find_button(self, typed: str) -> _Pressable | None:
        wanted = fold(typed.strip().strip("[]"))
        if not wanted:
            return None
        names = self._names()
        found: list[_Pressable] = []
        for channel_id, messages in self.slack.messages.items():
            for message in messages:
                for button in buttons_in(message.blocks, names):
                    if fold(button.label) == wanted:
                        found.append(
                            _Pressable(
                                button,
                                channel_id,
                                message.ts,
                                message.as_slack(),
                                ephemeral=False,
                                shown_at=float(message.ts),
                            )
                        )
        for (channel_id, user), items in self.slack.ephemeral.items():
            if user != USER_ID:
                continue
            for ephemeral in items:
                if ephemeral.deleted:
                    continue
                for button in buttons_in(ephemeral.blocks, names):
                    if fold(button.label) == wanted:
                        found.append(
                            _Pressable(
                                button,
                                channel_id,
                                ephemeral.message_ts,
                                None,
                                ephemeral=True,
                                shown_at=float(ephemeral.message_ts),
                            )
                        )
        return max(found, key=lambda p: p.shown_at) if found else None

    async def _press(self, pressable: _Pressable) -> None:
        if pressable.button.url:
            self._emit(f"(el botón abre {pressable.button.url} en el navegador)")
        if pressable.button.confirm is not None:
            self._confirm = pressable
            self._emit(render_confirm(pressable.button.confirm, self._names()))
            return
        await self._send_button(pressable)

    async def _answer_confirm(self, text: str) -> None:
        pressable = self._confirm
        assert pressable is not None
        assert pressable.button.confirm is not None
        yes, no = confirm_labels(pressable.button.confirm)
        word = fold(text)
        if word in {"", "s", "si", "y", "yes", "ok", fold(yes)}:
            self._confirm = None
            await self._send_button(pressable)
        elif word in {"n", "no", fold(no)}:
            self._confirm = None
            self._emit(f"«{no}»: no se envió nada al bot.")
        else:
            self._reject(f"Responder «s» ({yes}) o «n» ({no}).")

    async def _send_button(self, pressable: _Pressable) -> None:
        sender = self._sender_or_fail()
        button = pressable.button
        container = None
        if pressable.ephemeral:
            container = {
                "type": "message",
                "message_ts": pressable.message_ts,
                "channel_id": pressable.channel_id,
                "is_ephemeral": True,
            }
        before = self._fingerprint()
        response = await self._deliver(
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
        if not await self._settle(before, limit=self.outcome_timeout, expect_change=True):
            self._emit("(el bot sigue trabajando; el resultado va a aparecer acá cuando llegue)")

    # ------------------------------------------------------------------ provider faults

    def _fault(self, words: list[str]) -> None:
        usage = (
            "Uso: !falla lummy|tusfacturas 503|500|429|cuelga|corta|json|lento [segundos] "
            "[veces], o !falla lummy no"
        )
        if not words:
            self._reject(usage)
            return
        provider = _PROVIDER_WORDS.get(fold(words[0]))
        if provider is None:
            self._reject(usage)
            return
        emulator: EmulatorServer | None = self._lummy if provider == "lummy" else self._tusfacturas
        name = _DISPLAY[provider]
        if emulator is None:
            self._reject(f"{name} es el proveedor real: no se le pueden provocar fallas.")
            return
        rest = [fold(w) for w in words[1:]]
        if not rest or rest[0] in {"no", "ok", "nada", "fin", "quitar"}:
            emulator.clear_faults()
            self._emit(f"El emulador de {name} vuelve a responder normalmente.")
            return
        kind_word, numbers = rest[0], rest[1:]
        if not all(n.isdigit() and int(n) > 0 for n in numbers):
            self._reject(usage)
            return
        delay = 0.0
        if kind_word.isdigit() and 400 <= int(kind_word) <= 599:
            fault_kind, status = FaultKind.SERVER_ERROR, int(kind_word)
            what = f"va a responder HTTP {status}"
        elif kind_word in _FAULT_WORDS:
            fault_kind, status = _FAULT_WORDS[kind_word], 503
            if fault_kind is FaultKind.LATENCY:
                delay = float(numbers.pop(0)) if numbers else self.read_timeout + 2
            what = {
                FaultKind.HANG: "no va a responder (se cuelga)",
                FaultKind.RESET: "va a cortar la conexión sin responder",
                FaultKind.MALFORMED_JSON: "va a responder JSON roto",
                FaultKind.LATENCY: f"va a procesar el pedido pero responder {delay:.0f} s tarde",
            }[fault_kind]
        else:
            self._reject(usage)
            return
        times = int(numbers[0]) if numbers else None
        if len(numbers) > 1:
            self._reject(usage)
            return
        emulator.clear_faults()
        emulator.inject(Fault(fault_kind, delay_seconds=delay, status=status, times=times))
        until = (
            f"en los próximos {times} pedidos" if times and times > 1 else "en el próximo pedido"
        )
        if times is None:
            until = f"hasta escribir «!falla {provider} no»"
        self._emit(f"El emulador de {name} {what} {until}.")
