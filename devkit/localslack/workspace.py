"""The fake workspace's state: its team and app, members, conversations, messages, modals.

Plain dataclasses that tests and the demo inspect directly, and `Workspace`, which
holds them with the rules every Web API method shares: ids and timestamps, which
channels the bot can see or write to, and the DMs it opens.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from devkit.localslack.protocol import JsonDict, SlackApiRefusal

__all__ = [
    "TRIGGER_TTL_SECONDS",
    "Channel",
    "EphemeralMessage",
    "Message",
    "ResponseUrl",
    "ResponseUrlMessage",
    "Trigger",
    "User",
    "Workspace",
]

#: How long a trigger id stays valid, as in Slack.
TRIGGER_TTL_SECONDS: Final = 3.0

_TZ_LABELS: Final = {
    "America/Argentina/Buenos_Aires": "Argentina Time",
    "America/Mexico_City": "Central Standard Time",
    "America/Bogota": "Colombia Standard Time",
    "America/Santiago": "Chile Standard Time",
    "America/New_York": "Eastern Standard Time",
    "Europe/Madrid": "Central European Time",
    "UTC": "Coordinated Universal Time",
}


@dataclass
class User:
    """A workspace member, as returned by ``users.info``."""

    id: str
    name: str
    real_name: str
    display_name: str
    tz: str
    tz_label: str
    tz_offset: int
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False

    def as_slack(self, team_id: str) -> JsonDict:
        """Return the Slack-shaped user object."""
        profile: JsonDict = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "team": team_id,
        }
        if self.email is not None:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz_label,
            "tz_offset": self.tz_offset,
            "is_bot": self.is_bot,
            "is_admin": False,
            "is_app_user": False,
            "profile": profile,
        }


@dataclass
class Channel:
    """A conversation: public/private channel, DM (``D...``) or group DM."""

    id: str
    name: str
    bot_is_member: bool = True
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    is_mpim: bool = False
    #: For DMs opened by ``conversations.open``: the other user(s).
    dm_users: tuple[str, ...] = ()
    #: Known human members; ``None`` means "anyone" (membership not modelled).
    members: set[str] | None = None

    def as_slack(self) -> JsonDict:
        """Return the Slack-shaped conversation object."""
        data: JsonDict = {
            "id": self.id,
            "name": self.name,
            "is_channel": not (self.is_im or self.is_mpim) and not self.is_private,
            "is_group": self.is_private and not (self.is_im or self.is_mpim),
            "is_im": self.is_im,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_im or self.is_mpim,
            "is_archived": self.is_archived,
            "is_member": self.bot_is_member,
        }
        if self.is_im and self.dm_users:
            data["user"] = self.dm_users[0]
        return data


@dataclass
class Message:
    """A message visible in a channel."""

    channel: str
    ts: str
    text: str
    blocks: list[Any] = field(default_factory=list)
    user: str | None = None
    bot_id: str | None = None
    thread_ts: str | None = None
    edited: bool = False
    edited_ts: str | None = None
    attachments: list[Any] = field(default_factory=list)
    #: ``"api"`` (chat.postMessage) or ``"response_url"``.
    source: str = "api"

    def as_slack(self) -> JsonDict:
        """Return the Slack-shaped message object."""
        data: JsonDict = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user is not None:
            data["user"] = self.user
        if self.bot_id is not None:
            data["bot_id"] = self.bot_id
        if self.blocks:
            data["blocks"] = copy.deepcopy(self.blocks)
        if self.attachments:
            data["attachments"] = copy.deepcopy(self.attachments)
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        if self.edited:
            data["edited"] = {"user": self.user, "ts": self.edited_ts}
        return data


@dataclass
class EphemeralMessage:
    """A message only ``user`` can see in ``channel``."""

    channel: str
    user: str
    message_ts: str
    text: str
    blocks: list[Any] = field(default_factory=list)
    thread_ts: str | None = None
    #: ``"api"`` (chat.postEphemeral) or ``"response_url"``.
    source: str = "api"
    replaced: bool = False
    deleted: bool = False


@dataclass
class ResponseUrl:
    """A ``response_url`` issued for a slash command or a message action."""

    token: str
    channel_id: str
    user_id: str
    created_at: float
    #: The message an action came from, which ``replace_original`` targets.
    message_ts: str | None = None
    uses: int = 0
    last_ephemeral: EphemeralMessage | None = None


@dataclass
class ResponseUrlMessage:
    """One message posted to a ``response_url``."""

    token: str
    channel_id: str
    user_id: str
    response_type: str
    text: str
    blocks: list[Any]
    replace_original: bool
    delete_original: bool
    payload: JsonDict
    at: float


@dataclass
class Trigger:
    """A trigger id issued with an interaction; lets the app open a modal once, for 3 s."""

    id: str
    issued_at: float
    user_id: str | None = None
    view_id: str | None = None
    used: bool = False


class Workspace:
    """One Slack workspace with the app installed: who and what is in it, and its rules.

    The collections are public and mutable on purpose: tests and the demo read them
    and set up odd states directly.
    """

    def __init__(
        self,
        *,
        bot_token: str,
        team_id: str,
        bot_user_id: str,
        bot_id: str,
        bot_user_name: str,
        app_id: str,
        team_name: str,
        team_domain: str,
        check_triggers: bool,
        trigger_ttl: float,
        chat_write_public: bool,
        clock: Callable[[], float],
        app_token: str | None,
        bot_scopes: Iterable[str],
        app_token_scopes: Iterable[str],
    ) -> None:
        self.bot_token = bot_token
        #: The scopes the bot token was granted (reported in ``x-oauth-scopes``; which
        #: methods answer follows the flags, such as ``chat_write_public``).
        self.bot_scopes = tuple(bot_scopes)
        #: Set to an error (``token_revoked``, ``invalid_auth``) and the bot token is refused
        #: by every method, as after the app was uninstalled.
        self.bot_token_refusal: str | None = None
        self.app_token_scopes = tuple(app_token_scopes)
        #: The app-level token (``xapp-...``) that ``apps.connections.open`` accepts;
        #: ``None``: Socket Mode is off and every token is refused.
        self.app_token = app_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.bot_user_name = bot_user_name
        self.app_id = app_id
        self.team_name = team_name
        self.team_domain = team_domain
        self.check_triggers = check_triggers
        self.trigger_ttl = trigger_ttl
        #: With the ``chat:write.public`` scope the bot may post in public channels it
        #: has not joined.
        self.chat_write_public = chat_write_public
        self.clock = clock

        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, list[str]] = {}
        #: Each user group's handle (``@soporte``), for ``usergroups.list``.
        self.usergroup_handles: dict[str, str] = {}
        self.messages: dict[str, list[Message]] = {}
        self.ephemeral: dict[tuple[str, str], list[EphemeralMessage]] = {}
        self.views: dict[str, JsonDict] = {}
        #: Views that were closed (submitted without ``response_action``, or cleared).
        self.closed_views: dict[str, JsonDict] = {}
        #: Who each open view belongs to (the user whose trigger opened it).
        self.view_owner: dict[str, str] = {}
        self.triggers: dict[str, Trigger] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.response_url_messages: list[ResponseUrlMessage] = []
        #: Each member's App Home tab as the app last published it (``views.publish``).
        self.home_views: dict[str, JsonDict] = {}
        #: Tokens Slack issued for workflow step executions (``bot_access_token``).
        self.workflow_tokens: set[str] = set()

        self._dm_by_users: dict[tuple[str, ...], str] = {}
        self._last_ts_micros = 0
        self._counter = 0

    # ------------------------------------------------------------------ set-up

    def add_user(
        self,
        user_id: str,
        name: str,
        real_name: str | None = None,
        tz: str = "America/Argentina/Buenos_Aires",
        tz_offset: int = -10800,
        *,
        display_name: str | None = None,
        tz_label: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> User:
        """Add (or replace) a workspace member."""
        user = User(
            id=user_id,
            name=name,
            real_name=real_name if real_name is not None else name,
            display_name=display_name if display_name is not None else name,
            tz=tz,
            tz_label=tz_label if tz_label is not None else _TZ_LABELS.get(tz, tz),
            tz_offset=tz_offset,
            email=email,
            is_bot=is_bot,
            deleted=deleted,
        )
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        bot_is_member: bool = True,
        is_private: bool = False,
        is_archived: bool = False,
        *,
        members: Iterable[str] | None = None,
    ) -> Channel:
        """Add (or replace) a channel. ``D...`` ids are treated as DMs."""
        is_im = channel_id.startswith("D")
        channel = Channel(
            id=channel_id,
            name=name,
            bot_is_member=bot_is_member,
            is_private=is_private or is_im,
            is_archived=is_archived,
            is_im=is_im,
            members=set(members) if members is not None else None,
        )
        self.channels[channel_id] = channel
        self.messages.setdefault(channel_id, [])
        return channel

    def add_usergroup(
        self, group_id: str, members: Iterable[str], *, handle: str | None = None
    ) -> None:
        """Add a user group (``S...``) for ``usergroups.users.list`` and ``usergroups.list``."""
        self.usergroups[group_id] = list(members)
        self.usergroup_handles[group_id] = handle or group_id.lower()

    def post_as(
        self,
        channel_id: str,
        text: str,
        *,
        user: str | None = None,
        bot_id: str | None = None,
        attachments: list[Any] | None = None,
        blocks: list[Any] | None = None,
        thread_ts: str | None = None,
    ) -> Message:
        """A message someone else posted: a member (``user``) or another app (``bot_id``,
        a ticket notification with ``attachments`` or ``blocks``)."""
        message = Message(
            channel=channel_id,
            ts=self.next_ts(),
            text=text,
            blocks=list(blocks or []),
            attachments=list(attachments or []),
            user=user,
            bot_id=bot_id,
            thread_ts=thread_ts,
        )
        self.messages.setdefault(channel_id, []).append(message)
        return message

    # ------------------------------------------------------------------ ids and time

    def next_ts(self) -> str:
        """A message timestamp: now, and always later than the previous one."""
        micros = max(round(self.clock() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def new_id(self, prefix: str) -> str:
        """A fresh Slack-looking id (``V0003A1B2C3``)."""
        self._counter += 1
        return f"{prefix}{self._counter:04d}{secrets.token_hex(3).upper()}"

    def new_hash(self) -> str:
        """A fresh view hash."""
        return f"{int(self.clock())}.{secrets.token_hex(4)}"

    def issue_trigger_id(self, user_id: str | None = None, view_id: str | None = None) -> str:
        """Issue a trigger id, as Slack does with each interaction."""
        self._counter += 1
        trigger_id = f"{self._counter}{secrets.randbelow(10**9):09d}.{secrets.token_hex(10)}"
        self.triggers[trigger_id] = Trigger(
            id=trigger_id, issued_at=self.clock(), user_id=user_id, view_id=view_id
        )
        return trigger_id

    # ------------------------------------------------------------------ reading

    def messages_in(self, channel_id: str) -> list[Message]:
        """Messages currently visible in a channel, oldest first."""
        return list(self.messages.get(channel_id, []))

    def find_message(self, channel_id: str, ts: str) -> Message | None:
        """The message with ``ts`` in ``channel_id``, if any."""
        for message in self.messages.get(channel_id, []):
            if message.ts == ts:
                return message
        return None

    def replies_to(self, channel_id: str, thread_ts: str) -> list[Message]:
        """The replies in the thread of the message ``thread_ts``, oldest first."""
        return [
            m
            for m in self.messages.get(channel_id, [])
            if m.thread_ts == thread_ts and m.ts != thread_ts
        ]

    def ephemeral_for(self, channel_id: str, user_id: str) -> list[EphemeralMessage]:
        """Ephemeral messages ``user_id`` has seen in ``channel_id``."""
        return list(self.ephemeral.get((channel_id, user_id), []))

    def dm_channel_id(self, user_id: str) -> str | None:
        """The DM channel the bot opened with ``user_id``, if any."""
        return self._dm_by_users.get((user_id,))

    # ------------------------------------------------------------------ channel access

    def resolve_channel(self, ref: Any) -> Channel:
        """The channel a ``channel`` parameter names: an id, a user id (DM) or a name."""
        if not isinstance(ref, str) or not ref:
            raise SlackApiRefusal("channel_not_found")
        if ref in self.channels:
            return self.channels[ref]
        if ref.startswith(("U", "W")) and ref in self.users:
            # Posting to a user id posts in the app's DM with that user.
            return self.channels[self.open_dm((ref,))]
        name = ref.removeprefix("#")
        for channel in self.channels.values():
            if channel.name == name and not channel.is_im:
                return channel
        raise SlackApiRefusal("channel_not_found")

    def visible_channel(self, ref: Any) -> Channel:
        """A channel the bot can see: private ones it has not joined are invisible."""
        channel = self.resolve_channel(ref)
        if channel.is_private and not channel.bot_is_member:
            raise SlackApiRefusal("channel_not_found")
        return channel

    def writable_channel(self, ref: Any) -> Channel:
        """A channel the bot may post in (a member, or public with ``chat:write.public``)."""
        channel = self.visible_channel(ref)
        if channel.is_archived:
            raise SlackApiRefusal("is_archived")
        if not channel.bot_is_member and not self.chat_write_public:
            raise SlackApiRefusal("not_in_channel")
        return channel

    def is_dm_open(self, users: Iterable[str]) -> bool:
        """Whether the bot already has a DM (or group DM) with exactly ``users``."""
        return tuple(sorted(users)) in self._dm_by_users

    def open_dm(self, users: tuple[str, ...]) -> str:
        """The id of the bot's DM with ``users`` (a group DM for several), opened if needed."""
        key = tuple(sorted(users))
        existing = self._dm_by_users.get(key)
        if existing is not None:
            return existing
        is_im = len(key) == 1
        channel_id = self.new_id("D" if is_im else "G")
        name = key[0] if is_im else "mpdm-" + "--".join(key) + "-1"
        self.channels[channel_id] = Channel(
            id=channel_id,
            name=name,
            bot_is_member=True,
            is_private=True,
            is_im=is_im,
            is_mpim=not is_im,
            dm_users=key,
        )
        self.messages.setdefault(channel_id, [])
        self._dm_by_users[key] = channel_id
        return channel_id
