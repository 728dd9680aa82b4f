"""Correctly signed but malformed requests: a fast 400, one warning line, no traceback.

Slack never sends these, but a proxy, a replay or a broken client can. Whatever the
shape, the answer must come at once (not Bolt's "unhandled request" 404 after 3 s,
not aiohttp's 500), be logged once at warning level without a stack trace, and
leave nothing half-done. Over HTTP every body is signed with the real secret, so
only its shape is wrong; over Socket Mode the same payloads arrive in envelopes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from structlog.testing import capture_logs

from bot.ui.outcome import RETRY_ACTION
from bot.ui.resend_modal import PROVIDER_ACTION, PROVIDER_BLOCK
from devkit.localslack import SlackEventSender
from devkit.localslack.sender import FORM_CONTENT_TYPE, SenderResponse
from tests.conftest import AGENT, CHANNEL, SEED_LUMMY_ID, SIGNING_SECRET, Bot
from tests.e2e import lummy_values, submission_view

#: Well within Slack's 3 s: nothing about a malformed request needs waiting.
FAST_SECONDS = 1.0
JSON_CONTENT_TYPE = "application/json"


def _payload(value: Any) -> bytes:
    return urlencode({"payload": json.dumps(value)}).encode()


def _view_submission(bot: Bot, **changes: Any) -> dict[str, Any]:
    payload = bot.sender.view_submission_payload(
        user_id=AGENT, view=_lummy_view(), values=lummy_values(SEED_LUMMY_ID)
    )
    return _changed(payload, changes)


def _provider_switch(bot: Bot, **changes: Any) -> dict[str, Any]:
    action = {
        "type": "radio_buttons",
        "action_id": PROVIDER_ACTION,
        "block_id": PROVIDER_BLOCK,
        "selected_option": {"value": "lummy", "text": {"type": "plain_text", "text": "Lummy"}},
    }
    payload = bot.sender.block_actions_payload(
        user_id=AGENT, actions=[action], view=_lummy_view(), values=lummy_values()
    )
    return _changed(payload, changes)


def _retry_click(bot: Bot, **changes: Any) -> dict[str, Any]:
    action = {"type": "button", "action_id": RETRY_ACTION, "value": "x"}
    payload = bot.sender.block_actions_payload(user_id=AGENT, actions=[action], channel_id=CHANNEL)
    return _changed(payload, changes)


def _changed(payload: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with keys replaced; a value of ``...`` removes the key."""
    for key, value in changes.items():
        if value is ...:
            payload.pop(key, None)
        else:
            payload[key] = value
    return payload


def _lummy_view() -> dict[str, Any]:
    return submission_view(SEED_LUMMY_ID)


def _state(elements: dict[str, Any]) -> dict[str, Any]:
    """The Lummy modal whose ``state.values`` has these elements in the provider block."""
    return {**_lummy_view(), "state": {"values": {PROVIDER_BLOCK: elements}}}


def _command(bot: Bot, **changes: str | None) -> bytes:
    fields = bot.sender.slash_command_fields(
        "/reenviar", SEED_LUMMY_ID, user_id=AGENT, channel_id=CHANNEL
    )
    for key, value in changes.items():
        if value is None:
            fields.pop(key)
        else:
            fields[key] = value
    return urlencode(fields).encode()


MALFORMED: dict[str, Any] = {
    # (body builder, content type)
    "invalid-utf8-form": (lambda bot: b"payload=%7B%22a%22%3A1%7D&\xff\xfe=\xc3", None),
    "invalid-utf8-payload": (lambda bot: b"payload=%FF%FE%FD", None),
    "invalid-utf8-json": (
        lambda bot: b'{"type": "event_callback", "x": "\xff"}',
        JSON_CONTENT_TYPE,
    ),
    "payload-list": (lambda bot: _payload([1, 2]), None),
    "payload-string": (lambda bot: _payload("block_actions"), None),
    "payload-null": (lambda bot: _payload(None), None),
    "payload-number": (lambda bot: _payload(3), None),
    "payload-not-json": (lambda bot: b"payload=%7Bnot+json", None),
    "payload-empty": (lambda bot: b"payload=", None),
    "payload-without-type": (lambda bot: _payload({"user": {"id": AGENT}}), None),
    "actions-empty": (lambda bot: _payload(_retry_click(bot, actions=[])), None),
    "actions-not-a-list": (lambda bot: _payload(_retry_click(bot, actions={"a": 1})), None),
    "action-not-an-object": (lambda bot: _payload(_retry_click(bot, actions=["x"])), None),
    "action-without-id": (lambda bot: _payload(_retry_click(bot, actions=[{"type": "b"}])), None),
    "action-selected-option-string": (
        lambda bot: _payload(
            _provider_switch(
                bot, actions=[{"action_id": PROVIDER_ACTION, "selected_option": "lummy"}]
            )
        ),
        None,
    ),
    "state-values-list": (
        lambda bot: _payload(
            _view_submission(bot, view={**_lummy_view(), "state": {"values": []}})
        ),
        None,
    ),
    "state-values-strings": (
        lambda bot: _payload(
            _view_submission(bot, view={**_lummy_view(), "state": {"values": {"provider": "x"}}})
        ),
        None,
    ),
    "state-values-element-not-object": (
        lambda bot: _payload(
            _view_submission(
                bot,
                view={**_lummy_view(), "state": {"values": {"provider": {"value": 3}}}},
            )
        ),
        None,
    ),
    "state-selected-option-string": (
        lambda bot: _payload(
            _view_submission(bot, view=_state({"radio": {"selected_option": "x"}}))
        ),
        None,
    ),
    "state-selected-options-string": (
        lambda bot: _payload(
            _view_submission(bot, view=_state({"boxes": {"selected_options": "x"}}))
        ),
        None,
    ),
    "state-not-object": (
        lambda bot: _payload(_view_submission(bot, view={**_lummy_view(), "state": "x"})),
        None,
    ),
    "view-not-object": (lambda bot: _payload(_view_submission(bot, view="V123")), None),
    "submission-without-view": (lambda bot: _payload(_view_submission(bot, view=...)), None),
    "submission-without-user": (lambda bot: _payload(_view_submission(bot, user=...)), None),
    "submission-user-string": (lambda bot: _payload(_view_submission(bot, user=AGENT)), None),
    "click-without-user": (lambda bot: _payload(_retry_click(bot, user=...)), None),
    "click-user-without-id": (lambda bot: _payload(_retry_click(bot, user={})), None),
    "provider-switch-without-view": (lambda bot: _payload(_provider_switch(bot, view=...)), None),
    # Neither a view nor a message: nothing a modal's or a message's listener can read.
    "provider-switch-without-view-or-container": (
        lambda bot: _payload(_provider_switch(bot, view=..., container=...)),
        None,
    ),
    "search-pick-without-view-or-container": (
        lambda bot: _payload(
            _provider_switch(
                bot,
                view=...,
                container=...,
                actions=[
                    {
                        "type": "radio_buttons",
                        "action_id": "search_pick",
                        "block_id": "search_results",
                        "selected_option": {"value": "lummy|x"},
                    }
                ],
            )
        ),
        None,
    ),
    "command-without-trigger-id": (lambda bot: _command(bot, trigger_id=None), None),
    "command-without-user-id": (lambda bot: _command(bot, user_id=None), None),
    "json-list": (lambda bot: b"[1, 2]", JSON_CONTENT_TYPE),
    "json-not-json": (lambda bot: b"{nope", JSON_CONTENT_TYPE),
    "event-without-event": (
        lambda bot: json.dumps({"type": "event_callback", "team_id": "T0001"}).encode(),
        JSON_CONTENT_TYPE,
    ),
    "event-not-object": (
        lambda bot: json.dumps({"type": "event_callback", "event": "x"}).encode(),
        JSON_CONTENT_TYPE,
    ),
    "url-verification-without-challenge": (
        lambda bot: json.dumps({"type": "url_verification"}).encode(),
        JSON_CONTENT_TYPE,
    ),
}


def _signed_headers(body: bytes) -> dict[str, str]:
    """Slack's v0 signature over the raw bytes (valid UTF-8 or not, as Slack signs them)."""
    timestamp = str(int(time.time()))
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


async def _post_signed(
    sender: SlackEventSender, body: bytes, content_type: str | None
) -> SenderResponse:
    return await sender.post_raw(
        body, content_type=content_type or FORM_CONTENT_TYPE, headers=_signed_headers(body)
    )


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_signed_malformed_request_is_a_fast_400_with_one_warning(
    bot: Bot, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    build, content_type = MALFORMED[case]
    body = build(bot)
    caplog.set_level(logging.INFO)
    with capture_logs() as logs:
        started = time.monotonic()
        response = await _post_signed(bot.sender, body, content_type)
        elapsed = time.monotonic() - started

    assert response.status == 400, (response.status, response.body)
    assert elapsed < FAST_SECONDS, f"answered in {elapsed:.2f} s"
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [e["event"] for e in warnings] == ["slack_request_malformed"], logs
    assert warnings[0]["problem"]
    assert not [e for e in logs if e["log_level"] in {"error", "critical", "exception"}], logs
    assert not [e for e in logs if e.get("exc_info")], logs
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert loud == [], [r.getMessage() for r in loud]
    assert "Traceback" not in caplog.text
    assert bot.slack.calls_to("views.open") == []
    assert bot.slack.calls_to("views.update") == []
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.lummy.requests == []


async def test_malformed_but_unsigned_is_still_refused_as_unsigned(bot: Bot) -> None:
    body = b"payload=%FF%FE"
    response = await bot.sender.post_raw(body, headers={"X-Slack-Request-Timestamp": "1"})
    assert response.status == 401


async def test_well_formed_requests_still_reach_the_handlers(bot: Bot) -> None:
    view = await bot.open_modal(SEED_LUMMY_ID, empty_ack=True)
    response = await bot.sender.view_submission(
        user_id=AGENT, view=view["id"], values=lummy_values(SEED_LUMMY_ID)
    )
    assert response.status == 200
    assert response.body == ""
    await bot.wait_for_outcome()


# --- every member of a real payload, mistyped ---------------------------------------

PAYLOADS = {
    "submission": _view_submission,
    "provider-switch": _provider_switch,
    "retry": _retry_click,
}
WRONG_VALUES: tuple[Any, ...] = (None, 1, "x", [], {})


def _members(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every member of a payload (two items of each list; not into Block Kit)."""
    found: list[tuple[Any, ...]] = []
    items = node.items() if isinstance(node, dict) else enumerate(node[:2])
    for key, value in items:
        found.append((*prefix, key))
        if isinstance(value, dict | list) and key != "blocks":
            found.extend(_members(value, (*prefix, key)))
    return found


def _with(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    node: Any = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return payload


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
async def test_any_member_mistyped_is_answered_fast_and_quietly(
    bot: Bot, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever member of a real payload has a wrong type: an answer in time (400, or the
    handler's own 200), never a 5xx, an error line or a traceback."""
    build = PAYLOADS[kind]
    caplog.set_level(logging.INFO)
    failures = []
    for path in _members(build(bot)):
        for wrong in WRONG_VALUES:
            caplog.clear()
            with capture_logs() as logs:
                body = _payload(_with(build(bot), path, wrong))
                response = await _post_signed(bot.sender, body, None)
                assert await bot.services.inflight.drain(3)
            errors = [e["event"] for e in logs if e["log_level"] in {"error", "critical"}]
            loud = [r.getMessage()[:80] for r in caplog.records if r.levelno >= logging.ERROR]
            if response.status >= 500 or response.elapsed_seconds > FAST_SECONDS or errors or loud:
                failures.append((path, wrong, response.status, errors, loud))
    assert failures == []
