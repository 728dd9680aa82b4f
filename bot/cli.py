"""The ``reenviar-bot`` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date
from typing import IO

import structlog
from sqlalchemy.exc import SQLAlchemyError

from bot import deadlines
from bot.config import LOAD_ERRORS, Settings, setting_problems
from bot.doctor.command import run_doctor
from bot.history.export import export_history
from bot.history.failures import StoreUnavailableError
from bot.history.store import HistoryStore
from bot.logs import configure_logging
from bot.server import ListenError, serve_http, serve_socket_mode
from bot.services import Services

DEMO_MISSING = (
    "The demo is part of the dev kit (the devkit/ folder), which is not installed here: "
    "run it from a checkout of the repository (make run)."
)
SETUP_HINT = "See the README section 'Set up the Slack app'."
START_DEMO_BANNER = """\
No Slack settings found (SLACK_BOT_TOKEN), so this is the local demo: a stand-in
for Slack and emulated providers on this machine, driving the production bot.
To connect a real workspace, follow the README section 'Set up the Slack app',
put SLACK_BOT_TOKEN and SLACK_APP_TOKEN (or SLACK_SIGNING_SECRET) in .env, and
run this command again.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reenviar-bot",
        description="Re-send invoices from Slack through the invoicing providers.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="run the bot (Socket Mode when SLACK_APP_TOKEN is set, HTTP otherwise)",
    )
    serve.add_argument(
        "--http", action="store_true", help="serve HTTP even if SLACK_APP_TOKEN is set"
    )
    serve.add_argument("--host", help="interface to listen on (default: HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, help="port to listen on (default: PORT or 3000)")

    start = commands.add_parser(
        "start",
        help="`serve` when Slack settings are present, else the local demo (the quick start)",
    )
    start.add_argument("--port", type=int, help="with Slack settings: port to listen on")
    # Listed for --help only: `main` hands `demo` and its arguments to the dev kit.
    commands.add_parser(
        "demo",
        help="try the bot locally: a local Slack, provider emulators, the production bot "
        "(`reenviar-bot demo --help` for its options)",
        add_help=False,
    )

    doctor = commands.add_parser(
        "doctor",
        help="check the settings, Slack, the providers and the storage, and say what to fix",
    )
    doctor.add_argument("--json", action="store_true", help="print the results as JSON")
    doctor.add_argument(
        "--http", action="store_true", help="check HTTP mode even if SLACK_APP_TOKEN is set"
    )
    doctor.add_argument(
        "--timeout",
        type=_seconds,
        default=deadlines.DOCTOR_CHECK,
        help=f"seconds each check may take (default {deadlines.DOCTOR_CHECK:g})",
    )

    history = commands.add_parser("history", help="the re-send history")
    history_commands = history.add_subparsers(dest="history_command", required=True)
    export = history_commands.add_parser(
        "export", help="write every attempt since a date, for auditors"
    )
    export.add_argument(
        "--since", required=True, type=_iso_date, help="first day, YYYY-MM-DD (00:00 UTC)"
    )
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    return parser


def _start(settings: Settings, args: argparse.Namespace) -> int:
    """The README's run command: the real bot when configured, the demo when not."""
    if settings.slack_bot_token is not None or settings.slack_app_token is not None:
        return _serve(settings, argparse.Namespace(http=False, host=None, port=args.port))
    print(START_DEMO_BANNER, file=sys.stderr, flush=True)
    return _demo([])


def _demo(argv: Sequence[str]) -> int:
    """The dev kit's demo, imported only now: no serving process ever loads it."""
    try:
        from devkit.demo.cli import main as demo_main
    except ImportError:
        print(DEMO_MISSING, file=sys.stderr)
        return 2
    return demo_main(argv)


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {value!r}") from None


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 300:
        raise argparse.ArgumentTypeError(f"not a number of seconds in (0, 300]: {value!r}")
    return seconds


def _export(settings: Settings, args: argparse.Namespace) -> int:
    configure_logging(level="WARNING", fmt=settings.log_format, secrets=settings.secret_values())

    async def run(output: IO[str]) -> int:
        store = HistoryStore(settings.history_url(), schema=settings.database_schema)
        try:
            await store.start()
            return await export_history(store, since=args.since, output=output, fmt=args.format)
        finally:
            await store.aclose()

    try:
        if args.output:
            with open(args.output, "w", encoding="utf-8", newline="") as output:
                count = asyncio.run(run(output))
        else:
            count = asyncio.run(run(sys.stdout))
    except StoreUnavailableError as exc:
        print(f"Could not read the history: {exc}", file=sys.stderr)
        return 1
    except (SQLAlchemyError, OSError) as exc:
        print(f"Could not read the history: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"{count} attempts exported.", file=sys.stderr)
    return 0


def _load_settings() -> Settings | None:
    """The settings; None after saying, one line per variable, what is wrong with them."""
    try:
        return Settings.load()
    except LOAD_ERRORS as exc:
        problems = setting_problems() or [f"{type(exc).__name__} while reading the settings"]
        for problem in problems:
            print(f"Invalid configuration: {problem}", file=sys.stderr)
        return None


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    socket_mode = settings.slack_app_token is not None and not args.http
    missing = settings.missing_slack_settings(socket_mode=socket_mode)
    if missing:
        mode = "Socket Mode" if socket_mode else "HTTP mode"
        print(f"Missing Slack settings for {mode}: {', '.join(missing)}.", file=sys.stderr)
        print(SETUP_HINT, file=sys.stderr)
        return 2
    configure_logging(
        level=settings.log_level, fmt=settings.log_format, secrets=settings.secret_values()
    )
    log = structlog.get_logger("reenviar")
    host = args.host or settings.host
    port = args.port or settings.port
    services = Services.create(settings)
    for provider, configured in services.configured.items():
        if not configured:
            log.warning("provider_not_configured", provider=provider)
    if socket_mode and settings.slack_app_token is not None:
        coroutine = serve_socket_mode(
            services,
            app_token=settings.slack_app_token.get_secret_value(),
            host=host,
            port=port,
            grace_seconds=settings.shutdown_grace_seconds,
        )
    else:
        coroutine = serve_http(
            services, host=host, port=port, grace_seconds=settings.shutdown_grace_seconds
        )
    try:
        asyncio.run(coroutine)
    except ListenError as exc:
        log.error("listen_failed", error=str(exc))
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script and ``python -m bot``."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["demo"]:
        # Before the settings: the demo needs none, and a broken .env must not stop it.
        return _demo(arguments[1:])
    args = _parser().parse_args(arguments)
    if args.command == "doctor":
        # Before the settings: reporting what is wrong with them is its first check.
        return run_doctor(json_output=args.json, http=args.http, timeout=args.timeout)
    settings = _load_settings()
    if settings is None:
        return 2
    if args.command == "serve":
        return _serve(settings, args)
    if args.command == "start":
        return _start(settings, args)
    if args.command == "history":
        return _export(settings, args)
    return 2  # argparse rejects unknown commands before this


def run() -> None:
    """Console script wrapper: exit with `main`'s status."""
    sys.exit(main())
