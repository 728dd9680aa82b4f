"""``reenviar-bot serve`` as a real process: start-up, Slack traffic, logs, SIGTERM, bad settings.

The process gets a clean environment (no developer secrets, cwd in a temporary
directory so no ``.env`` is read) with its Slack and provider URLs pointed at the
fake Slack and the emulators running in this test's event loop. The process
helpers (``BotProcess``, ``BotProcesses``, ``clean_env``) live in tests/processes.py;
the ``run_bot`` fixture starts one in HTTP mode and kills it at teardown if a test
left it running.
"""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.ui import strings
from devkit.emulators import Fault, FaultKind, LummyEmulator, TusFacturasEmulator
from devkit.localslack import FakeSlackWebAPI, SlackEventSender
from tests.conftest import (
    AGENT,
    BOT_TOKEN,
    CHANNEL,
    LUMMY_API_KEY,
    SEED_LUMMY_ID,
    SIGNING_SECRET,
    TF_APIKEY,
    TF_APITOKEN,
    TF_USERTOKEN,
    outcomes,
)
from tests.e2e import MAYBE_SENT, eventually, lummy_values, resends
from tests.processes import (
    PYTHON_M_BOT,
    BotProcess,
    BotProcesses,
    clean_env,
    fake_settings,
    run_command,
)

SEED_LUMMY_EMAIL = "cliente@empresa.com"
SECRETS = (BOT_TOKEN, SIGNING_SECRET, LUMMY_API_KEY, TF_APIKEY, TF_APITOKEN, TF_USERTOKEN)
CONSOLE_SCRIPT = Path(sys.executable).with_name("reenviar-bot")
ENTRY_POINTS = {
    "console-script": [str(CONSOLE_SCRIPT)],
    "python-m-bot": list(PYTHON_M_BOT),
}
SUBPROCESS_TIMEOUT = 30.0


@pytest.fixture
async def run_bot(
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Any]]:
    """Start ``python -m bot serve --http`` wired to the fakes; killed at teardown if alive."""
    settings = fake_settings(fake_slack, lummy, tusfacturas)
    async with BotProcesses(tmp_path) as processes:

        async def start(port: int | None = None, **extra: str) -> BotProcess:
            env = clean_env(tmp_path, **{**settings, **extra})
            return await processes.start("--http", env=env, port=port)

        yield start


@pytest.fixture
async def sender_for(fake_slack: FakeSlackWebAPI) -> AsyncIterator[Callable[[BotProcess], Any]]:
    """Signed Slack requests to a process' endpoint (closed at teardown)."""
    senders: list[SlackEventSender] = []

    def make(process: BotProcess) -> SlackEventSender:
        sender = SlackEventSender(process.events_url, SIGNING_SECRET, fake_slack)
        senders.append(sender)
        return sender

    yield make
    for sender in senders:
        await sender.aclose()


async def _open_modal_and_submit(
    sender: SlackEventSender, slack: FakeSlackWebAPI, invoice_id: str
) -> None:
    response = await sender.slash_command(
        "/reenviar", invoice_id, user_id=AGENT, channel_id=CHANNEL
    )
    assert response.status == 200, response.body
    await slack.wait_for_call("views.open", timeout=5)
    view = slack.current_view(AGENT)
    assert view is not None
    submitted = await sender.view_submission(
        user_id=AGENT, view=view["id"], values=lummy_values(invoice_id)
    )
    assert submitted.status == 200, submitted.body
    assert submitted.body == ""  # closes the modal: no response_action errors


# -- serving --------------------------------------------------------------------------


async def test_serves_slack_over_http_and_logs_without_secrets(
    run_bot: Callable[..., Any],
    sender_for: Callable[[BotProcess], SlackEventSender],
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
) -> None:
    # DEBUG makes every library talk: the strongest test of the redaction.
    bot: BotProcess = await run_bot(LOG_LEVEL="DEBUG")
    await bot.wait_ready()
    assert (await bot.get("/healthz")).status_code == 200
    sender = sender_for(bot)

    await _open_modal_and_submit(sender, fake_slack, SEED_LUMMY_ID)
    await fake_slack.wait_until(lambda: bool(outcomes(fake_slack)), timeout=10)
    (outcome,) = outcomes(fake_slack)
    assert SEED_LUMMY_EMAIL in outcome.text
    assert [send.invoice_id for send in lummy.sends] == [SEED_LUMMY_ID]

    bot.proc.send_signal(signal.SIGTERM)
    assert await bot.wait_exit(timeout=15) == 0

    output = bot.output()
    assert "Traceback" not in output
    for secret in SECRETS:
        assert secret not in output, "a configured secret reached the logs"
    lines = bot.log_lines()  # every stderr line is JSON
    assert any(line["level"] == "debug" for line in lines)
    (attempt,) = bot.events("resend_attempt")
    assert attempt["provider"] == "lummy"
    assert attempt["outcome"] == "success"
    assert isinstance(attempt["latency_ms"], int | float)
    assert attempt["latency_ms"] >= 0
    assert attempt["slack_user"] == AGENT
    assert attempt["slack_channel"] == CHANNEL
    assert attempt["reference"] == SEED_LUMMY_ID
    assert attempt["level"] == "info"
    assert bot.events("serving")[0]["mode"] == "http"


async def test_sigterm_lets_the_in_flight_resend_finish(
    run_bot: Callable[..., Any],
    sender_for: Callable[[BotProcess], SlackEventSender],
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
) -> None:
    bot: BotProcess = await run_bot()
    await bot.wait_ready()
    sender = sender_for(bot)
    lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=2))

    await _open_modal_and_submit(sender, fake_slack, SEED_LUMMY_ID)
    # The re-send itself (the invoice lookup also reaches Lummy, and answers at once).
    await eventually(lambda: bool(resends(lummy)), what="the re-send to reach Lummy")
    assert outcomes(fake_slack) == []  # in flight: only the "re-sending" message so far

    signalled = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)

    # While draining: not ready, and new Slack requests are refused (Slack retries elsewhere).
    while True:
        readyz = await bot.get("/readyz")
        if readyz.status_code == 503:
            break
        assert time.monotonic() - signalled < 1.5, "still ready after SIGTERM"
        await asyncio.sleep(0.02)
    assert readyz.json()["reason"] == "shutting down"
    refused = await sender.slash_command("/reenviar", "", user_id=AGENT, channel_id=CHANNEL)
    assert refused.status == 503
    assert len(fake_slack.calls_to("views.open")) == 1

    assert await bot.wait_exit(timeout=15) == 0
    took = time.monotonic() - signalled
    # The outcome landed before the process exited: it waited for the provider's answer.
    (outcome,) = outcomes(fake_slack)
    assert SEED_LUMMY_EMAIL in outcome.text
    assert 1.0 < took < 10, f"shutdown took {took:.1f} s"
    (started,) = bot.events("shutdown_started")
    # The re-send, and at most a short bookkeeping task of its own (noting where its
    # "re-sending" message landed) when the machine is slow.
    assert started["in_flight"] in {1, 2}
    assert bot.events("shutdown_complete")[0]["drained"] is True
    assert "Traceback" not in bot.output()


async def test_sigterm_does_not_wait_longer_than_the_grace_period(
    run_bot: Callable[..., Any],
    sender_for: Callable[[BotProcess], SlackEventSender],
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
) -> None:
    bot: BotProcess = await run_bot(SHUTDOWN_GRACE_SECONDS="0.5")
    await bot.wait_ready()
    lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=8))
    await _open_modal_and_submit(sender_for(bot), fake_slack, SEED_LUMMY_ID)
    await eventually(lambda: bool(lummy.requests), what="the re-send to reach Lummy")

    signalled = time.monotonic()
    bot.proc.send_signal(signal.SIGTERM)
    assert await bot.wait_exit(timeout=10) == 0
    assert time.monotonic() - signalled < 5
    assert bot.events("shutdown_grace_exceeded")[0]["cancelled"] == 1
    assert bot.events("shutdown_complete")[0]["drained"] is False
    # The cut-short re-send did not leave "Reenviando…" behind: the agent is told the
    # outcome is unknown and offered a retry with the same idempotency key.
    (outcome,) = fake_slack.messages_in(CHANNEL)
    assert MAYBE_SENT in str(outcome.blocks)
    assert strings.RETRY_BUTTON in str(outcome.blocks)
    (attempt,) = bot.events("resend_attempt")
    assert attempt["outcome"] == "unknown"
    assert attempt["detail"] == "interrupted by shutdown"


async def test_port_in_use_is_a_readable_error(run_bot: Callable[..., Any]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot: BotProcess = await run_bot(port=port)
        assert await bot.wait_exit(timeout=SUBPROCESS_TIMEOUT) == 1
    assert "Traceback" not in bot.output()
    (failed,) = bot.events("listen_failed")
    assert f"127.0.0.1:{port}" in failed["error"]
    assert "in use" in failed["error"]


# -- refusing to start ------------------------------------------------------------------


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_command(argv, env, cwd, timeout=SUBPROCESS_TIMEOUT)


@pytest.fixture(params=sorted(ENTRY_POINTS))
def entry_point(request: pytest.FixtureRequest) -> list[str]:
    """``reenviar-bot`` and ``python -m bot`` (file-local)."""
    argv = ENTRY_POINTS[request.param]
    assert Path(argv[0]).exists(), f"{argv[0]} is not installed (run `uv sync`)"
    return argv


def test_missing_slack_settings_exit_2_with_a_hint(entry_point: list[str], tmp_path: Path) -> None:
    result = _run([*entry_point, "serve"], clean_env(tmp_path), tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "SLACK_SIGNING_SECRET" in result.stderr
    assert "README" in result.stderr
    assert "Set up the Slack app" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_socket_mode_without_bot_token_names_it(tmp_path: Path) -> None:
    app_token = "xapp-1-A0-123-secretsecret"
    result = _run(
        [*ENTRY_POINTS["python-m-bot"], "serve"],
        clean_env(tmp_path, SLACK_APP_TOKEN=app_token),
        tmp_path,
    )
    assert result.returncode == 2
    assert "Socket Mode" in result.stderr
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "SLACK_SIGNING_SECRET" not in result.stderr  # not needed in Socket Mode
    assert app_token not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def _assert_invalid_setting_refused(
    argv: list[str], tmp_path: Path, setting: str, value: str
) -> None:
    env = clean_env(
        tmp_path, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, **{setting: value}
    )
    result = _run([*argv, "serve", "--http"], env, tmp_path)
    assert result.returncode == 2
    assert "Invalid configuration" in result.stderr
    assert setting in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for secret in (BOT_TOKEN, SIGNING_SECRET):
        assert secret not in result.stderr + result.stdout


def test_invalid_port_exit_2_readable(entry_point: list[str], tmp_path: Path) -> None:
    _assert_invalid_setting_refused(entry_point, tmp_path, "PORT", "abc")


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("PORT", "70000"),
        ("SLACK_API_URL", "not a url"),
        ("PROVIDER_READ_TIMEOUT", "-1"),
        ("LOG_FORMAT", "xml"),
    ],
)
def test_invalid_setting_exit_2_readable(tmp_path: Path, setting: str, value: str) -> None:
    _assert_invalid_setting_refused(ENTRY_POINTS["python-m-bot"], tmp_path, setting, value)


def test_invalid_credentials_json_does_not_echo_the_secrets(tmp_path: Path) -> None:
    leaked = "tf-apikey-must-not-be-printed"
    env = clean_env(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        TUSFACTURAS_CREDENTIALS=json.dumps({"2": {"apikey": leaked}}),  # apitoken missing
    )
    result = _run([*ENTRY_POINTS["python-m-bot"], "serve", "--http"], env, tmp_path)
    assert result.returncode == 2
    assert "TUSFACTURAS_CREDENTIALS" in result.stderr
    assert leaked not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr + result.stdout


def test_bad_port_argument_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(
        [*ENTRY_POINTS["python-m-bot"], "serve", "--port", "abc"], clean_env(tmp_path), tmp_path
    )
    assert result.returncode == 2
    assert "usage: reenviar-bot" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_doctor_from_both_entry_points(entry_point: list[str], tmp_path: Path) -> None:
    """The checklist needs no settings to start: what is missing is its first answer."""
    result = _run([*entry_point, "doctor"], clean_env(tmp_path), tmp_path)
    assert result.returncode == 1
    assert "✗ Slack bot token: SLACK_BOT_TOKEN is not set" in result.stdout
    assert "✗ Providers: none is configured" in result.stdout
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("timeout", ["0", "-1", "soon", "301"])
def test_doctor_timeout_argument_is_a_usage_error(tmp_path: Path, timeout: str) -> None:
    result = _run(
        [*ENTRY_POINTS["python-m-bot"], "doctor", "--timeout", timeout],
        clean_env(tmp_path),
        tmp_path,
    )
    assert result.returncode == 2
    assert "--timeout" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
