"""``manifest.yml``: a valid Slack app manifest that matches what the bot needs and serves."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.server import EVENTS_PATH
from bot.slack.scopes import BOT_SCOPES
from handlers import usergroups, workflow_step
from handlers.command import COMMAND
from handlers.shortcut import SHORTCUT_CALLBACK_ID
from tests.blockkit import manifest_errors

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"

#: What the bot calls: views.open (no scope), chat.postMessage/update (chat:write, plus
#: chat:write.public for public channels it has not joined; a DM is a post to the user id),
#: users.info (users:read, for the agent's time zone).
LEAST_PRIVILEGE_BOT_SCOPES = {
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "usergroups:read",
}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    """The parsed manifest (file-local fixture)."""
    loaded = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _only_command(manifest: dict[str, Any]) -> dict[str, Any]:
    commands = manifest["features"]["slash_commands"]
    assert len(commands) == 1
    command: dict[str, Any] = commands[0]
    return command


def test_manifest_is_valid_for_slack(manifest: dict[str, Any]) -> None:
    assert manifest["_metadata"]["major_version"] == 1
    assert manifest_errors(manifest) == []
    # The schema names this pattern with a non-standard keyword, so it is not enforced.
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["display_information"]["background_color"])


def test_display_information_is_spanish(manifest: dict[str, Any]) -> None:
    info = manifest["display_information"]
    assert info["name"] == "Reenviar"
    assert "factura" in info["description"].lower()
    assert 175 <= len(info["long_description"]) <= 4000
    assert manifest["features"]["bot_user"] == {"display_name": "reenviar", "always_online": False}


def test_slash_command_matches_the_handler(manifest: dict[str, Any]) -> None:
    command = _only_command(manifest)
    assert command["command"] == COMMAND == "/reenviar"
    assert command["should_escape"] is False
    assert "ayuda" in command["usage_hint"]
    assert "Factura B 0002-00000006" in command["usage_hint"]
    assert command["description"].startswith("Reenvía")


def test_bot_scopes_are_exactly_the_least_needed(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert set(scopes) == {"bot"}, "no user scopes"
    assert len(scopes["bot"]) == len(set(scopes["bot"]))
    assert set(scopes["bot"]) == LEAST_PRIVILEGE_BOT_SCOPES


def test_the_bot_ships_the_manifests_scopes(manifest: dict[str, Any]) -> None:
    """An installed bot has no manifest.yml: `reenviar-bot doctor` checks the token
    against the copy in the package, which must not drift."""
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES


def test_settings_use_socket_mode_with_interactivity(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    # Workflow Builder steps need an org-ready app running its functions itself.
    assert settings["org_deploy_enabled"] is True
    assert settings["function_runtime"] == "remote"
    assert settings["token_rotation_enabled"] is False
    # Socket Mode: no request URLs anywhere (they would point at a placeholder host).
    assert "request_url" not in settings["interactivity"]
    assert "request_url" not in settings["event_subscriptions"]
    assert "url" not in _only_command(manifest)


def test_subscribes_to_the_user_group_events_it_handles(manifest: dict[str, Any]) -> None:
    """Revocation in seconds needs Slack to tell the bot when a group changes."""
    bot_events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert set(usergroups.EVENTS) <= set(bot_events)
    assert "usergroups:read" in manifest["oauth_config"]["scopes"]["bot"]  # what they need


def test_documented_http_variant_is_valid(manifest: dict[str, Any]) -> None:
    """The switch described in the file's comments gives a valid manifest for HTTP mode."""
    text = MANIFEST.read_text(encoding="utf-8")
    assert "socket_mode_enabled: false" in text
    assert f"url: https://<host>{EVENTS_PATH}" in text
    assert f"request_url: https://<host>{EVENTS_PATH}" in text

    http = copy.deepcopy(manifest)
    url = f"https://reenviar.example.com{EVENTS_PATH}"
    http["settings"]["socket_mode_enabled"] = False
    http["settings"]["interactivity"]["request_url"] = url
    http["settings"]["event_subscriptions"]["request_url"] = url
    _only_command(http)["url"] = url
    assert manifest_errors(http) == []


def test_message_shortcut_matches_the_handler(manifest: dict[str, Any]) -> None:
    (shortcut,) = manifest["features"]["shortcuts"]
    assert shortcut["type"] == "message"
    assert shortcut["callback_id"] == SHORTCUT_CALLBACK_ID
    assert shortcut["name"] == "Reenviar factura"


def test_home_tab_is_on_and_its_event_subscribed(manifest: dict[str, Any]) -> None:
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] is True
    # Outcomes of re-sends started in the Home arrive by DM; nobody is expected to type there.
    assert home["messages_tab_enabled"] is True
    assert home["messages_tab_read_only_enabled"] is True
    assert "app_home_opened" in manifest["settings"]["event_subscriptions"]["bot_events"]


def test_workflow_step_matches_the_handler(manifest: dict[str, Any]) -> None:
    (callback_id,) = manifest["functions"]
    assert callback_id == workflow_step.STEP_CALLBACK_ID
    step = manifest["functions"][callback_id]
    inputs, outputs = step["input_parameters"], step["output_parameters"]
    assert set(inputs) == {
        workflow_step.INPUT_PROVIDER,
        workflow_step.INPUT_REFERENCE,
        workflow_step.INPUT_EMAIL,
        workflow_step.INPUT_CHANNEL,
        workflow_step.INPUT_USER,
    }
    required = {name for name, spec in inputs.items() if spec.get("is_required")}
    assert required == {workflow_step.INPUT_REFERENCE}
    assert inputs[workflow_step.INPUT_USER]["type"] == "slack#/types/user_context"
    assert set(outputs) == set(workflow_step.OUTPUTS)
    assert outputs["success"]["type"] == "boolean"
    assert outputs["sent_at"]["type"] == "slack#/types/timestamp"
    # Slack sends function_executed for the functions declared: it is not subscribed to.
    assert "function_executed" not in manifest["settings"]["event_subscriptions"]["bot_events"]
