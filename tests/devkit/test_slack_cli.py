"""The Slack CLI hooks (``.slack/hooks.json``) run as the Slack CLI runs them.

The CLI runs each hook's command through the shell in the project's directory, with
its environment plus the project's ``.env``; once ``get-hooks`` names the
message-boundaries protocol, it appends ``--protocol=message-boundaries
--boundary=<random>`` and reads the answer between two boundaries. It merges the
``get-hooks`` answer with ``hooks.json``, the file winning. Here the project is a
copy of the files the hooks read, with ``.venv`` pointing at the test's virtualenv.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.localslack import FakeSlackWebAPI, process
from tests.blockkit import manifest_errors
from tests.conftest import BOT_TOKEN
from tests.processes import HOST, fake_settings, free_port, run_command_async

REPO = Path(__file__).resolve().parents[2]
HOOKS = REPO / ".slack" / "hooks.json"
APP_TOKEN = "xapp-1-slack-run"
BOUNDARY = "b0undary5f1c2d"


def deep_merge(default: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` over ``default``, object by object (how the CLI reads hooks.json)."""
    merged = dict(default)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project directory as the CLI sees it: hooks.json, manifest.yml and .venv."""
    root = tmp_path / "project"
    (root / ".slack").mkdir(parents=True)
    shutil.copy(HOOKS, root / ".slack" / "hooks.json")
    shutil.copy(REPO / "manifest.yml", root / "manifest.yml")
    (root / ".venv").symlink_to(sys.prefix)
    return root


def hook_environment(project: Path, **settings: str) -> dict[str, str]:
    """What the CLI gives a hook here: the shell's essentials and ``settings``."""
    return {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(project), **settings}


def hooks_file() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(HOOKS.read_text(encoding="utf-8"))
    return loaded


async def get_hooks(project: Path) -> dict[str, Any]:
    """The configuration the CLI ends up with: ``get-hooks``' answer under hooks.json."""
    command = hooks_file()["hooks"]["get-hooks"]
    result = await run_command_async(["sh", "-c", command], hook_environment(project), project)
    assert result.returncode == 0, result.stderr
    return deep_merge(json.loads(result.stdout), hooks_file())


async def test_get_hooks_names_our_hooks_and_the_yaml_manifest(project: Path) -> None:
    config = await get_hooks(project)

    assert config["runtime"] == "python"
    hooks = config["hooks"]
    assert hooks["get-manifest"] == ".venv/bin/python -m devkit.slack_cli get-manifest"
    assert hooks["start"] == ".venv/bin/python -m devkit.slack_cli start"
    # The package's own hooks run with the interpreter that answered get-hooks.
    assert hooks["doctor"].endswith("-m slack_cli_hooks.hooks.doctor")
    settings = config["config"]
    assert settings["protocol-version"][0] == "message-boundaries"
    assert settings["sdk-managed-connection-enabled"] is True
    assert settings["watch"]["manifest"] == {"paths": ["manifest.yml"]}
    assert settings["watch"]["app"]["paths"] == ["bot/", "handlers/", "providers/"]


def test_slack_directory_keeps_local_state_out_of_git() -> None:
    ignored = (REPO / ".slack" / ".gitignore").read_text(encoding="utf-8").split()
    assert ignored == ["apps.dev.json", "cache/"]


@pytest.mark.parametrize("protocol", ["message-boundaries", "default"])
async def test_get_manifest_prints_manifest_yml_as_json(project: Path, protocol: str) -> None:
    command = (await get_hooks(project))["hooks"]["get-manifest"]
    if protocol == "message-boundaries":
        command += f" --protocol=message-boundaries --boundary={BOUNDARY}"

    result = await run_command_async(["sh", "-c", command], hook_environment(project), project)

    assert result.returncode == 0, result.stderr
    answer = result.stdout.strip()
    if protocol == "message-boundaries":
        assert answer.startswith(BOUNDARY)
        assert answer.endswith(BOUNDARY)
        answer = answer[len(BOUNDARY) : -len(BOUNDARY)]
    manifest = json.loads(answer)
    assert manifest == yaml.safe_load((REPO / "manifest.yml").read_text(encoding="utf-8"))
    assert manifest_errors(manifest) == []


async def test_get_manifest_without_the_manifest_fails_readably(project: Path) -> None:
    (project / "manifest.yml").unlink()
    command = (await get_hooks(project))["hooks"]["get-manifest"]

    result = await run_command_async(["sh", "-c", command], hook_environment(project), project)

    assert result.returncode == 1
    assert result.stderr.startswith("Cannot read manifest.yml:")
    assert "Traceback" not in result.stderr


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackWebAPI]:
    async with FakeSlackWebAPI(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as fake:
        yield fake


async def test_start_serves_socket_mode_with_the_cli_tokens(
    project: Path,
    slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
) -> None:
    # A production bot token in .env must not win over the app `slack run` installed.
    (project / ".env").write_text("SLACK_BOT_TOKEN=xoxb-production-token\n", encoding="utf-8")
    settings = fake_settings(slack, lummy, tusfacturas, app_token=APP_TOKEN)
    del settings["SLACK_BOT_TOKEN"], settings["SLACK_APP_TOKEN"]
    port = free_port()
    env = hook_environment(
        project,
        **settings,
        SLACK_CLI_XOXB=BOT_TOKEN,
        SLACK_CLI_XAPP=APP_TOKEN,
        HOST=HOST,
        PORT=str(port),
        DATA_DIR=str(project / "data"),
    )
    command = (await get_hooks(project))["hooks"]["start"]
    command += f" --protocol=message-boundaries --boundary={BOUNDARY}"
    proc = await asyncio.create_subprocess_exec(
        "sh",
        "-c",
        command,
        env=env,
        cwd=project,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # the CLI stops the hook's whole process group
    )
    bot = process.BotProcess(proc, argv=["sh", "-c", command], env=env, port=port)
    try:
        ready = await bot.wait_ready(timeout=30)
        await slack.wait_for_socket_connection()
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGTERM)
        # The shell may end by the signal itself; the bot's own log says how it stopped.
        await bot.wait_exit(timeout=20)

    assert ready["status"] == "ready"
    tokens = {call.headers.get("Authorization") for call in slack.calls_to("auth.test")}
    assert tokens == {f"Bearer {BOT_TOKEN}"}
    assert slack.calls_to("apps.connections.open")
    assert bot.events("serving")[0]["mode"] == "socket"
    assert bot.events("shutdown_complete")[0]["drained"] is True, bot.output()
    assert "Traceback" not in bot.output()
