"""One demo conversation: local Slack, provider emulators, and the production bot process.

`DemoSession` puts together

- `devkit.demo.workspace`: the provider emulators and a local Slack workspace with the
  agent @ana (America/Argentina/Buenos_Aires) and the channel #soporte;
- `devkit.demo.child`: the bot itself as a subprocess running the production entry point,
  ``python -m bot serve --http --host 127.0.0.1 --port N``, configured only through
  environment variables that point it at the services above;
- `devkit.demo.commands`, `devkit.demo.modal`, `devkit.demo.buttons`, `devkit.demo.surfaces`: typed
  lines turned into what Slack would send (signed slash commands, ``block_actions``,
  ``view_submission``, a message shortcut, Home tab and workflow step events, through
  `devkit.demo.outbox`);
- `devkit.demo.terminal`, `devkit.demo.watch`: what the bot sent to Slack turned back into
  terminal text as it arrives (`devkit.demo.render` does the Block Kit).

Every wait is bounded; the subprocess is terminated (then killed) on `stop`, and
killed at interpreter exit if `stop` never ran.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Final

from devkit.demo.buttons import ButtonPresser
from devkit.demo.child import READY_TIMEOUT, BotChild, DemoError, bot_argv
from devkit.demo.commands import DemoCommands, help_text
from devkit.demo.context import DemoContext
from devkit.demo.modal import ModalFiller
from devkit.demo.outbox import Outbox
from devkit.demo.real import RealProviders
from devkit.demo.render import fold, searchable
from devkit.demo.surfaces import Surfaces
from devkit.demo.terminal import DEMO_NOTE, REAL_NOTE, Output, Terminal
from devkit.demo.watch import POLL_SECONDS, Watcher
from devkit.demo.workspace import (
    CHANNEL_ID,
    CHANNEL_NAME,
    DEMO_READ_TIMEOUT,
    USER_ID,
    USER_NAME,
    DemoWorkspace,
)
from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.lifecycle import StartedInContext
from devkit.localslack import FakeSlackWebAPI
from devkit.localslack.parts import SharedAttribute

__all__ = [
    "CHANNEL_ID",
    "COMMAND_TIMEOUT",
    "DEMO_NOTE",
    "OUTCOME_TIMEOUT",
    "REAL_NOTE",
    "USER_ID",
    "DemoError",
    "DemoSession",
    "RealProviders",
    "bot_argv",
]

#: How long the bot may take to open a modal or answer a command visibly.
COMMAND_TIMEOUT: Final = 6.0
#: How long a re-send may take to reach its outcome (provider timeouts and retries included).
OUTCOME_TIMEOUT: Final = 25.0


class DemoSession(StartedInContext):
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
        self._python = python
        self.ready_timeout = ready_timeout
        self.command_timeout = command_timeout
        self.outcome_timeout = outcome_timeout
        self.read_timeout = read_timeout

        self._workdir: Path | None = None
        self._bot: BotChild | None = None
        self._workspace = DemoWorkspace(real=real, read_timeout=read_timeout)
        self._terminal = Terminal(self._workspace, output=output)
        self._outbox = Outbox(self._terminal, self._check_alive)
        self._watcher = Watcher(self._workspace, self._terminal, self._check_alive)
        context = DemoContext(
            self._workspace,
            self._terminal,
            self._outbox,
            self._watcher,
            command_timeout=command_timeout,
            outcome_timeout=outcome_timeout,
        )
        self._modal = ModalFiller(context)
        self._buttons = ButtonPresser(context, modal=self._modal)
        self._surfaces = Surfaces(self._modal)
        self._commands = DemoCommands(context, self._modal, self._buttons, self._surfaces)
        self._lock = asyncio.Lock()
        self._stopped = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start the emulators, the local Slack and the bot; wait until the bot is ready."""
        if self._workdir is not None:
            raise RuntimeError("the demo session is already started")
        self._workdir = self._workdir_arg or Path(tempfile.mkdtemp(prefix="reenviar-demo-"))
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._bot = BotChild(self._workdir, python=self._python, ready_timeout=self.ready_timeout)
        try:
            settings = await self._workspace.start(self._workdir / "data")
            await self._bot.start(settings)
            self._outbox.connect(
                self._bot.events_url, self._workspace.signing_secret, self._workspace.slack
            )
        except BaseException:
            await self.stop(keep_files=True)
            raise

    async def stop(self, *, keep_files: bool = True) -> None:
        """Stop the bot (SIGTERM, then SIGKILL), the local Slack and the emulators.

        ``keep_files=False`` removes the session directory when the session created it.
        """
        if self._stopped:
            return
        self._stopped = True
        try:
            if self._bot is not None:
                await self._bot.stop()
        finally:
            await self._outbox.aclose()
            await self._workspace.stop()
            if not keep_files and self._owns_workdir and self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)

    def _check_alive(self) -> None:
        if self._bot is not None:
            self._bot.check_alive()

    # ------------------------------------------------------------------ what runs where

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
        return self._bot.argv if self._bot is not None else []

    @property
    def bot_env(self) -> dict[str, str]:
        """The bot's whole environment."""
        return self._bot.env if self._bot is not None else {}

    @property
    def bot_pid(self) -> int | None:
        """The bot process id while it runs."""
        return self._bot.pid if self._bot is not None else None

    #: The local Slack workspace.
    slack = SharedAttribute[FakeSlackWebAPI]("_workspace")
    #: The Lummy emulator (None when Lummy is real).
    lummy = SharedAttribute[LummyEmulator | None]("_workspace")
    #: The TusFacturas emulator (None when TusFacturas is real).
    tusfacturas = SharedAttribute[TusFacturasEmulator | None]("_workspace")
    #: The line under every message: whether a real customer could have been reached.
    footer = SharedAttribute[str]("_terminal")

    # ------------------------------------------------------------------ texts

    def banner(self) -> str:
        """What the demo is, what runs where, and the known invoices."""
        return self._workspace.banner(self.bot_argv, self.log_path)

    def catalog(self) -> str:
        """The invoices and vouchers the emulators know, as a short table."""
        return self._workspace.catalog()

    @staticmethod
    def help_text() -> str:
        """The demo's own commands."""
        return help_text()

    # ------------------------------------------------------------------ state for callers

    #: Why the last line was not accepted (unknown command, invalid answer), else None.
    rejected = SharedAttribute[str | None]("_terminal")
    #: True after ``salir``.
    finished = SharedAttribute[bool]("_commands")

    @property
    def prompt(self) -> str:
        """The text before the cursor for the next line."""
        confirm = self._buttons.prompt()
        if confirm is not None:
            return confirm
        if self._modal.is_open:
            return self._modal.prompt()
        return f"@{USER_NAME} en #{CHANNEL_NAME}> "

    @property
    def pending(self) -> str | None:
        """``"modal"`` or ``"confirm"`` while a question is open, else None."""
        if self._buttons.confirming is not None:
            return "confirm"
        if self._modal.is_open:
            return "modal"
        return None

    @property
    def recent_output(self) -> str:
        """Everything shown since the last typed line, the current prompt included."""
        return "\n".join([*self._terminal.recent, self.prompt])

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
                self._watcher.emit_changes()
            await asyncio.sleep(POLL_SECONDS)

    async def poll(self) -> str:
        """Show what changed in the workspace since last shown (late outcomes)."""
        async with self._lock:
            start = len(self._terminal.recent)
            self._check_alive()
            self._watcher.emit_changes()
            return "\n".join(self._terminal.recent[start:])

    # ------------------------------------------------------------------ typed lines

    async def send_line(self, line: str) -> str:
        """Handle one typed line; return what the demo showed in response."""
        async with self._lock:
            self._terminal.rejected = None
            self._check_alive()
            text = line.strip()
            if not text and self.pending is None:
                return ""  # Enter with no question open: nothing happens, nothing is shown
            self._terminal.new_line()
            if fold(text) in {"!ayuda", "!help"}:
                self._terminal.emit(help_text())
            elif fold(text) == "!salir":
                await self._modal.close(quiet=True)
                self._buttons.confirming = None
                self._commands.quit()
            elif self._buttons.confirming is not None:
                await self._buttons.answer_confirm(text)
            elif self._modal.is_open:
                await self._modal.answer(line)
            else:
                await self._commands.run(text)
            return "\n".join(self._terminal.recent)
