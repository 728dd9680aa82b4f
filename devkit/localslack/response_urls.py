"""``response_url``: the per-interaction webhook a slash command or message action gets.

Slack's rules are kept: a URL takes at most 5 messages within 30 minutes;
``in_channel`` messages show in the channel even when the bot is not a member;
``replace_original`` / ``delete_original`` act on the message an action came from
(or on the last ephemeral message the URL posted).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Final

from aiohttp import web

from devkit.localslack.changes import Changes
from devkit.localslack.protocol import JsonDict, SlackApiRefusal, as_list, truthy
from devkit.localslack.workspace import (
    EphemeralMessage,
    Message,
    ResponseUrl,
    ResponseUrlMessage,
    Workspace,
)

__all__ = [
    "RESPONSE_URL_MAX_USES",
    "RESPONSE_URL_PATH",
    "RESPONSE_URL_TTL_SECONDS",
    "ResponseUrls",
]

#: Where response URLs are served: ``/response_url/<token>``.
RESPONSE_URL_PATH: Final = "/response_url"
#: A response_url accepts this many messages ...
RESPONSE_URL_MAX_USES: Final = 5
#: ... within this many seconds of being issued.
RESPONSE_URL_TTL_SECONDS: Final = 30 * 60


def _plain(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/plain")


class ResponseUrls:
    """Issues response URLs and serves the messages posted to them."""

    def __init__(self, workspace: Workspace, changes: Changes, base_url: Callable[[], str]) -> None:
        self.workspace = workspace
        self._changes = changes
        self._base_url = base_url

    def new(self, channel_id: str, user_id: str, *, message_ts: str | None = None) -> str:
        """Issue a ``response_url`` bound to a channel and user (and optionally a message)."""
        token = secrets.token_urlsafe(16)
        self.workspace.response_urls[token] = ResponseUrl(
            token=token,
            channel_id=channel_id,
            user_id=user_id,
            created_at=self.workspace.clock(),
            message_ts=message_ts,
        )
        return f"{self._base_url()}{RESPONSE_URL_PATH}/{token}"

    async def handle(self, request: web.Request) -> web.Response:
        """``POST /response_url/{token}``: answers ``ok`` or Slack's plain-text error."""
        info = self.workspace.response_urls.get(request.match_info["token"])
        if info is None:
            return _plain(404, "invalid_token")
        if self.workspace.clock() - info.created_at > RESPONSE_URL_TTL_SECONDS:
            return _plain(404, "expired_url")
        if info.uses >= RESPONSE_URL_MAX_USES:
            return _plain(404, "used_url")
        try:
            payload = json.loads(await request.text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            payload = None
        if not isinstance(payload, dict):
            return _plain(400, "invalid_payload")
        try:
            self._apply(info, payload)
        except SlackApiRefusal as exc:
            return _plain(400, exc.error)
        finally:
            await self._changes.notify()
        return _plain(200, "ok")

    def _apply(self, info: ResponseUrl, payload: JsonDict) -> None:
        workspace = self.workspace
        text = payload.get("text")
        blocks = payload.get("blocks")
        if isinstance(blocks, str):
            try:
                blocks = json.loads(blocks)
            except json.JSONDecodeError:
                raise SlackApiRefusal("invalid_blocks_format") from None
        blocks_list = as_list(blocks)
        replace_original = truthy(payload.get("replace_original"))
        delete_original = truthy(payload.get("delete_original"))
        response_type = str(payload.get("response_type") or "ephemeral")
        if response_type not in {"ephemeral", "in_channel"}:
            response_type = "ephemeral"
        if not delete_original and not text and not blocks_list:
            raise SlackApiRefusal("no_text")
        info.uses += 1
        workspace.response_url_messages.append(
            ResponseUrlMessage(
                token=info.token,
                channel_id=info.channel_id,
                user_id=info.user_id,
                response_type=response_type,
                text=str(text or ""),
                blocks=blocks_list,
                replace_original=replace_original,
                delete_original=delete_original,
                payload=payload,
                at=workspace.clock(),
            )
        )
        original = (
            workspace.find_message(info.channel_id, info.message_ts) if info.message_ts else None
        )
        if delete_original:
            if original is not None:
                workspace.messages[info.channel_id].remove(original)
            elif info.last_ephemeral is not None:
                info.last_ephemeral.deleted = True
            return
        if replace_original and original is not None:
            original.text = str(text or "")
            original.blocks = blocks_list
            original.edited = True
            original.edited_ts = workspace.next_ts()
            return
        if replace_original and response_type == "ephemeral" and info.last_ephemeral is not None:
            info.last_ephemeral.text = str(text or "")
            info.last_ephemeral.blocks = blocks_list
            info.last_ephemeral.replaced = True
            return
        if response_type == "in_channel":
            # Slack shows it in the channel even when the bot is not a member.
            workspace.messages.setdefault(info.channel_id, []).append(
                Message(
                    channel=info.channel_id,
                    ts=workspace.next_ts(),
                    text=str(text or ""),
                    blocks=blocks_list,
                    user=workspace.bot_user_id,
                    bot_id=workspace.bot_id,
                    source="response_url",
                )
            )
            return
        ephemeral = EphemeralMessage(
            channel=info.channel_id,
            user=info.user_id,
            message_ts=workspace.next_ts(),
            text=str(text or ""),
            blocks=blocks_list,
            source="response_url",
        )
        workspace.ephemeral.setdefault((info.channel_id, info.user_id), []).append(ephemeral)
        info.last_ephemeral = ephemeral
