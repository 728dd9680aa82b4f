"""The Slack checks, one by one, against the local Slack: what each finds and what it advises."""

from __future__ import annotations

from typing import Any

from bot.doctor.checks import Status
from bot.doctor.slack import BotIdentity, SlackAnswer, SlackChecks
from bot.slack.scopes import BOT_SCOPES
from devkit.localslack import FakeSlackWebAPI
from tests.bot.doctor.conftest import GROUP, settings_from
from tests.conftest import AGENT, BOT_TOKEN
from tests.processes import free_port

TIMEOUT = 2.0


def checks(environment: dict[str, str], *, socket_mode: bool = True, **changes: Any) -> SlackChecks:
    """The Slack checks of ``environment`` with ``changes``."""
    settings = settings_from(environment, **changes)
    return SlackChecks(settings, socket_mode=socket_mode, timeout=TIMEOUT)


async def test_unknown_and_deactivated_members_are_named(
    environment: dict[str, str], slack: FakeSlackWebAPI
) -> None:
    slack.add_user("U0GONE", "ido", deleted=True)
    doctor = checks(
        environment,
        allowed_user_ids=[AGENT, "U0NOBODY"],
        alternative_email_user_ids=["U0GONE"],
    )
    _, identity = await doctor.bot_token()

    result = await doctor.allowed_users(identity)

    assert result.status is Status.FAILED
    assert result.summary == "2 of 3 user ids do not resolve"
    assert result.details == (
        "ALLOWED_USER_IDS: U0NOBODY not found (user_not_found)",
        "ALTERNATIVE_EMAIL_USER_IDS: U0GONE is deactivated",
    )
    assert result.fix is not None
    assert "Copy member ID" in result.fix


async def test_an_unknown_user_group_is_named(environment: dict[str, str]) -> None:
    doctor = checks(environment, alternative_email_usergroup_ids=["S0OTHER"])
    _, identity = await doctor.bot_token()

    result = await doctor.allowed_usergroups(identity)

    assert result.status is Status.FAILED
    assert result.summary == "1 of 2 user group ids do not resolve"
    assert result.details == ("ALTERNATIVE_EMAIL_USERGROUP_IDS: S0OTHER not found (or disabled)",)
    assert GROUP not in " ".join(result.details)


async def test_a_channel_name_is_not_a_channel_id(environment: dict[str, str]) -> None:
    doctor = checks(environment, audit_channel_id="#auditoria", allowed_channel_ids=["soporte"])

    audit, allowed = doctor.audit_channel(), doctor.allowed_channels()

    assert (audit.status, allowed.status) == (Status.FAILED, Status.FAILED)
    assert audit.details == ("AUDIT_CHANNEL_ID: '#auditoria' is not a channel id",)
    assert allowed.details == ("ALLOWED_CHANNEL_IDS: 'soporte' is not a channel id",)
    assert audit.fix is not None
    assert "not its name" in audit.fix


async def test_socket_mode_tokens_that_slack_refuses(environment: dict[str, str]) -> None:
    wrong = await checks(environment, slack_app_token="xapp-1-not-this-one").connection()
    bot_token = await checks(environment, slack_app_token=BOT_TOKEN).connection()

    assert wrong.summary == "Slack refused SLACK_APP_TOKEN (invalid_auth)"
    assert wrong.fix is not None
    assert "connections:write" in wrong.fix
    assert bot_token.summary == "Slack refused SLACK_APP_TOKEN (not_allowed_token_type)"
    assert bot_token.fix == (
        "SLACK_APP_TOKEN must be the app-level token (xapp-…), not the bot token."
    )


async def test_http_mode_needs_the_signing_secret(environment: dict[str, str]) -> None:
    with_secret = await checks(environment, socket_mode=False).connection()
    without = await checks(environment, socket_mode=False, slack_signing_secret=None).connection()

    assert (with_secret.title, with_secret.status) == ("HTTP mode", Status.PASSED)
    assert "https://<this host>/slack/events" in with_secret.summary
    assert (without.status, without.summary) == (Status.FAILED, "SLACK_SIGNING_SECRET is not set")


async def test_scopes_beyond_the_manifest_are_mentioned(
    environment: dict[str, str], slack: FakeSlackWebAPI
) -> None:
    slack.bot_scopes = (*BOT_SCOPES, "channels:history")
    _, identity = await checks(environment).bot_token()

    result = SlackChecks.scopes(identity)

    assert result.status is Status.PASSED
    assert result.summary.endswith("; also granted, not needed: channels:history")


def test_scopes_slack_did_not_list_are_not_a_failure() -> None:
    identity = BotIdentity("Acme", "T0001", "reenviar", "U0BOT", scopes=None)

    result = SlackChecks.scopes(identity)

    assert result.status is Status.SKIPPED
    assert "x-oauth-scopes" in result.summary
    assert SlackAnswer(error="timeout", reached=False).scopes() is None


async def test_a_token_that_is_not_a_bot_token(
    environment: dict[str, str], slack: FakeSlackWebAPI
) -> None:
    slack.add_method("auth.test", lambda params: {"team": "Acme", "user": "ana", "user_id": AGENT})

    result, identity = await checks(environment).bot_token()

    assert (result.status, result.summary) == (
        Status.FAILED,
        "SLACK_BOT_TOKEN works but is not a bot token",
    )
    assert identity is None


async def test_slack_unreachable_or_slow(
    environment: dict[str, str], slack: FakeSlackWebAPI
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/api/"
    unreachable, _ = await checks(environment, slack_api_url=nowhere).bot_token()
    slack.set_latency("auth.test", 5)
    settings = settings_from(environment)
    slow = SlackChecks(settings, socket_mode=True, timeout=0.3)
    timed_out, _ = await slow.bot_token()

    assert unreachable.summary.startswith(f"Slack could not be reached at {nowhere} (")
    assert unreachable.fix is not None
    assert unreachable.fix.startswith("Check SLACK_API_URL")
    assert timed_out.summary == (
        f"Slack could not be reached at {settings.slack_api_url} (no answer within 0.3 s)"
    )
