"""Socket Mode end to end: the production bot on a WebSocket to the fake Slack.

The fake serves ``apps.connections.open`` and the WebSocket it points to; tests push
envelopes as Slack does and read the app's acks. ``serve_socket_mode`` runs
in-process for the protocol cases (fast, and its connection can be poked) and as
the real ``python -m bot serve`` process with ``SLACK_APP_TOKEN`` for the
production path (started by tests/processes.py's ``BotProcesses``). Health routes
stay on HTTP in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from structlog.testing import capture_logs

from bot.resend.access import AccessRules
from bot.server import serve_socket_mode
from bot.services import Services
from bot.ui import strings
from bot.ui.home_tab import HOME_OPEN_ACTION
from bot.ui.outcome import help_message
from bot.ui.resend_modal import MODAL_CALLBACK_ID
from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.localslack.events import change_usergroup
from devkit.localslack.sender import SocketModeSender
from devkit.localslack.webapi import FakeSlackWebAPI, Message
from handlers import workflow_step
from tests.conftest import (
    AGENT,
    BOT_TOKEN,
    CHANNEL,
    LUMMY_API_KEY,
    SEED_LUMMY_ID,
    TF_APIKEY,
    TF_APITOKEN,
    TF_USERTOKEN,
    is_progress,
    make_settings,
)
from tests.e2e import lummy_values, submission_view
from tests.processes import (
    BotProcess,
    BotProcesses,
    clean_env,
    fake_settings,
    free_port,
    get,
    wait_ready,
)

APP_TOKEN = "xapp-1-fake-app"
SEED_LUMMY_EMAIL = "cliente@empresa.com"
#: Slack gives up on an ack after 3 s; the bot must answer well within that.
ACK_BUDGET_SECONDS = 1.5
SECRETS = (APP_TOKEN, BOT_TOKEN, LUMMY_API_KEY, TF_APIKEY, TF_APITOKEN, TF_USERTOKEN)


@pytest.fixture
def slack(fake_slack: FakeSlackWebAPI) -> FakeSlackWebAPI:
    """The shared fake workspace with Socket Mode on (the app-level token configured)."""
    fake_slack.app_token = APP_TOKEN
    return fake_slack


# -- the fake's Socket Mode endpoint, driven by a bare WebSocket client ------------------


async def test_apps_connections_open_takes_only_the_app_token(fake_slack: FakeSlackWebAPI) -> None:
    client = AsyncWebClient(base_url=fake_slack.api_url)

    async def error_with(token: str) -> str:
        with pytest.raises(SlackApiError) as refused:
            await client.apps_connections_open(app_token=token)
        return str(refused.value.response["error"])

    assert await error_with(APP_TOKEN) == "invalid_auth"  # Socket Mode not enabled
    fake_slack.app_token = APP_TOKEN
    assert await error_with("xapp-1-revoked") == "invalid_auth"
    assert await error_with(BOT_TOKEN) == "not_allowed_token_type"

    first = await client.apps_connections_open(app_token=APP_TOKEN)
    second = await client.apps_connections_open(app_token=APP_TOKEN)
    prefix = f"ws://127.0.0.1:{fake_slack.port}/socket-mode/"
    assert str(first["url"]).startswith(prefix)
    assert first["url"] != second["url"]
    (call, *_) = fake_slack.calls_to("apps.connections.open")
    assert call.headers["Authorization"] == f"Bearer {APP_TOKEN}"


async def test_socket_endpoint_says_hello_relays_acks_and_closes(slack: FakeSlackWebAPI) -> None:
    opened = await AsyncWebClient(base_url=slack.api_url).apps_connections_open(app_token=APP_TOKEN)
    url = str(opened["url"])
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=5))
        hello = await ws.receive_json(timeout=5)
        assert hello["type"] == "hello"
        assert hello["connection_info"] == {"app_id": slack.app_id}
        assert hello["num_connections"] == 1
        (connection,) = slack.socket_clients

        with pytest.raises(aiohttp.WSServerHandshakeError) as reused:
            await http.ws_connect(url)  # a ticket opens one connection only
        assert reused.value.status == 401

        async def app_side() -> dict[str, Any]:
            envelope: dict[str, Any] = await ws.receive_json(timeout=5)
            await ws.send_json({"envelope_id": envelope["envelope_id"], "payload": {"text": "hi"}})
            return envelope

        answering = asyncio.create_task(app_side())
        ack = await slack.send_envelope("slash_commands", {"command": "/reenviar", "text": ""})
        envelope = await answering
        assert envelope["type"] == "slash_commands"
        assert envelope["accepts_response_payload"] is True
        assert envelope["payload"] == {"command": "/reenviar", "text": ""}
        assert ack == {"envelope_id": envelope["envelope_id"], "payload": {"text": "hi"}}
        (record,) = slack.socket_envelopes
        assert (record.ack, record.connection_id) == (ack, connection.id)

        started = time.monotonic()
        with pytest.raises(TimeoutError, match="ack of interactive envelope"):
            await slack.send_envelope("interactive", {"type": "block_actions"}, timeout=0.3)
        assert time.monotonic() - started < 2
        assert (await ws.receive_json(timeout=5))["type"] == "interactive"  # sent, not acked

        assert await slack.disconnect_clients() == 1
        closing = await ws.receive(timeout=5)
        assert closing.type == aiohttp.WSMsgType.CLOSE
        assert closing.data == aiohttp.WSCloseCode.GOING_AWAY
        assert slack.socket_clients == []
        assert not connection.is_open
        with pytest.raises(TimeoutError, match="Socket Mode client to connect"):
            await slack.send_envelope("slash_commands", {}, timeout=0.2)


# -- serve_socket_mode in-process ---------------------------------------------------------


@dataclass
class SocketBot:
    """``serve_socket_mode`` running in this loop, and a Slack that talks to it."""

    slack: FakeSlackWebAPI
    sender: SocketModeSender
    services: Services
    health_url: str
    task: asyncio.Task[None]
    stop: asyncio.Event

    async def readyz(self) -> httpx.Response:
        return await get(self.health_url, "/readyz")

    async def wait_ready(self, timeout: float = 10.0) -> None:
        def crashed() -> str | None:
            if not self.task.done():
                return None
            return f"serve_socket_mode ended early: {self.task.exception()!r}"

        await wait_ready(self.health_url, timeout=timeout, gone=crashed)

    async def open_modal(self, text: str = "") -> dict[str, Any]:
        opened = len(self.slack.calls_to("views.open"))
        ack = await self.sender.slash_command("/reenviar", text, user_id=AGENT, channel_id=CHANNEL)
        assert "payload" not in ack, ack  # a bare ack: the modal is the answer
        await self.slack.wait_for_call("views.open", count=opened + 1)
        view = self.slack.current_view(AGENT)
        assert view is not None, "no modal was opened"
        return view


@pytest.fixture
async def socket_bot(
    slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> AsyncIterator[SocketBot]:
    settings = make_settings(
        slack_api_url=slack.api_url,
        slack_app_token=APP_TOKEN,
        slack_signing_secret=None,  # not needed (nor usually set) in Socket Mode
        lummy_base_url=lummy.base_url,
        tusfacturas_base_url=tusfacturas.base_url,
        data_dir=str(tmp_path),
    )
    services = Services.create(settings)
    port = free_port()
    stop = asyncio.Event()
    task = asyncio.create_task(
        serve_socket_mode(
            services,
            app_token=APP_TOKEN,
            host="127.0.0.1",
            port=port,
            grace_seconds=5,
            stop=stop,
        )
    )
    started = SocketBot(
        slack, SocketModeSender(slack), services, f"http://127.0.0.1:{port}", task, stop
    )
    try:
        await started.wait_ready()
        yield started
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)  # re-raises what serve_socket_mode raised


async def test_readyz_is_ready_once_connected(socket_bot: SocketBot) -> None:
    response = await socket_bot.readyz()
    assert response.status_code == 200
    assert response.json()["status"] == "ready"
    (connection,) = socket_bot.slack.socket_clients
    assert connection is socket_bot.slack.socket_connections[0]
    (opened,) = socket_bot.slack.calls_to("apps.connections.open")
    assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"


async def test_slash_command_is_acked_fast_and_opens_the_modal(socket_bot: SocketBot) -> None:
    started = time.monotonic()
    ack = await socket_bot.sender.slash_command(
        "/reenviar", SEED_LUMMY_ID, user_id=AGENT, channel_id=CHANNEL
    )
    acked_in = time.monotonic() - started
    assert acked_in < ACK_BUDGET_SECONDS, f"ack took {acked_in:.2f} s"
    (envelope,) = socket_bot.slack.socket_envelopes
    assert ack == {"envelope_id": envelope.envelope_id}  # no visible answer: the modal is

    (opened,) = await socket_bot.slack.wait_for_call("views.open")
    assert opened.params["trigger_id"] == envelope.payload["trigger_id"]
    view = socket_bot.slack.current_view(AGENT)
    assert view is not None
    assert view["callback_id"] == MODAL_CALLBACK_ID
    assert SEED_LUMMY_ID in json.dumps(view)  # prefilled from the command's text


async def test_help_is_the_ack_payload(socket_bot: SocketBot) -> None:
    ack = await socket_bot.sender.slash_command(
        "/reenviar", "ayuda", user_id=AGENT, channel_id=CHANNEL
    )
    expected = help_message()
    assert ack["payload"]["text"] == expected.text
    assert ack["payload"]["blocks"] == expected.blocks
    assert socket_bot.slack.calls_to("views.open") == []


async def test_view_submission_is_acked_then_the_outcome_replaces_the_progress(
    socket_bot: SocketBot, lummy: LummyEmulator
) -> None:
    slack = socket_bot.slack
    view = await socket_bot.open_modal(SEED_LUMMY_ID)

    started = time.monotonic()
    ack = await socket_bot.sender.view_submission(
        user_id=AGENT, view=view["id"], values=lummy_values(SEED_LUMMY_ID)
    )
    assert time.monotonic() - started < ACK_BUDGET_SECONDS
    assert "payload" not in ack, ack  # no response_action: the modal closes
    assert view["id"] in slack.closed_views

    def outcome() -> Message | None:
        messages = slack.messages_in(CHANNEL)
        return messages[0] if len(messages) == 1 and not is_progress(messages[0]) else None

    await slack.wait_until(lambda: outcome() is not None, timeout=10, description="the outcome")
    (progress, *_) = slack.calls_to("chat.postMessage")
    assert progress.params["channel"] == CHANNEL
    assert ":hourglass_flowing_sand:" in json.dumps(progress.params["blocks"])
    final = outcome()
    assert final is not None
    assert final.edited  # the progress message, updated in place
    assert SEED_LUMMY_EMAIL in final.text
    assert [send.invoice_id for send in lummy.sends] == [SEED_LUMMY_ID]
    assert await socket_bot.services.inflight.drain(5)


async def test_dropped_connection_is_reported_down_then_restored(socket_bot: SocketBot) -> None:
    slack = socket_bot.slack
    (first,) = slack.socket_clients
    # Slow down the new WebSocket URL so the gap is long enough to observe.
    slack.set_latency("apps.connections.open", 1.5)

    assert await slack.disconnect_clients() == 1
    deadline = time.monotonic() + 1.5
    while (response := await socket_bot.readyz()).status_code == 200:
        assert time.monotonic() < deadline, "/readyz stayed 200 with the connection closed"
        await asyncio.sleep(0.02)
    assert response.status_code == 503
    assert response.json()["reason"] == "socket mode connection is down"

    # slack_sdk reconnects on its own: a new URL, a new connection, ready again.
    second = await slack.wait_for_socket_connection(total=2, timeout=10)
    assert second is not first
    assert len(slack.calls_to("apps.connections.open")) == 2
    await socket_bot.wait_ready(timeout=5)
    await socket_bot.open_modal()
    assert slack.socket_envelopes[-1].connection_id == second.id


async def test_refresh_requested_moves_to_a_new_connection(socket_bot: SocketBot) -> None:
    slack = socket_bot.slack
    (first,) = slack.socket_clients
    assert await slack.send_disconnect("refresh_requested") == 1

    second = await slack.wait_for_socket_connection(total=2, timeout=5)
    await slack.wait_until(lambda: not first.is_open, timeout=5, description="old one closed")
    assert slack.socket_clients == [second]
    await socket_bot.wait_ready(timeout=5)
    ack = await socket_bot.sender.slash_command(
        "/reenviar", "help", user_id=AGENT, channel_id=CHANNEL
    )
    assert ack["payload"]["text"] == help_message().text
    assert slack.socket_envelopes[-1].connection_id == second.id


# -- the real process ---------------------------------------------------------------------


@pytest.fixture
async def run_socket_bot(
    slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Any]]:
    """Start the real process in Socket Mode, wired to the fakes; killed at teardown if alive."""
    settings = fake_settings(slack, lummy, tusfacturas, app_token=APP_TOKEN, provider_timeouts=None)
    async with BotProcesses(tmp_path) as processes:

        async def start(**extra: str) -> BotProcess:
            return await processes.start(env=clean_env(tmp_path, **{**settings, **extra}))

        yield start


async def test_serve_runs_socket_mode_as_a_process(
    run_socket_bot: Callable[..., Any], slack: FakeSlackWebAPI, lummy: LummyEmulator
) -> None:
    # DEBUG makes slack_sdk log every frame: the strongest test of the redaction.
    bot: BotProcess = await run_socket_bot(LOG_LEVEL="DEBUG")
    await bot.wait_ready()
    assert len(slack.socket_clients) == 1
    sender = SocketModeSender(slack)

    help_ack = await sender.slash_command("/reenviar", "ayuda", user_id=AGENT, channel_id=CHANNEL)
    assert help_ack["payload"]["text"] == help_message().text

    started = time.monotonic()
    ack = await sender.slash_command("/reenviar", SEED_LUMMY_ID, user_id=AGENT, channel_id=CHANNEL)
    assert time.monotonic() - started < ACK_BUDGET_SECONDS
    assert "payload" not in ack
    await slack.wait_for_call("views.open", timeout=5)
    view = slack.current_view(AGENT)
    assert view is not None
    submitted = await sender.view_submission(
        user_id=AGENT, view=view["id"], values=lummy_values(SEED_LUMMY_ID)
    )
    assert "payload" not in submitted
    await slack.wait_until(
        lambda: any(SEED_LUMMY_EMAIL in m.text for m in slack.messages_in(CHANNEL)),
        timeout=10,
        description="the outcome in the channel",
    )
    assert [send.invoice_id for send in lummy.sends] == [SEED_LUMMY_ID]

    assert await bot.terminate() == 0
    assert slack.socket_clients == []  # it said goodbye on the way out
    output = bot.output()
    assert "Traceback" not in output
    assert "was never awaited" not in output
    for secret in SECRETS:
        assert secret not in output, "a configured secret reached the logs"
    (serving,) = bot.events("serving")
    assert serving["mode"] == "socket"
    (attempt,) = bot.events("resend_attempt")
    assert (attempt["outcome"], attempt["slack_user"]) == ("success", AGENT)
    assert bot.events("shutdown_complete")[0]["drained"] is True


async def test_process_with_a_refused_app_token_is_not_ready_and_stops_on_sigterm(
    run_socket_bot: Callable[..., Any], slack: FakeSlackWebAPI
) -> None:
    slack.app_token = "xapp-1-rotated"  # ours was revoked
    bot: BotProcess = await run_socket_bot()
    await slack.wait_for_call("apps.connections.open", timeout=20)

    deadline = time.monotonic() + 10
    while True:
        assert bot.proc.returncode is None, bot.output()
        with contextlib.suppress(httpx.TransportError):
            response = await bot.readyz()
            if response.status_code == 503:
                break
        assert time.monotonic() < deadline, "/readyz never answered 503"
        await asyncio.sleep(0.05)
    assert response.json()["reason"] == "socket mode connection is down"
    assert slack.socket_connections == []

    signalled = time.monotonic()
    assert await bot.terminate(timeout=10) == 0
    assert time.monotonic() - signalled < 5
    assert APP_TOKEN not in bot.output()


# -- malformed envelopes and metrics, in-process -------------------------------------------


def _envelopes(sender: SocketModeSender) -> dict[str, tuple[str, Any]]:
    """Envelopes with a payload Slack never sends: (envelope type, payload)."""
    command = sender.payloads.slash_command_fields(
        "/reenviar", SEED_LUMMY_ID, user_id=AGENT, channel_id=CHANNEL
    )
    submission = sender.payloads.view_submission_payload(
        user_id=AGENT, view=submission_view(SEED_LUMMY_ID), values=lummy_values()
    )
    return {
        "interactive-array": ("interactive", [1, 2]),
        "interactive-null": ("interactive", None),
        "interactive-string": ("interactive", "block_actions"),
        "actions-empty": ("interactive", {"type": "block_actions", "user": {"id": AGENT}}),
        "submission-without-user": (
            "interactive",
            {k: v for k, v in submission.items() if k != "user"},
        ),
        "state-values-array": (
            "interactive",
            {**submission, "view": {**submission["view"], "state": {"values": []}}},
        ),
        "command-without-trigger-id": (
            "slash_commands",
            {k: v for k, v in command.items() if k != "trigger_id"},
        ),
        "event-without-event": ("events_api", {"type": "event_callback"}),
    }


@pytest.mark.parametrize(
    "case",
    [
        "interactive-array",
        "interactive-null",
        "interactive-string",
        "actions-empty",
        "submission-without-user",
        "state-values-array",
        "command-without-trigger-id",
        "event-without-event",
    ],
)
async def test_malformed_envelope_is_acked_at_once_with_one_warning(
    socket_bot: SocketBot, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    kind, payload = _envelopes(socket_bot.sender)[case]
    caplog.set_level(logging.INFO)
    with capture_logs() as logs:
        started = time.monotonic()
        ack = await socket_bot.slack.send_envelope(kind, payload, timeout=3)
        acked_in = time.monotonic() - started

    assert acked_in < ACK_BUDGET_SECONDS, f"ack took {acked_in:.2f} s"
    assert ack == {"envelope_id": socket_bot.slack.socket_envelopes[-1].envelope_id}
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [(e["event"], e["mode"]) for e in warnings] == [("slack_request_malformed", "socket")]
    assert not [e for e in logs if e["log_level"] in {"error", "critical"}], logs
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert loud == [], [r.getMessage() for r in loud]
    assert socket_bot.slack.calls_to("views.open") == []
    # Still serving: a well-formed command right after is handled.
    await socket_bot.open_modal()


async def test_metrics_are_served_on_the_health_listener(socket_bot: SocketBot) -> None:
    await socket_bot.open_modal()
    response = await get(socket_bot.health_url, "/metrics")
    assert response.status_code == 200
    assert 'reenviar_slack_ack_seconds_count{kind="command",mode="socket"} 1.0' in response.text


async def test_user_group_event_drops_the_cached_membership(socket_bot: SocketBot) -> None:
    slack, sender = socket_bot.slack, socket_bot.sender
    slack.add_usergroup("S0SUPPORT", [AGENT, "U0AGENT02"])
    socket_bot.services.gatekeeper._access.rules = AccessRules(
        usergroup_ids=frozenset({"S0SUPPORT"})
    )
    await socket_bot.open_modal()  # a member: the modal opens, membership cached

    removed_at = time.monotonic()
    ack = await sender.event(change_usergroup(slack, "S0SUPPORT", ["U0AGENT02"]))
    assert ack == {"envelope_id": slack.socket_envelopes[-1].envelope_id}
    refused = await sender.slash_command("/reenviar", "", user_id=AGENT, channel_id=CHANNEL)
    assert refused["payload"]["text"] == strings.REFUSED_PREFIX + strings.REFUSED_USER
    assert time.monotonic() - removed_at < 5


# -- Events API over Socket Mode: the App Home and a workflow step ---------------------------


async def test_app_home_opened_over_socket_mode_publishes_the_home(socket_bot: SocketBot) -> None:
    slack = socket_bot.slack
    started = time.monotonic()
    ack = await socket_bot.sender.event(slack.app_home_opened(AGENT))
    assert time.monotonic() - started < ACK_BUDGET_SECONDS
    assert ack == {"envelope_id": slack.socket_envelopes[-1].envelope_id}
    assert slack.socket_envelopes[-1].type == "events_api"

    (publish,) = await slack.wait_for_call("views.publish")
    assert publish.params["user_id"] == AGENT
    home = slack.home_views[AGENT]
    assert home["type"] == "home"
    assert HOME_OPEN_ACTION in json.dumps(home)


async def test_workflow_step_over_socket_mode_completes_once(
    socket_bot: SocketBot, lummy: LummyEmulator
) -> None:
    slack = socket_bot.slack
    inputs = {"reference": SEED_LUMMY_ID, "requested_by": {"id": AGENT, "secret": "x"}}
    execution, body = slack.function_executed(workflow_step.STEP_CALLBACK_ID, inputs)

    for _ in range(2):  # Slack delivers it again: one re-send all the same
        await slack.send_envelope("events_api", body)
    await slack.wait_until(lambda: execution.state == "completed", timeout=10)
    assert await socket_bot.services.inflight.drain(5)

    assert execution.outputs is not None
    assert execution.outputs["success"] is True
    assert execution.endings == ["functions.completeSuccess"]
    assert [send.invoice_id for send in lummy.sends] == [SEED_LUMMY_ID]
