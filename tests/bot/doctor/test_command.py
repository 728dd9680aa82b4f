"""``reenviar-bot doctor`` as an operator runs it, against the local Slack and the emulators:
all ✓ when everything is in order; for each fault the right ✗ with its fix, and exit 1.

The command runs as a child process (a clean environment, no ``.env``), so its exit
status, its output and, as root, file permissions are the real ones.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest

from bot.slack.scopes import BOT_SCOPES, USERGROUPS_READ
from devkit.localslack import FakeSlackWebAPI
from tests.bot.doctor.conftest import APP_TOKEN, PV2
from tests.conftest import (
    BOT_TOKEN,
    LUMMY_API_KEY,
    TF_APIKEY,
    TF_APITOKEN,
    TF_USERTOKEN,
)
from tests.processes import (
    clean_env,
    free_port,
    python_bound_by_permissions,
    run_command_async,
)

__all__ = ["python_bound_by_permissions"]  # the fixture, for the read-only test

DB_PASSWORD = "pg-pass-s3cr3t"
SECRETS = (
    BOT_TOKEN,
    APP_TOKEN,
    LUMMY_API_KEY,
    TF_APIKEY,
    TF_APITOKEN,
    TF_USERTOKEN,
    PV2.apikey,
    PV2.apitoken,
    PV2.usertoken,
    DB_PASSWORD,
)
#: Every check, in the order they run, when every provider is configured.
ORDER = [
    "settings",
    "slack_token",
    "slack_scopes",
    "slack_connection",
    "audit_channel",
    "allowed_users",
    "allowed_usergroups",
    "allowed_channels",
    "provider.tusfacturas",
    "provider.tusfacturas.2",
    "provider.lummy",
    "history_store",
    "data_dir",
]


@dataclass
class Entry:
    """One check as the text checklist shows it."""

    mark: str
    summary: str
    lines: list[str] = field(default_factory=list)

    @property
    def fix(self) -> str | None:
        return next(
            (line.removeprefix("Fix: ") for line in self.lines if line.startswith("Fix:")), None
        )


def checklist(text: str) -> dict[str, Entry]:
    """The text output by check title (``(skipped)`` dropped from it)."""
    entries: dict[str, Entry] = {}
    current: Entry | None = None
    for line in text.splitlines():
        if line[:2] in {"✓ ", "✗ ", "– "}:
            title, summary = line[2:].split(": ", 1)
            current = entries[title.removesuffix(" (skipped)")] = Entry(line[0], summary)
        elif line.startswith("    ") and current is not None:
            current.lines.append(line.strip())
    return entries


class Doctor(Protocol):
    async def __call__(
        self, *args: str, python: str | None = None, **changes: str
    ) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture
def doctor(environment: dict[str, str], tmp_path: Path) -> Doctor:
    """Run ``python -m bot doctor *args`` with ``environment`` and ``changes`` to it."""

    async def run(
        *args: str, python: str | None = None, **changes: str
    ) -> subprocess.CompletedProcess[str]:
        env = clean_env(tmp_path, **{**environment, **changes})
        argv = [python or sys.executable, "-m", "bot", "doctor", *args]
        result = await run_command_async(argv, env, tmp_path, timeout=60)
        for secret in SECRETS:
            assert secret not in result.stdout + result.stderr, "a secret reached the output"
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return run


def failures(entries: dict[str, Entry]) -> set[str]:
    return {title for title, entry in entries.items() if entry.mark == "✗"}


async def test_everything_in_order_passes(doctor: Doctor) -> None:
    result = await doctor()

    assert result.returncode == 0, result.stdout
    entries = checklist(result.stdout)
    skipped = {title for title, entry in entries.items() if entry.mark == "–"}
    assert skipped == {"Audit channel", "Allowed channels"}, result.stdout
    assert "channels:read" in entries["Audit channel"].summary
    assert all(entry.fix is None for entry in entries.values())
    assert entries["Settings"].summary == "read from the environment; Socket Mode"
    assert entries["Slack bot token"].summary == (
        "workspace Acme (T0001), bot user @reenviar (U0BOT)"
    )
    assert entries["Slack scopes"].summary == (
        f"all 5 that manifest.yml asks for: {', '.join(BOT_SCOPES)}"
    )
    assert entries["Socket Mode"].summary == "SLACK_APP_TOKEN opens Socket Mode connections"
    assert entries["Allowed users"].summary == "2 user ids, all in Acme"
    assert entries["Allowed user groups"].summary == "1 user group id, all in Acme"
    assert entries["TusFacturas (default credentials)"].mark == "✓"
    assert entries["TusFacturas (punto de venta 2)"].mark == "✓"
    assert entries["Lummy"].mark == "✓"
    assert "migrated (schema version" in entries["History store"].summary
    assert "is writable" in entries["DATA_DIR"].summary
    assert result.stdout.rstrip().endswith("All 11 checks passed (2 skipped).")


async def test_json_for_scripts(doctor: Doctor) -> None:
    result = await doctor("--json")

    assert result.returncode == 0
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [check["key"] for check in report["checks"]] == ORDER
    lummy = report["checks"][ORDER.index("provider.lummy")]
    assert lummy == {
        "key": "provider.lummy",
        "title": "Lummy",
        "status": "passed",
        "summary": "Lummy accepted the credentials",
        "fix": None,
        "details": [],
    }


async def test_a_revoked_bot_token(doctor: Doctor, slack: FakeSlackWebAPI) -> None:
    slack.bot_token_refusal = "token_revoked"

    result = await doctor()

    assert result.returncode == 1
    entries = checklist(result.stdout)
    assert failures(entries) == {"Slack bot token"}
    token = entries["Slack bot token"]
    assert token.summary == "Slack refused SLACK_BOT_TOKEN (token_revoked)"
    assert token.fix is not None
    assert "Reinstall to Workspace" in token.fix
    assert "SLACK_BOT_TOKEN" in token.fix
    for title in ("Slack scopes", "Allowed users", "Allowed user groups"):
        assert entries[title].mark == "–"
        assert entries[title].summary == "needs a working bot token"
    assert entries["Socket Mode"].mark == "✓"  # the app-level token is another token


async def test_a_missing_scope(doctor: Doctor, slack: FakeSlackWebAPI) -> None:
    slack.bot_scopes = tuple(scope for scope in BOT_SCOPES if scope != USERGROUPS_READ)

    result = await doctor()

    assert result.returncode == 1
    entries = checklist(result.stdout)
    assert failures(entries) == {"Slack scopes"}
    scopes = entries["Slack scopes"]
    assert scopes.summary == "missing usergroups:read"
    assert scopes.fix is not None
    assert "reinstall the app" in scopes.fix
    assert entries["Allowed user groups"].summary == "needs usergroups:read, which the token lacks"


async def test_a_wrong_tusfacturas_token(doctor: Doctor) -> None:
    result = await doctor(TUSFACTURAS_APITOKEN="tf-apitoken-wrong")

    assert result.returncode == 1
    entries = checklist(result.stdout)
    assert failures(entries) == {"TusFacturas (default credentials)"}
    refused = entries["TusFacturas (default credentials)"]
    assert refused.summary == "TusFacturas refused the credentials (HTTP 401)"
    assert refused.fix == (
        "Check TUSFACTURAS_APIKEY, TUSFACTURAS_APITOKEN and TUSFACTURAS_USERTOKEN "
        "against the TusFacturas panel."
    )
    assert entries["TusFacturas (punto de venta 2)"].mark == "✓"


async def test_lummy_unreachable(doctor: Doctor) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/v1"

    result = await doctor(LUMMY_BASE_URL=nowhere)

    assert result.returncode == 1
    entries = checklist(result.stdout)
    assert failures(entries) == {"Lummy"}
    lummy = entries["Lummy"]
    assert lummy.summary.startswith(f"Lummy could not be reached at {nowhere}")
    assert lummy.fix == "Check LUMMY_BASE_URL and that this host reaches it (DNS, firewall, proxy)."


async def test_the_database_down(doctor: Doctor) -> None:
    port = free_port()
    url = f"postgresql://reenviar:{DB_PASSWORD}@127.0.0.1:{port}/reenviar"

    result = await doctor(DATABASE_URL=url)

    assert result.returncode == 1
    entries = checklist(result.stdout)
    assert failures(entries) == {"History store"}
    history = entries["History store"]
    assert history.summary.startswith(f"postgresql+asyncpg://reenviar:***@127.0.0.1:{port}")
    assert "cannot be used" in history.summary
    assert history.fix is not None
    assert history.fix.startswith("Check DATABASE_URL")
    assert entries["DATA_DIR"].summary.endswith("is writable (it holds the outbox)")


async def test_a_read_only_data_dir(
    doctor: Doctor, python_bound_by_permissions: str | None, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)
    try:
        result = await doctor(python=python_bound_by_permissions)
    finally:
        data.chmod(0o755)

    assert result.returncode == 1
    entries = checklist(result.stdout)
    # The SQLite history lives there too.
    assert failures(entries) == {"History store", "DATA_DIR"}
    data_dir = entries["DATA_DIR"]
    assert data_dir.summary == f"{data} is not writable (Permission denied)"
    assert data_dir.fix is not None
    assert "mount a writable volume there" in data_dir.fix
    assert entries["History store"].fix == (
        "Make DATA_DIR a writable directory (see the DATA_DIR check)."
    )


async def test_unusable_settings_stop_the_other_checks(doctor: Doctor) -> None:
    result = await doctor(PORT="eighty", LUMMY_BASE_URL="not a url")

    assert result.returncode == 1
    entries = checklist(result.stdout)
    settings = entries["Settings"]
    assert settings.mark == "✗"
    assert settings.summary == "2 variables cannot be used"
    assert any(line.startswith("PORT: ") for line in settings.lines)
    assert any(line.startswith("LUMMY_BASE_URL: ") for line in settings.lines)
    assert entries["The other checks"].mark == "–"
