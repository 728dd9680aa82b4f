"""What Slack sends, checked before Bolt sees it, and how fast it was acknowledged.

Bolt trusts Slack's shapes. A signed body that is not UTF-8, a ``payload`` that is a
list or not JSON, ``actions: []``, ``state.values`` of the wrong type or a missing
``user`` would end in aiohttp's 500 with a traceback, or in Bolt's "unhandled
request" 404 after 3 s. Here every request is parsed the way Bolt parses it and its
shape checked against what the handlers read. A malformed one never reaches Bolt:
over HTTP it gets a 400 at once, over Socket Mode a bare ack, and either way one
warning line. Only signed HTTP requests are judged: an unsigned malformed one is
refused as unsigned (401), as Bolt refuses every unsigned request.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import structlog
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.metrics import Metrics

log = structlog.get_logger(__name__)

#: Slack's replay window for signed requests (what Bolt enforces too).
SIGNATURE_MAX_AGE_SECONDS: Final = 300
#: Interaction payloads: each carries the user who acted.
INTERACTIONS: Final = frozenset(
    {
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "interactive_message",
        "dialog_submission",
    }
)


#: Payload types the bot knows; anything else is Bolt's business (and ``other`` in metrics).
KNOWN_TYPES: Final = INTERACTIONS | {"event_callback", "url_verification"}


class MalformedRequest(ValueError):
    """A request whose shape is not one Slack sends; the message says what is wrong."""


def read_body(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """The body as Bolt will read it, once its shape is checked; else `MalformedRequest`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("body is not UTF-8") from None
    try:
        body: object = parse_body(text, content_type)
    except ValueError:  # json.JSONDecodeError
        raise MalformedRequest("body or payload is not JSON") from None
    problem = shape_problem(body)
    if problem is not None:
        raise MalformedRequest(problem)
    assert isinstance(body, dict)
    return body


def shape_problem(body: object) -> str | None:
    """What is wrong with a parsed request body (or Socket Mode payload), or None.

    Checked: what the handlers and Bolt's routing read. Request types the bot does not
    know are left to Bolt.
    """
    if not isinstance(body, dict):
        return f"not a JSON object but {_json_kind(body)}"
    if "ssl_check" in body:
        return None
    if "command" in body:
        return _command_problem(body)
    kind = body.get("type")
    if not isinstance(kind, str) or not kind:
        return "neither a command nor a payload with a type"
    if kind == "url_verification":
        return None if _text(body.get("challenge")) else "url_verification without challenge"
    if kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not _text(event.get("type")):
            return "event_callback without an event object"
        return None
    if kind in INTERACTIONS:
        return _interaction_problem(kind, body)
    return None


def request_kind(body: Mapping[str, Any]) -> str:
    """The label of a request's ack time: ``command``, a known payload ``type``, or
    ``other`` (labels must stay a small set)."""
    if "command" in body:
        return "command"
    kind = body.get("type")
    return kind if kind in KNOWN_TYPES else "other"


#: A slash command's fields the handlers read: required ones, and strings when present.
COMMAND_REQUIRED: Final = ("command", "user_id", "trigger_id", "response_url")
COMMAND_STRINGS: Final = (*COMMAND_REQUIRED, "text", "channel_id", "team_id", "user_name")
#: An interaction's members Bolt and the handlers read: objects and strings when present.
INTERACTION_OBJECTS: Final = ("team", "enterprise", "channel", "container", "message", "view")
INTERACTION_STRINGS: Final = ("trigger_id", "response_url", "api_app_id")
VIEW_STRINGS: Final = ("hash", "private_metadata", "callback_id")


def _command_problem(body: dict[str, Any]) -> str | None:
    for name in COMMAND_REQUIRED:
        if not _text(body.get(name)):
            return f"command without {name}"
    return _mistyped(body, COMMAND_STRINGS, str, "command") or _not_a_url(body, "command")


def _interaction_problem(kind: str, body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not _text(user.get("id")):
        return f"{kind} without user.id"
    problem = (
        _mistyped(body, INTERACTION_OBJECTS, dict, kind)
        or _mistyped(body, INTERACTION_STRINGS, str, kind)
        or _not_a_url(body, kind)
    )
    if problem is None and not isinstance(body.get("response_urls", []), list):
        problem = f"{kind}: response_urls is not an array"
    team = body.get("team") or {}
    if problem is None and not isinstance(team.get("id", ""), str):
        problem = f"{kind}: team.id is not a string"
    if problem is not None:
        return problem
    container = body.get("container") or {}
    in_view = container.get("type") == "view"
    if kind in {"view_submission", "view_closed"} or in_view or body.get("view") is not None:
        problem = _view_problem(body.get("view"))
        if problem is not None:
            return f"{kind}: {problem}"
    if kind == "block_actions":
        if container.get("type") == "message" and not _text(body.get("response_url")):
            return "block_actions in a message without response_url"
        if body.get("view") is None and container.get("type") != "message":
            # Every button and input the bot draws lives in a modal, the Home or a message.
            return "block_actions from neither a view nor a message"
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            return "block_actions without actions"
        if not all(isinstance(a, dict) and _text(a.get("action_id")) for a in actions):
            return "block_actions with an action that has no action_id"
        if not all(_well_formed_element(action) for action in actions):
            return "block_actions with an action whose value or selection is mistyped"
    return None


def _view_problem(view: object) -> str | None:
    if not isinstance(view, dict):
        return "view is missing or not an object"
    if not _text(view.get("id")):
        return "view without id"
    problem = _mistyped(view, VIEW_STRINGS, str, "view")
    if problem is not None:
        return problem
    state = view.get("state", {})
    if not isinstance(state, dict):
        return "view.state is not an object"
    values = state.get("values", {})
    if not isinstance(values, dict) or not all(
        isinstance(block, dict)
        and all(isinstance(element, dict) for element in block.values())
        and all(_well_formed_element(element) for element in block.values())
        for block in values.values()
    ):
        return "view.state.values is not an object of objects with well-formed selections"
    return None


def _well_formed_element(element: dict[str, Any]) -> bool:
    """An input's (or action's) selection, when present: an option object (with a string
    value), or a list of them."""
    selected = element.get("selected_option")
    options = element.get("selected_options")
    return (
        isinstance(element.get("value", ""), str | None)
        and (selected is None or _option(selected))
        and (options is None or (isinstance(options, list) and all(map(_option, options))))
    )


def _option(option: object) -> bool:
    return isinstance(option, dict) and isinstance(option.get("value", ""), str)


def _not_a_url(body: dict[str, Any], what: str) -> str | None:
    """Where the answer goes must be a web address (the handlers post to it)."""
    url = body.get("response_url")
    if isinstance(url, str) and not url.startswith(("https://", "http://")):
        return f"{what}: response_url is not a URL"
    return None


def _mistyped(body: dict[str, Any], names: tuple[str, ...], kind: type, what: str) -> str | None:
    """The first of ``names`` present in ``body`` but neither ``kind`` nor null."""
    for name in names:
        value = body.get(name)
        if value is not None and not isinstance(value, kind):
            noun = "an object" if kind is dict else "a string"
            return f"{what}: {name} is not {noun}"
    return None


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value)


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    return {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def signed_by_slack(
    signing_secret: str,
    raw: bytes,
    headers: Mapping[str, str],
    *,
    clock: Callable[[], float] = time.time,
) -> bool:
    """Slack's v0 signature over the raw bytes (which need not be UTF-8), within 5 min."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    try:
        if abs(clock() - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
            return False
    except ValueError:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def _observe_ack(metrics: Metrics, mode: str, body: Mapping[str, Any], arrived: float) -> None:
    kind = request_kind(body)
    metrics.ack_latency.labels(mode=mode, kind=kind).observe(time.perf_counter() - arrived)


def _refuse(metrics: Metrics, mode: str, problem: str) -> None:
    metrics.malformed_requests.labels(mode=mode).inc()
    log.warning("slack_request_malformed", mode=mode, problem=problem)


async def dispatch_http(
    request: web.Request,
    bolt_app: AsyncApp,
    *,
    signing_secret: str | None,
    metrics: Metrics,
) -> web.Response:
    """Check a request to ``/slack/events`` and hand it to Bolt; its response (the ack)."""
    arrived = time.perf_counter()
    raw = await request.read()
    try:
        bolt_request = _bolt_request(raw, request)
    except MalformedRequest as exc:
        if signing_secret is not None and not signed_by_slack(signing_secret, raw, request.headers):
            return web.json_response({"error": "invalid request"}, status=401)
        _refuse(metrics, "http", str(exc))
        return web.json_response({"error": "malformed request"}, status=400)
    response = await to_aiohttp_response(await bolt_app.async_dispatch(bolt_request))
    _observe_ack(metrics, "http", bolt_request.body, arrived)
    return response


def _bolt_request(raw: bytes, request: web.Request) -> AsyncBoltRequest:
    """Bolt's request, once its body is known to be one Slack sends; else `MalformedRequest`.

    The body is parsed once, by Bolt; only a body Bolt cannot read is parsed again, to
    say what is wrong with it.
    """
    try:
        bolt_request = AsyncBoltRequest(
            body=raw.decode("utf-8"),
            query=request.query_string,
            headers=request.headers,  # type: ignore[arg-type]
        )
    except Exception:  # what reading a body of the wrong shape raises is Bolt's detail
        read_body(raw, request.headers.get("Content-Type"))
        raise MalformedRequest("a body Bolt cannot read") from None
    problem = shape_problem(bolt_request.body)
    if problem is not None:
        raise MalformedRequest(problem)
    return bolt_request


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, with malformed envelopes acked and dropped before Bolt
    and each envelope's ack time measured."""

    def __init__(self, app: AsyncApp, app_token: str, *, metrics: Metrics) -> None:
        super().__init__(app, app_token)
        self._metrics = metrics
        # Message listeners run before the request listeners that hand envelopes to Bolt.
        self.client.message_listeners.append(self._screen)

    async def _screen(
        self, client: AsyncBaseSocketModeClient, message: dict[Any, Any], raw_message: str | None
    ) -> None:
        envelope_id = message.get("envelope_id")
        if not isinstance(envelope_id, str) or "payload" not in message:
            return  # hello, disconnect: not a request
        problem = shape_problem(message["payload"])
        if problem is None:
            return
        # Without a payload, slack_sdk makes no request of it: Bolt never sees it.
        del message["payload"]
        _refuse(self._metrics, "socket", f"{message.get('type')} envelope: {problem}")
        await client.send_socket_mode_response(SocketModeResponse(envelope_id=envelope_id))

    async def handle(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        """Bolt's handling, timed from the envelope's arrival to its ack."""
        arrived = time.perf_counter()
        await super().handle(client, req)  # type: ignore[arg-type]
        _observe_ack(self._metrics, "socket", req.payload, arrived)
