"""``reenviar-bot demo``: try the bot with no Slack workspace and no provider account.

`add_demo_parser` adds the subcommand to the ``reenviar-bot`` parser and
`run_demo` runs it: an interactive terminal when stdin is a terminal, else the
script given with ``--script`` (or read from stdin). `main` does both, for
``python -c "from devkit.demo.cli import main; main()"``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import queue
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from devkit.demo.script import ScriptError, Step, bundled_scripts, load_script, parse_script

if TYPE_CHECKING:
    from devkit.demo.session import DemoSession, RealProviders

# The demo's machinery (local Slack, emulators, session) is imported only when the demo
# runs, so wiring this parser into ``reenviar-bot`` loads none of it into ``serve``.

_WATCH_SECONDS: Final = 0.5
_YES: Final = frozenset({"si", "sí", "s", "yes", "y"})


def add_demo_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """Add ``demo`` to the ``reenviar-bot`` subcommands; returns its parser."""
    parser = subparsers.add_parser(
        "demo",
        help="try the bot locally: a local Slack, provider emulators, the production bot",
        description=(
            "Start the provider emulators, a local stand-in for Slack (user @ana, channel "
            "#soporte) and the production bot (`python -m bot serve --http` on 127.0.0.1) "
            "pointed at them, then type /reenviar as in Slack. Nothing reaches a real "
            "customer. Without a terminal (or with --script) a scripted conversation runs "
            "instead and the exit status says whether every step passed."
        ),
    )
    parser.add_argument(
        "--script",
        metavar="FILE",
        help="run a scripted conversation: a file, or a bundled name "
        f"({', '.join(bundled_scripts())})",
    )
    parser.add_argument(
        "--real-providers",
        action="store_true",
        help="use the provider credentials from the environment/.env instead of the "
        "emulators (real e-mails are sent; asks for confirmation)",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="with --real-providers: do not ask for confirmation (needed without a terminal)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the session's temporary directory (bot log) after a passing script",
    )
    return parser


def _say(text: str) -> None:
    print(text, flush=True)


def _complain(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _real_providers(args: argparse.Namespace) -> tuple[RealProviders | None, int | None]:
    """The real providers to use, or an exit status when the demo must not start."""
    if not args.real_providers:
        return None, None
    from bot.config import LOAD_ERRORS, Settings, setting_problems
    from devkit.demo.session import RealProviders

    try:
        settings = Settings.load()
    except LOAD_ERRORS:
        for problem in setting_problems():
            _complain(f"Configuración inválida: {problem}")
        return None, 2
    real = RealProviders.from_settings(settings)
    if real is None:
        _complain(
            "--real-providers: no hay credenciales de TusFacturas ni de Lummy en el entorno "
            "ni en .env (ver README, «Configuration»)."
        )
        return None, 2
    if args.yes:
        return real, None
    if not sys.stdin.isatty():
        _complain("--real-providers sin una terminal necesita --yes: se mandan correos reales.")
        return None, 2
    _say(
        "ATENCIÓN: se van a usar los proveedores REALES ("
        + ", ".join(real.names)
        + "). Cada reenvío manda un correo de verdad al cliente."
    )
    try:
        answer = input("Escribir «sí» para seguir: ")
    except EOFError:
        answer = ""
    if answer.strip().casefold() not in _YES:
        _complain("Cancelado: no se inició la demo.")
        return None, 1
    return real, None


def _steps(args: argparse.Namespace) -> tuple[list[Step] | None, str]:
    """The script to run (None: interactive) and its name."""
    if args.script:
        name, text, folder = load_script(args.script)
        return parse_script(text, source=name, folder=folder), name
    if sys.stdin.isatty():
        return None, ""
    return parse_script(sys.stdin.read(), source="<stdin>"), "<stdin>"


def run_demo(args: argparse.Namespace) -> int:
    """Run ``reenviar-bot demo``; 0 when the session (or every script step) went fine."""
    try:
        steps, name = _steps(args)
    except ScriptError as exc:
        _complain(str(exc))
        return 2
    real, status = _real_providers(args)
    if status is not None:
        return status
    try:
        return asyncio.run(_run(steps, name, real, keep=bool(args.keep)))
    except KeyboardInterrupt:
        _complain("\nDemo interrumpida.")
        return 130


async def _run(
    steps: list[Step] | None, name: str, real: RealProviders | None, *, keep: bool
) -> int:
    from devkit.demo.script import ScriptFailure, run_script
    from devkit.demo.session import DemoError, DemoSession

    session = DemoSession(real=real, output=_say)
    passed = False
    try:
        try:
            await session.start()
        except DemoError as exc:
            _complain(f"No se pudo iniciar la demo: {exc}")
            return 1
        _say(session.banner())
        if steps is None:
            await _interactive(session)
            passed = True
            return 0
        _say(f"\n== Guion {name}: {len(steps)} pasos ==")
        try:
            await run_script(session, steps, echo=_say)
        except ScriptFailure as exc:
            if session.pending is not None:
                _complain(f"(pregunta abierta: «{session.prompt.strip()}»)")
            _complain(f"\n✗ {exc}")
            _complain(f"Registro del bot: {session.log_path}")
            return 1
        passed = True
        _say(f"\n✓ Guion {name}: todos los pasos pasaron.")
        return 0
    except DemoError as exc:
        _complain(f"\n✗ {exc}")
        return 1
    finally:
        keep_files = keep or not passed or steps is None
        await session.stop(keep_files=keep_files)
        if steps is None and session.log_path.exists():
            _say(f"\nRegistro del bot: {session.log_path}")


class _LineReader:
    """Reads stdin in a daemon thread, so the event loop keeps serving while the agent types.

    A daemon thread (not the loop's executor) so that leaving the demo never waits for a
    pending ``input()``.
    """

    def __init__(self) -> None:
        self._requests: queue.Queue[tuple[str, asyncio.Future[str | None]]] = queue.Queue()
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._serve, name="demo-stdin", daemon=True).start()

    def _serve(self) -> None:
        while True:
            prompt, future = self._requests.get()
            try:
                line: str | None = input(prompt)
            except EOFError:
                line = None
            except Exception:  # a broken terminal ends the session like EOF
                line = None
            self._loop.call_soon_threadsafe(_resolve, future, line)

    async def read(self, prompt: str) -> str | None:
        """The next line (None at end of input)."""
        future: asyncio.Future[str | None] = self._loop.create_future()
        self._requests.put((prompt, future))
        return await future


def _resolve(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)


async def _watch(session: DemoSession) -> None:
    """While the agent types, show outcomes that arrive late, then the prompt again."""
    while True:
        await asyncio.sleep(_WATCH_SECONDS)
        try:
            shown = await session.poll()
        except Exception as exc:  # DemoError: the bot stopped
            _complain(f"\n✗ {exc}\n(Enter para salir)")
            return
        if shown:
            sys.stdout.write(session.prompt)
            sys.stdout.flush()


async def _interactive(session: DemoSession) -> None:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401 - line editing and history for input()
    reader = _LineReader()
    while not session.finished:
        watcher = asyncio.create_task(_watch(session))
        try:
            line = await reader.read(session.prompt)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        if line is None:
            _say("")
            break
        await session.send_line(line)


def main(argv: Sequence[str] | None = None) -> int:
    """``demo`` as a program of its own (tests, ``python -c``)."""
    parser = argparse.ArgumentParser(prog="reenviar-bot")
    add_demo_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["demo", *(argv if argv is not None else sys.argv[1:])])
    return run_demo(args)
