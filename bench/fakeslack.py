"""A lean fake Slack Web API: just enough for the bot, and cheap enough not to be measured.

Unlike the full local Slack used by the demo and the tests, it keeps no workspace
state beyond what the load generator waits for:

- ``views.open``: the modal the bot opened, per ``trigger_id`` (the agent submits it);
- the first ``chat.postMessage`` in a channel whose agent waits for an outcome: which
  message ``ts`` that is (each agent types in a channel of its own, so nothing about
  the message's wording is relied on);
- the first ``chat.update`` of that message: when the outcome arrived, and whether
  it was a success.

Every other method answers ``{"ok": true, ...}`` with plausible fields. Times are
``time.perf_counter()`` readings taken when the request arrives.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from aiohttp import web

from devkit.loopback import LoopbackServer

JsonDict = dict[str, Any]

TEAM_ID: Final = "T0BENCH01"
BOT_USER_ID: Final = "U0BENCHBOT"
#: The agents' time zone (users.info), so the outcome shows local time as in production.
AGENT_TZ: Final = "America/Mexico_City"
_SUCCESS_MARK: Final = b":white_check_mark:"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The first ``chat.update`` of a re-send's message."""

    at: float
    success: bool
    #: What the message says (kept only when it is not a success).
    text: str = ""


class LeanSlack:
    """The fake Web API (``/api/<method>``) and response URLs (``/response_url/<n>``)."""

    def __init__(self) -> None:
        self._server = LoopbackServer(type(self).__name__, shutdown_timeout=1.0, backlog=1024)
        self._ids = itertools.count(1)
        self._modals: dict[str, asyncio.Future[JsonDict]] = {}
        #: Agents waiting for an outcome, by channel; then by the ``ts`` of its message.
        self._outcomes: dict[str, asyncio.Future[Outcome]] = {}
        self._outcome_messages: dict[str, asyncio.Future[Outcome]] = {}
        #: Calls per method, for the report (an unexpected method shows up here).
        self.calls: Counter[str] = Counter()

    # -- lifecycle ---------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1") -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response_url/{id}", self._response_url)
        await self._server.start(app, host)

    async def stop(self) -> None:
        await self._server.stop()

    @property
    def api_url(self) -> str:
        """What ``SLACK_API_URL`` is set to."""
        return self._server.base_url + "/api/"

    def response_url(self) -> str:
        """A fresh response URL (accepted, not kept)."""
        return f"{self._server.base_url}/response_url/{next(self._ids)}"

    # -- what the load generator waits for -------------------------------------------

    def expect_modal(self, trigger_id: str) -> asyncio.Future[JsonDict]:
        """Resolved with the view the bot opens with ``trigger_id``."""
        future: asyncio.Future[JsonDict] = asyncio.get_running_loop().create_future()
        self._modals[trigger_id] = future
        return future

    def expect_outcome(self, channel: str) -> asyncio.Future[Outcome]:
        """Resolved when the next message posted in ``channel`` is first updated."""
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._outcomes[channel] = future
        return future

    def forget(self, trigger_id: str, channel: str) -> None:
        """Drop the waits of a re-send that ended (or failed)."""
        self._modals.pop(trigger_id, None)
        self._outcomes.pop(channel, None)

    # -- the API -------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        arrived = time.perf_counter()
        method = request.match_info["method"]
        self.calls[method] += 1
        raw = await request.read()
        match method:
            case "chat.postMessage":
                answer = self._post_message(raw)
            case "chat.update":
                answer = self._update(raw, arrived)
            case "views.open":
                answer = self._views_open(raw)
            case "views.update":
                answer = self._views_update(raw)
            case "auth.test":
                answer = {
                    "ok": True,
                    "url": "https://bench.slack.com/",
                    "team": "Bench",
                    "user": "reenviar",
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "bot_id": "B0BENCHBOT",
                    "is_enterprise_install": False,
                }
            case "users.info":
                user = _params(request, raw).get("user", "U0UNKNOWN")
                answer = {"ok": True, "user": _user(str(user))}
            case "usergroups.users.list":
                answer = {"ok": True, "users": []}
            case "chat.getPermalink":
                params = _params(request, raw)
                channel = str(params.get("channel", ""))
                ts = str(params.get("message_ts", "")).replace(".", "")
                answer = {
                    "ok": True,
                    "channel": channel,
                    "permalink": f"https://bench.slack.com/archives/{channel}/p{ts}",
                }
            case _:
                answer = {"ok": False, "error": "unknown_method"}
        return web.json_response(answer)

    async def _response_url(self, request: web.Request) -> web.Response:
        self.calls["response_url"] += 1
        await request.read()
        return web.Response(text="ok")

    def _new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ids) % 1_000_000:06d}"

    def _post_message(self, raw: bytes) -> JsonDict:
        body = _json(raw)
        channel = str(body.get("channel", ""))
        ts = self._new_ts()
        if (future := self._outcomes.pop(channel, None)) is not None:
            self._outcome_messages[ts] = future
        return {
            "ok": True,
            "channel": channel,
            "ts": ts,
            "message": {"type": "message", "user": BOT_USER_ID, "ts": ts},
        }

    def _update(self, raw: bytes, arrived: float) -> JsonDict:
        body = _json(raw)
        channel, ts = str(body.get("channel", "")), str(body.get("ts", ""))
        future = self._outcome_messages.pop(ts, None)
        if future is not None and not future.done():
            success = _SUCCESS_MARK in raw
            text = "" if success else str(body.get("text", ""))[:300]
            future.set_result(Outcome(at=arrived, success=success, text=text))
        return {"ok": True, "channel": channel, "ts": ts, "text": str(body.get("text", ""))}

    def _views_open(self, raw: bytes) -> JsonDict:
        body = _json(raw)
        view = _view_of(body)
        opened = {**view, "id": f"V{next(self._ids):010d}", "hash": _hash(), "state": {}}
        future = self._modals.pop(str(body.get("trigger_id", "")), None)
        if future is not None and not future.done():
            future.set_result(opened)
        return {"ok": True, "view": opened}

    def _views_update(self, raw: bytes) -> JsonDict:
        body = _json(raw)
        view = _view_of(body)
        view_id = str(body.get("view_id") or f"V{next(self._ids):010d}")
        return {"ok": True, "view": {**view, "id": view_id, "hash": _hash(), "state": {}}}


def _hash() -> str:
    return f"{time.time():.6f}.bench"


def _json(raw: bytes) -> JsonDict:
    if not raw:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        # Form-encoded (slack-sdk sends some methods that way); JSON-valued fields stay text.
        return dict(parse_qsl(raw.decode("utf-8", "replace")))
    return parsed if isinstance(parsed, dict) else {}


def _params(request: web.Request, raw: bytes) -> JsonDict:
    return {**dict(request.query), **_json(raw)}


def _view_of(body: JsonDict) -> JsonDict:
    view = body.get("view")
    if isinstance(view, str):
        try:
            view = json.loads(view)
        except ValueError:
            view = {}
    return view if isinstance(view, dict) else {}


def _user(user_id: str) -> JsonDict:
    name = user_id.lower()
    return {
        "id": user_id,
        "team_id": TEAM_ID,
        "name": name,
        "real_name": name,
        "deleted": False,
        "is_bot": False,
        "tz": AGENT_TZ,
        "tz_label": "Central Standard Time",
        "tz_offset": -21600,
        "profile": {"display_name": name, "real_name": name},
    }
