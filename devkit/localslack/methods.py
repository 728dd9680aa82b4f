"""Web API methods on messages and on the workspace directory.

Each group is a `MethodGroup` over the shared `Workspace`; a method marked
``@serves("chat.postMessage")`` handles that Web API method. ``views.*`` live in
`devkit.localslack.modals` and ``apps.connections.open`` in `devkit.localslack.socket_mode`.
"""

from __future__ import annotations

from devkit.localslack.protocol import (
    JsonDict,
    MethodGroup,
    SlackApiRefusal,
    serves,
    truthy,
)
from devkit.localslack.validation import message_content
from devkit.localslack.workspace import EphemeralMessage, Message

__all__ = ["ChatMethods", "DirectoryMethods"]

#: ``conversations.open`` takes at most this many users.
_MAX_DM_USERS = 8


class ChatMethods(MethodGroup):
    """``chat.*``: post, update, delete, ephemeral messages, permalinks."""

    def _own_message(self, params: JsonDict, *, refusal: str, editing: bool) -> tuple[str, Message]:
        """The bot's message named by ``channel`` and ``ts`` (``refusal`` if not the bot's).

        ``editing``: archived channels refuse the change (deleting is still allowed).
        """
        channel = self.workspace.visible_channel(params.get("channel"))
        ts = params.get("ts")
        message = self.workspace.find_message(channel.id, str(ts)) if ts else None
        if message is None:
            raise SlackApiRefusal("message_not_found")
        if editing and channel.is_archived:
            raise SlackApiRefusal("is_archived")
        if message.bot_id != self.workspace.bot_id:
            raise SlackApiRefusal(refusal)
        return channel.id, message

    @serves("chat.postMessage")
    def post_message(self, params: JsonDict) -> JsonDict:
        """``chat.postMessage``."""
        workspace = self.workspace
        channel = workspace.writable_channel(params.get("channel"))
        text, blocks, attachments = message_content(params)
        if not text and not blocks and not attachments:
            raise SlackApiRefusal("no_text")
        thread_ts = params.get("thread_ts") or None
        message = Message(
            channel=channel.id,
            ts=workspace.next_ts(),
            text=text or "",
            blocks=blocks or [],
            attachments=attachments or [],
            user=workspace.bot_user_id,
            bot_id=workspace.bot_id,
            thread_ts=str(thread_ts) if thread_ts else None,
        )
        workspace.messages.setdefault(channel.id, []).append(message)
        slack_message = message.as_slack()
        slack_message.update({"app_id": workspace.app_id, "team": workspace.team_id})
        return {"channel": channel.id, "ts": message.ts, "message": slack_message}

    @serves("chat.update")
    def update(self, params: JsonDict) -> JsonDict:
        """``chat.update``: omitted fields keep their value; an empty list clears blocks."""
        channel_id, message = self._own_message(params, refusal="cant_update_message", editing=True)
        text, blocks, attachments = message_content(params)
        if text is None and blocks is None and attachments is None:
            raise SlackApiRefusal("no_text")
        if text is not None:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        if attachments is not None:
            message.attachments = attachments
        message.edited = True
        message.edited_ts = self.workspace.next_ts()
        return {
            "channel": channel_id,
            "ts": message.ts,
            "text": message.text,
            "message": message.as_slack(),
        }

    @serves("chat.delete")
    def delete(self, params: JsonDict) -> JsonDict:
        """``chat.delete``."""
        channel_id, message = self._own_message(
            params, refusal="cant_delete_message", editing=False
        )
        self.workspace.messages[channel_id].remove(message)
        return {"channel": channel_id, "ts": message.ts}

    @serves("chat.postEphemeral")
    def post_ephemeral(self, params: JsonDict) -> JsonDict:
        """``chat.postEphemeral``: only members of the channel (or the DM) can be shown one."""
        channel = self.workspace.writable_channel(params.get("channel"))
        user = params.get("user")
        if not isinstance(user, str) or not user:
            raise SlackApiRefusal("user_not_in_channel")
        if channel.members is not None and user not in channel.members:
            raise SlackApiRefusal("user_not_in_channel")
        if channel.is_im and channel.dm_users and user not in channel.dm_users:
            raise SlackApiRefusal("user_not_in_channel")
        text, blocks, attachments = message_content(params)
        if not text and not blocks and not attachments:
            raise SlackApiRefusal("no_text")
        thread_ts = params.get("thread_ts") or None
        ephemeral = EphemeralMessage(
            channel=channel.id,
            user=user,
            message_ts=self.workspace.next_ts(),
            text=text or "",
            blocks=blocks or [],
            thread_ts=str(thread_ts) if thread_ts else None,
        )
        self.workspace.ephemeral.setdefault((channel.id, user), []).append(ephemeral)
        return {"message_ts": ephemeral.message_ts}

    @serves("chat.getPermalink")
    def get_permalink(self, params: JsonDict) -> JsonDict:
        """``chat.getPermalink``."""
        channel = self.workspace.visible_channel(params.get("channel"))
        ts = params.get("message_ts")
        message = self.workspace.find_message(channel.id, str(ts)) if ts else None
        if message is None:
            raise SlackApiRefusal("message_not_found")
        path = f"archives/{channel.id}/p{message.ts.replace('.', '')}"
        if message.thread_ts and message.thread_ts != message.ts:
            # A reply's link opens its thread.
            path += f"?thread_ts={message.thread_ts}&cid={channel.id}"
        domain = self.workspace.team_domain
        return {"channel": channel.id, "permalink": f"https://{domain}.slack.com/{path}"}


class DirectoryMethods(MethodGroup):
    """Who and where: ``api.test``, ``auth.test``, ``users.*``, ``usergroups.*``,
    ``conversations.*``."""

    @serves("api.test")
    def api_test(self, params: JsonDict) -> JsonDict:
        """``api.test``: echoes the arguments."""
        return {"args": {k: v for k, v in params.items() if k != "token"}}

    @serves("auth.test")
    def auth_test(self, params: JsonDict) -> JsonDict:
        """``auth.test``: the bot's identity."""
        workspace = self.workspace
        return {
            "url": f"https://{workspace.team_domain}.slack.com/",
            "team": workspace.team_name,
            "user": workspace.bot_user_name,
            "team_id": workspace.team_id,
            "user_id": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "is_enterprise_install": False,
        }

    @serves("conversations.open")
    def conversations_open(self, params: JsonDict) -> JsonDict:
        """``conversations.open``: a DM (or group DM) with ``users``, opened once."""
        workspace = self.workspace
        raw = params.get("users")
        if isinstance(raw, list):
            users = tuple(str(u) for u in raw)
        elif isinstance(raw, str) and raw:
            users = tuple(u.strip() for u in raw.split(",") if u.strip())
        else:
            channel_ref = params.get("channel")
            if channel_ref:
                return {"channel": workspace.visible_channel(channel_ref).as_slack()}
            raise SlackApiRefusal("users_list_not_supplied")
        if len(users) > _MAX_DM_USERS:
            raise SlackApiRefusal("too_many_users")
        for user_id in users:
            if user_id not in workspace.users:
                raise SlackApiRefusal("user_not_found")
        already_open = workspace.is_dm_open(users)
        channel_id = workspace.open_dm(users)
        channel = workspace.channels[channel_id]
        if truthy(params.get("return_im")):
            body: JsonDict = {"channel": channel.as_slack()}
        else:
            body = {"channel": {"id": channel_id}}
        if already_open:
            body.update({"no_op": True, "already_open": True})
        return body

    @serves("conversations.info")
    def conversations_info(self, params: JsonDict) -> JsonDict:
        """``conversations.info``."""
        return {"channel": self.workspace.visible_channel(params.get("channel")).as_slack()}

    @serves("users.info")
    def users_info(self, params: JsonDict) -> JsonDict:
        """``users.info``."""
        user = self.workspace.users.get(str(params.get("user", "")))
        if user is None:
            raise SlackApiRefusal("user_not_found")
        return {"user": user.as_slack(self.workspace.team_id)}

    @serves("users.lookupByEmail")
    def users_lookup_by_email(self, params: JsonDict) -> JsonDict:
        """``users.lookupByEmail`` (case-insensitive)."""
        email = str(params.get("email", "")).lower()
        for user in self.workspace.users.values():
            if user.email is not None and user.email.lower() == email:
                return {"user": user.as_slack(self.workspace.team_id)}
        raise SlackApiRefusal("users_not_found")

    @serves("usergroups.list")
    def usergroups_list(self, params: JsonDict) -> JsonDict:
        """``usergroups.list``: the workspace's user groups (their members with
        ``include_users``)."""
        workspace = self.workspace
        groups: list[JsonDict] = []
        for group_id, members in workspace.usergroups.items():
            handle = workspace.usergroup_handles.get(group_id, group_id.lower())
            group: JsonDict = {
                "id": group_id,
                "team_id": workspace.team_id,
                "is_usergroup": True,
                "is_subteam": True,
                "name": handle,
                "handle": handle,
                "description": "",
                "date_delete": 0,
                "user_count": len(members),
            }
            if truthy(params.get("include_users")):
                group["users"] = list(members)
            groups.append(group)
        return {"usergroups": groups}

    @serves("usergroups.users.list")
    def usergroups_users_list(self, params: JsonDict) -> JsonDict:
        """``usergroups.users.list``."""
        members = self.workspace.usergroups.get(str(params.get("usergroup", "")))
        if members is None:
            raise SlackApiRefusal("no_such_subteam")
        return {"users": list(members)}
