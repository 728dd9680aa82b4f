"""The bot under demo is the production bot: same entry point, no demo branch anywhere.

The demo may only *configure* the bot (environment variables that are ordinary
settings) and talk to it over HTTP as Slack does. These tests check the command
line and the environment of the running process, and that no production module
so much as mentions the demo.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bot.config import Settings
from devkit.demo.session import DemoSession, bot_argv
from providers.registry import builtin_registry

ROOT = Path(__file__).resolve().parents[3]
#: Not part of the bot process: the demo itself, the local Slack, the provider emulators.
NOT_PRODUCTION = (
    ROOT / "bot" / "demo",
    ROOT / "bot" / "localslack",
    ROOT / "providers" / "emulators",
)
#: Wires the ``demo`` subcommand next to ``serve``; checked separately below.
CLI = ROOT / "bot" / "cli.py"
#: What Python needs to start, besides the bot's settings.
PROCESS_ENV = {
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "SYSTEMROOT",
    "PYTHONPATH",
    "PYTHONUNBUFFERED",
}


def production_modules() -> list[Path]:
    modules = []
    for package in ("bot", "handlers", "providers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == CLI:
                continue
            modules.append(path)
    return modules


def settings_variables() -> set[str]:
    names = set()
    for name, info in Settings.model_fields.items():
        names.add(name.upper())
        alias = info.validation_alias
        for choice in getattr(alias, "choices", ()):
            names.add(str(choice).upper())
    for provider in builtin_registry().values():
        prefix = str(provider.settings_model.model_config.get("env_prefix") or "")
        names.update((prefix + name).upper() for name in provider.settings_model.model_fields)
    return names


def test_the_command_line_is_the_production_entry_point() -> None:
    assert bot_argv(4321) == [
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--http",
        "--host",
        "127.0.0.1",
        "--port",
        "4321",
    ]


def test_no_production_module_mentions_the_demo() -> None:
    modules = production_modules()
    assert ROOT / "bot" / "app.py" in modules
    assert ROOT / "bot" / "server.py" in modules
    assert ROOT / "handlers" / "modal.py" in modules
    assert ROOT / "providers" / "lummy" / "provider.py" in modules
    offenders = [
        str(path.relative_to(ROOT))
        for path in modules
        if "demo" in path.read_text(encoding="utf-8").lower()
    ]
    assert offenders == []


def test_the_serve_command_has_no_demo_branch() -> None:
    tree = ast.parse(CLI.read_text(encoding="utf-8"))
    source = CLI.read_text(encoding="utf-8")
    functions = {
        node.name: ast.get_source_segment(source, node) or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
    }
    assert "_serve" in functions
    assert "demo" not in functions["_serve"].lower()


def test_the_demo_machinery_never_loads_into_the_bot_process() -> None:
    # bot/cli.py imports devkit.demo.cli to offer the subcommand; that import (and the
    # whole CLI module) must not bring the local Slack, the emulators or the session.
    probe = (
        "import sys, bot.cli, devkit.demo.cli; "
        "print(sorted(m for m in sys.modules if m.startswith("
        "('devkit.demo.session', 'devkit.demo.render', 'devkit.localslack', 'devkit.emulators'))))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        check=True,
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.timeout(30)
async def test_the_running_bot_is_configured_only_through_its_settings(tmp_path: Path) -> None:
    async with DemoSession(workdir=tmp_path) as session:
        argv = session.bot_argv
        assert argv[:7] == [sys.executable, "-m", "bot", "serve", "--http", "--host", "127.0.0.1"]
        assert argv[7] == "--port"
        assert argv[8].isdigit()
        assert len(argv) == 9
        running = _cmdline(session.bot_pid)
        if running is not None:  # Linux: what the kernel says the process runs
            assert running == argv

        env = session.bot_env
        assert set(env) - PROCESS_ENV <= settings_variables()
        assert not [name for name in env if "DEMO" in name.upper()]
        assert not [name for name in env if name.startswith("ALLOWED_")]
        assert env["LOG_FORMAT"] == "json"
        assert Path(env["DATA_DIR"]).is_relative_to(tmp_path)
        for name in ("SLACK_API_URL", "LUMMY_BASE_URL", "TUSFACTURAS_BASE_URL"):
            assert urlsplit(env[name]).hostname == "127.0.0.1", name
        assert session.log_path.is_relative_to(tmp_path)
        pid = session.bot_pid
    assert pid is not None
    assert _gone(pid), "the bot process outlived the session"


def _cmdline(pid: int | None) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode() for part in raw.split(b"\0")[:-1]]


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # reaped (or not Linux: stop() waited for it)
    return "State:\tZ" in status
