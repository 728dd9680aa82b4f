"""``reenviar-bot doctor``: every check in order, as a checklist; exit 0 only if none failed.

The order follows what depends on what: the settings, then Slack (the token first:
the scope and id checks need it), the providers, the history store and ``DATA_DIR``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Final

from bot.config import LOAD_ERRORS, Settings, setting_problems
from bot.doctor.checks import CheckResult, bounded, failed, passed, skipped
from bot.doctor.providers import provider_checks
from bot.doctor.report import all_passed, as_json, as_text, redacted
from bot.doctor.slack import SlackChecks
from bot.doctor.storage import DATA_DIR_KEY, DATA_DIR_TITLE, HISTORY_KEY, HISTORY_TITLE
from bot.doctor.storage import data_dir as data_dir_check
from bot.doctor.storage import history_store as history_store_check
from bot.logs import configure_logging

ENV_FILE: Final = ".env"


def run_doctor(*, json_output: bool, http: bool, timeout: float) -> int:
    """Run every check, print the checklist (or JSON) on stdout; 0 when none failed, else 1."""
    settings_result, settings = load_settings(http=http)
    if settings is None:
        rest = skipped("checks", "The other checks", "they need valid settings")
        results = [settings_result, rest]
        secrets: list[str] = []
    else:
        configure_logging(
            level="WARNING", fmt=settings.log_format, secrets=settings.secret_values()
        )
        checks = asyncio.run(diagnose(settings, http=http, timeout=timeout))
        results = [settings_result, *checks]
        secrets = settings.secret_values()
    results = redacted(results, secrets)
    sys.stdout.write(as_json(results) + "\n" if json_output else as_text(results))
    return 0 if all_passed(results) else 1


def load_settings(*, http: bool) -> tuple[CheckResult, Settings | None]:
    """The settings check, and the settings when they load."""
    key, title = "settings", "Settings"
    try:
        settings = Settings.load(env_file=ENV_FILE)
    except LOAD_ERRORS as exc:
        problems = setting_problems(env_file=ENV_FILE) or [
            f"{type(exc).__name__} while reading the settings"
        ]
        fix = "Correct them in the environment or in .env (.env.example describes each one)."
        summary = (
            "1 variable cannot be used"
            if len(problems) == 1
            else (f"{len(problems)} variables cannot be used")
        )
        return failed(key, title, summary, fix=fix, details=tuple(problems)), None
    source = ".env and the environment" if Path(ENV_FILE).is_file() else "the environment"
    mode = "Socket Mode" if uses_socket_mode(settings, http=http) else "HTTP mode"
    return passed(key, title, f"read from {source}; {mode}"), settings


def uses_socket_mode(settings: Settings, *, http: bool) -> bool:
    """The mode ``reenviar-bot serve`` would pick (``--http`` forces HTTP)."""
    return settings.slack_app_token is not None and not http


async def diagnose(
    settings: Settings,
    *,
    http: bool,
    timeout: float,  # noqa: ASYNC109 - each check is bounded by it
) -> list[CheckResult]:
    """Every check after the settings, in order."""
    slack = SlackChecks(
        settings, socket_mode=uses_socket_mode(settings, http=http), timeout=timeout
    )
    results = await slack.run()
    results.extend(await provider_checks(settings, timeout=timeout))
    results.append(
        await bounded(
            history_store_check(settings),
            key=HISTORY_KEY,
            title=HISTORY_TITLE,
            timeout=timeout,
            fix="Check DATABASE_URL and that this host reaches the database server.",
        )
    )
    results.append(
        await bounded(
            data_dir_check(settings),
            key=DATA_DIR_KEY,
            title=DATA_DIR_TITLE,
            timeout=timeout,
            fix="Check the storage behind DATA_DIR (a hung network mount, a full disk).",
        )
    )
    return results
