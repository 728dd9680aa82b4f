"""The Slack checks: the bot token and its scopes, Socket Mode or HTTP, the ids in the settings.

Every call is one the bot itself makes or one its scopes allow, each bounded. A check
that would need a scope the manifest leaves out on purpose (``conversations.info``
needs ``channels:read``) is skipped with a note rather than failed.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Final

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.config import Settings
from bot.doctor.checks import CheckResult, failed, passed, skipped
from bot.slack.client import SLACK_FAILURES, slack_client
from bot.slack.scopes import BOT_SCOPES, CHANNELS_READ, USERGROUPS_READ, USERS_READ

#: The response header in which Slack lists the scopes granted to the calling token.
SCOPES_HEADER: Final = "x-oauth-scopes"
#: Errors that say the token itself is no good.
_REFUSED_TOKEN: Final = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired"}
)
_CHANNEL_ID: Final = re.compile(r"^[CGD][A-Z0-9]{6,}$")

AFTER_AUTH: Final = "needs a working bot token"
REACH_SLACK: Final = (
    "Check SLACK_API_URL and that this host reaches Slack over HTTPS (DNS, firewall, proxy)."
)
INSTALL_APP: Final = (
    "Install the app (Install App > Install to Workspace) and copy the Bot User OAuth "
    "Token (xoxb-…) into SLACK_BOT_TOKEN."
)
REINSTALL_APP: Final = (
    "Install the app again (OAuth & Permissions > Reinstall to Workspace) and copy the "
    "Bot User OAuth Token (xoxb-…) into SLACK_BOT_TOKEN."
)
GENERATE_APP_LEVEL: Final = (
    "Generate an app-level token with the connections:write scope (Basic Information > "
    "App-Level Tokens) and set it as SLACK_APP_TOKEN."
)


@dataclass(frozen=True)
class SlackAnswer:
    """A Web API call's answer, or why there is none."""

    response: AsyncSlackResponse | None = None
    #: Slack's error code (``token_revoked``), or what kept the call from being answered.
    error: str | None = None
    #: False when Slack was not reached at all (network, timeout).
    reached: bool = True

    def scopes(self) -> frozenset[str] | None:
        """The scopes granted to the calling token, when Slack said (its response header)."""
        headers = self.response.headers if self.response is not None else {}
        value = next((v for k, v in headers.items() if k.lower() == SCOPES_HEADER), None)
        if value is None:
            return None
        return frozenset(scope.strip() for scope in str(value).split(",") if scope.strip())


async def call_slack(
    call: Awaitable[AsyncSlackResponse],
    *,
    timeout: float,  # noqa: ASYNC109 - the bound is the point
) -> SlackAnswer:
    """Await one Web API call, at most ``timeout`` seconds; failures become a `SlackAnswer`."""
    try:
        async with asyncio.timeout(timeout):
            return SlackAnswer(await call)
    except SlackApiError as exc:
        return SlackAnswer(exc.response, error=str(exc.response.get("error", "unknown_error")))
    except TimeoutError:
        return SlackAnswer(error=f"no answer within {timeout:g} s", reached=False)
    except SLACK_FAILURES as exc:
        return SlackAnswer(error=type(exc).__name__, reached=False)


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot token is, as ``auth.test`` said, and what it may do."""

    team: str
    team_id: str
    user: str
    user_id: str
    #: None when Slack did not send the header.
    scopes: frozenset[str] | None

    def lacks(self, scope: str) -> bool:
        """Whether the token is known not to have ``scope``."""
        return self.scopes is not None and scope not in self.scopes


class SlackChecks:
    """The Slack part of the checklist, for one set of settings."""

    def __init__(self, settings: Settings, *, socket_mode: bool, timeout: float) -> None:
        self._settings = settings
        self._socket_mode = socket_mode
        self._timeout = timeout
        self._api_url = str(settings.slack_api_url)
        self._client = slack_client(settings.slack_token(), self._api_url)

    async def run(self) -> list[CheckResult]:
        """Every Slack check, in the checklist's order."""
        token, identity = await self.bot_token()
        return [
            token,
            self.scopes(identity),
            await self.connection(),
            self.audit_channel(),
            await self.allowed_users(identity),
            await self.allowed_usergroups(identity),
            self.allowed_channels(),
        ]

    async def bot_token(self) -> tuple[CheckResult, BotIdentity | None]:
        """``auth.test`` with ``SLACK_BOT_TOKEN``: the workspace and the bot user."""
        key, title = "slack_token", "Slack bot token"
        if self._settings.slack_bot_token is None:
            return failed(key, title, "SLACK_BOT_TOKEN is not set", fix=INSTALL_APP), None
        answer = await call_slack(self._client.auth_test(), timeout=self._timeout)
        if not answer.reached:
            summary = f"Slack could not be reached at {self._api_url} ({answer.error})"
            return failed(key, title, summary, fix=REACH_SLACK), None
        if answer.error is not None or answer.response is None:
            summary = f"Slack refused SLACK_BOT_TOKEN ({answer.error})"
            fix = REINSTALL_APP if answer.error in _REFUSED_TOKEN else REACH_SLACK
            return failed(key, title, summary, fix=fix), None
        data = answer.response
        if not data.get("bot_id"):
            summary = "SLACK_BOT_TOKEN works but is not a bot token"
            return failed(key, title, summary, fix=REINSTALL_APP), None
        identity = BotIdentity(
            team=str(data.get("team", "")),
            team_id=str(data.get("team_id", "")),
            user=str(data.get("user", "")),
            user_id=str(data.get("user_id", "")),
            scopes=answer.scopes(),
        )
        summary = (
            f"workspace {identity.team} ({identity.team_id}), "
            f"bot user @{identity.user} ({identity.user_id})"
        )
        return passed(key, title, summary), identity

    @staticmethod
    def scopes(identity: BotIdentity | None) -> CheckResult:
        """The token's scopes against the ones ``manifest.yml`` asks for."""
        key, title = "slack_scopes", "Slack scopes"
        if identity is None:
            return skipped(key, title, AFTER_AUTH)
        if identity.scopes is None:
            note = (
                f"Slack did not list the granted scopes ({SCOPES_HEADER}); compare "
                "OAuth & Permissions with manifest.yml"
            )
            return skipped(key, title, note)
        missing = [scope for scope in BOT_SCOPES if scope not in identity.scopes]
        if missing:
            fix = (
                "Add them under OAuth & Permissions > Scopes (or update the app from "
                "manifest.yml), then reinstall the app and copy the new token into "
                "SLACK_BOT_TOKEN."
            )
            return failed(key, title, f"missing {', '.join(missing)}", fix=fix)
        summary = f"all {len(BOT_SCOPES)} that manifest.yml asks for: {', '.join(BOT_SCOPES)}"
        extra = sorted(identity.scopes - set(BOT_SCOPES))
        if extra:
            summary += f"; also granted, not needed: {', '.join(extra)}"
        return passed(key, title, summary)

    async def connection(self) -> CheckResult:
        """Socket Mode: the app-level token opens a connection. HTTP: the signing secret."""
        settings = self._settings
        if not self._socket_mode:
            key, title = "slack_connection", "HTTP mode"
            if settings.slack_signing_secret is None:
                fix = (
                    "Copy the Signing Secret (Basic Information > App Credentials) into "
                    "SLACK_SIGNING_SECRET, or set SLACK_APP_TOKEN for Socket Mode."
                )
                return failed(key, title, "SLACK_SIGNING_SECRET is not set", fix=fix)
            summary = (
                "SLACK_SIGNING_SECRET is set; the app's request URLs must be "
                "https://<this host>/slack/events"
            )
            return passed(key, title, summary)
        key, title = "slack_connection", "Socket Mode"
        app_token = settings.slack_app_token
        assert app_token is not None  # Socket Mode is chosen by its presence
        opening = self._client.apps_connections_open(app_token=app_token.get_secret_value())
        answer = await call_slack(opening, timeout=self._timeout)
        if not answer.reached:
            summary = f"Slack could not be reached at {self._api_url} ({answer.error})"
            return failed(key, title, summary, fix=REACH_SLACK)
        if answer.error is None:
            return passed(key, title, "SLACK_APP_TOKEN opens Socket Mode connections")
        summary = f"Slack refused SLACK_APP_TOKEN ({answer.error})"
        if answer.error == "not_allowed_token_type":
            fix = "SLACK_APP_TOKEN must be the app-level token (xapp-…), not the bot token."
        elif answer.error in _REFUSED_TOKEN or answer.error == "missing_scope":
            fix = GENERATE_APP_LEVEL
        else:
            fix = "Turn Socket Mode on in the app's settings, or unset SLACK_APP_TOKEN for HTTP."
        return failed(key, title, summary, fix=fix)

    def audit_channel(self) -> CheckResult:
        """``AUDIT_CHANNEL_ID``: an id, which the manifest's scopes cannot look up."""
        key, title = "audit_channel", "Audit channel"
        channel = self._settings.audit_channel_id
        if channel is None:
            return skipped(key, title, "AUDIT_CHANNEL_ID is not set: no audit line per attempt")
        return _channels_check(key, title, {"AUDIT_CHANNEL_ID": [channel]}) or skipped(
            key,
            title,
            f"{channel} not looked up: conversations.info needs {CHANNELS_READ}, which the "
            "manifest leaves out on purpose (the bot posts there with chat:write.public, or "
            "as a member of a private channel)",
        )

    def allowed_channels(self) -> CheckResult:
        """``ALLOWED_CHANNEL_IDS``: ids, which the manifest's scopes cannot look up."""
        key, title = "allowed_channels", "Allowed channels"
        channels = self._settings.allowed_channel_ids
        if not channels:
            return skipped(key, title, "ALLOWED_CHANNEL_IDS is not set: every channel may re-send")
        return _channels_check(key, title, {"ALLOWED_CHANNEL_IDS": channels}) or skipped(
            key,
            title,
            f"{_count(len(channels), 'channel id')} not looked up: conversations.info needs "
            f"{CHANNELS_READ}, which the manifest leaves out on purpose",
        )

    async def allowed_users(self, identity: BotIdentity | None) -> CheckResult:
        """Every id in ``ALLOWED_USER_IDS`` and ``ALTERNATIVE_EMAIL_USER_IDS`` is a member."""
        key, title = "allowed_users", "Allowed users"
        settings = self._settings
        lists = _named_lists(
            ALLOWED_USER_IDS=settings.allowed_user_ids,
            ALTERNATIVE_EMAIL_USER_IDS=settings.alternative_email_user_ids,
        )
        checkable = _checkable(key, title, lists, identity, USERS_READ, "ALLOWED_USER_IDS")
        if isinstance(checkable, CheckResult):
            return checkable
        problems: list[str] = []
        for variable, user_id in _each(lists):
            answer = await call_slack(self._client.users_info(user=user_id), timeout=self._timeout)
            if not answer.reached:
                problems.append(f"{variable}: {user_id} could not be checked ({answer.error})")
            elif answer.error is not None or answer.response is None:
                problems.append(f"{variable}: {user_id} not found ({answer.error})")
            elif _is_deactivated(answer.response.get("user")):
                problems.append(f"{variable}: {user_id} is deactivated")
        return _ids_result(
            key,
            title,
            problems,
            count=sum(len(ids) for ids in lists.values()),
            what="user id",
            where=checkable.team,
            fix="Use member ids (U…: a profile's ⋮ menu > Copy member ID) of active members "
            "of this workspace.",
        )

    async def allowed_usergroups(self, identity: BotIdentity | None) -> CheckResult:
        """Every id in ``ALLOWED_USERGROUP_IDS`` and ``ALTERNATIVE_EMAIL_USERGROUP_IDS`` is a
        user group of the workspace (``usergroups.list``: the manifest grants its scope)."""
        key, title = "allowed_usergroups", "Allowed user groups"
        settings = self._settings
        lists = _named_lists(
            ALLOWED_USERGROUP_IDS=settings.allowed_usergroup_ids,
            ALTERNATIVE_EMAIL_USERGROUP_IDS=settings.alternative_email_usergroup_ids,
        )
        checkable = _checkable(
            key, title, lists, identity, USERGROUPS_READ, "ALLOWED_USERGROUP_IDS"
        )
        if isinstance(checkable, CheckResult):
            return checkable
        answer = await call_slack(self._client.usergroups_list(), timeout=self._timeout)
        if answer.error is not None or answer.response is None:
            fix = REACH_SLACK if not answer.reached else REINSTALL_APP
            return failed(key, title, f"usergroups.list failed ({answer.error})", fix=fix)
        groups = answer.response.get("usergroups")
        known = (
            {g.get("id") for g in groups if isinstance(g, dict)}
            if isinstance(groups, list)
            else set()
        )
        problems = [
            f"{variable}: {group_id} not found (or disabled)"
            for variable, group_id in _each(lists)
            if group_id not in known
        ]
        return _ids_result(
            key,
            title,
            problems,
            count=sum(len(ids) for ids in lists.values()),
            what="user group id",
            where=checkable.team,
            fix="Use the ids (S…) of enabled user groups of this workspace.",
        )


def _is_deactivated(user: object) -> bool:
    return isinstance(user, dict) and bool(user.get("deleted"))


def _named_lists(**lists: list[str]) -> dict[str, list[str]]:
    """The variables that hold ids, by name."""
    return {name: ids for name, ids in lists.items() if ids}


def _each(lists: dict[str, list[str]]) -> Iterable[tuple[str, str]]:
    return ((variable, item) for variable, ids in lists.items() for item in ids)


def _channels_check(key: str, title: str, lists: dict[str, list[str]]) -> CheckResult | None:
    """A failure when a value is not shaped like a channel id (a name, say); else None."""
    bad = [
        f"{variable}: {value!r} is not a channel id"
        for variable, value in _each(lists)
        if not _CHANNEL_ID.match(value)
    ]
    if not bad:
        return None
    fix = "Use the channel's id (C…, at the bottom of the channel's details), not its name."
    return failed(key, title, "not a channel id", fix=fix, details=tuple(bad))


def _ids_result(
    key: str, title: str, problems: list[str], *, count: int, what: str, where: str, fix: str
) -> CheckResult:
    if problems:
        summary = f"{len(problems)} of {_count(count, what)} do not resolve"
        return failed(key, title, summary, fix=fix, details=tuple(problems))
    return passed(key, title, f"{_count(count, what)}, all in {where}")


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _checkable(
    key: str,
    title: str,
    lists: dict[str, list[str]],
    identity: BotIdentity | None,
    scope: str,
    variable: str,
) -> CheckResult | BotIdentity:
    """The identity to check an allowlist with, or why the check is skipped (nothing
    listed, no token, a scope the token lacks)."""
    if not lists:
        return skipped(key, title, f"{variable} is not set")
    if identity is None:
        return skipped(key, title, AFTER_AUTH)
    if identity.lacks(scope):
        return skipped(key, title, f"needs {scope}, which the token lacks")
    return identity
