"""A bot process killed (SIGKILL) in the middle of a re-send, then started again.

The re-send is written down before the provider call; once its owner is gone (its
lease runs out) a live process, this one restarted or another replica, resolves
it: the "re-sending…" message becomes the unknown-outcome message with
Reintentar, the history gets an ``unknown`` row, and the invoice's claim stops
being "in progress". With two replicas on one PostgreSQL, exactly one of them
resolves it.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest

from bot.ui.outcome import RETRY_ACTION
from devkit.emulators import (
    Fault,
    FaultKind,
    LummyEmulator,
    RecordedRequest,
    TusFacturasEmulator,
)
from devkit.localslack import FakeSlackWebAPI, SlackEventSender
from devkit.localslack.webapi import Message
from tests.conftest import AGENT, CHANNEL, SEED_LUMMY_ID, SIGNING_SECRET, is_progress
from tests.e2e import eventually, lummy_values, submission_view
from tests.processes import BotProcess, BotProcesses, clean_env, fake_settings

SEED_KEY = f"lummy:{SEED_LUMMY_ID}"
#: How the unknown-outcome message starts (whatever its wording).
UNKNOWN_MARK = ":grey_question:"
#: Lease (10 s) plus the restarted process' own wait before it resolves, plus margin.
RESOLVED_WITHIN = 35.0


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[BotProcesses]:
    async with BotProcesses(tmp_path) as started:
        yield started


async def _submit(process: BotProcess, slack: FakeSlackWebAPI, invoice_id: str) -> None:
    sender = SlackEventSender(process.events_url, SIGNING_SECRET, slack)
    try:
        response = await sender.post_payload(
            sender.view_submission_payload(
                user_id=AGENT, view=submission_view(invoice_id), values=lummy_values(invoice_id)
            )
        )
    finally:
        await sender.aclose()
    assert (response.status, response.body) == (200, "")


async def _kill_mid_send(
    process: BotProcess, slack: FakeSlackWebAPI, lummy: LummyEmulator
) -> Message:
    """Submit the seeded invoice while Lummy hangs, then SIGKILL; returns the placeholder."""
    lummy.inject(Fault(FaultKind.HANG))
    await _submit(process, slack, SEED_LUMMY_ID)
    await eventually(lambda: bool(_resends(lummy)), what="the re-send to reach Lummy")
    await slack.wait_until(
        lambda: bool(slack.messages_in(CHANNEL)), timeout=5, description="the placeholder"
    )
    await asyncio.sleep(0.5)  # let the attempt be written down, as it is before any send
    await process.kill()  # SIGKILL: nothing runs on the way out
    (placeholder,) = slack.messages_in(CHANNEL)
    assert is_progress(placeholder)
    lummy.clear_faults()
    return placeholder


def _resends(lummy: LummyEmulator) -> list[RecordedRequest]:
    """The re-send requests Lummy received (not lookups)."""
    return [r for r in lummy.requests if r.path.endswith("/resend-pdf")]


def _resolved(slack: FakeSlackWebAPI) -> Message | None:
    (message,) = slack.messages_in(CHANNEL)
    return None if is_progress(message) else message


def _assert_unknown_with_retry(message: Message, idempotency_key: str) -> None:
    blocks = json.dumps(message.blocks, ensure_ascii=False)
    assert UNKNOWN_MARK in blocks
    (button,) = [
        element
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("action_id") == RETRY_ACTION
    ]
    retry = json.loads(button["value"])
    # Reintentar re-sends the same request with the same idempotency key.
    assert retry["idempotency_key"] == idempotency_key
    assert retry["request"]["invoice_id"] == SEED_LUMMY_ID


async def test_a_resend_cut_by_sigkill_is_resolved_when_the_bot_restarts(
    processes: BotProcesses,
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
) -> None:
    env = clean_env(tmp_path, **fake_settings(fake_slack, lummy, tusfacturas))
    first = await processes.start("--http", env=env)
    await first.wait_ready()
    placeholder = await _kill_mid_send(first, fake_slack, lummy)
    (sent,) = _resends(lummy)
    sent_key = sent.headers["x-idempotency"]

    restarted_at = time.monotonic()
    second = await processes.start("--http", env=env)  # same DATA_DIR
    await second.wait_ready()
    await fake_slack.wait_until(
        lambda: _resolved(fake_slack) is not None,
        timeout=RESOLVED_WITHIN,
        description="the placeholder replaced by the unknown outcome",
    )
    took = time.monotonic() - restarted_at
    resolved = _resolved(fake_slack)
    assert resolved is not None
    assert resolved.ts == placeholder.ts  # updated in place, not a new message
    _assert_unknown_with_retry(resolved, sent_key)

    database = tmp_path / "data" / "history.sqlite3"

    def rows() -> list[tuple[Any, ...]]:
        with sqlite3.connect(database) as connection:
            return connection.execute(
                "SELECT outcome, user_id, idempotency_key, message_ts FROM resend_attempts"
                " WHERE invoice_key = ?",
                (SEED_KEY,),
            ).fetchall()

    await eventually(lambda: bool(rows()), what="the unknown attempt in the history")
    assert rows() == [("unknown", AGENT, sent_key, placeholder.ts)]
    with sqlite3.connect(database) as connection:
        claims = connection.execute(
            "SELECT state FROM resend_claims WHERE invoice_key = ?", (SEED_KEY,)
        ).fetchall()
        left = connection.execute("SELECT count(*) FROM resend_inflight").fetchone()
    # Possibly sent: kept as "sent" for the duplicate window, no longer "in progress".
    assert claims == [("sent",)]
    assert left == (0,)
    (event,) = second.events("orphan_resolved")
    assert event["reference"] == SEED_LUMMY_ID
    assert "Traceback" not in second.output()
    print(f"\nresolved {took:.1f} s after the restart")


async def test_two_replicas_on_postgresql_resolve_a_killed_one_exactly_once(
    processes: BotProcesses,
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
    postgres_url: str,
    pg_schema: str,
) -> None:
    settings = fake_settings(fake_slack, lummy, tusfacturas)
    env = clean_env(tmp_path, DATABASE_URL=postgres_url, DATABASE_SCHEMA=pg_schema, **settings)
    doomed, survivor = [await processes.start("--http", env=env) for _ in range(2)]
    await asyncio.gather(doomed.wait_ready(), survivor.wait_ready())
    placeholder = await _kill_mid_send(doomed, fake_slack, lummy)
    (sent,) = _resends(lummy)
    sent_key = sent.headers["x-idempotency"]
    restarted = await processes.start("--http", env=env)  # two live resolvers now
    await restarted.wait_ready()

    await fake_slack.wait_until(
        lambda: _resolved(fake_slack) is not None,
        timeout=RESOLVED_WITHIN,
        description="the placeholder replaced by the unknown outcome",
    )
    resolved = _resolved(fake_slack)
    assert resolved is not None
    assert resolved.ts == placeholder.ts
    _assert_unknown_with_retry(resolved, sent_key)
    await asyncio.sleep(3)  # a second resolver, if there were one, would act by now

    resolutions = survivor.events("orphan_resolved") + restarted.events("orphan_resolved")
    assert len(resolutions) == 1, resolutions
    unknown_updates = [
        call
        for call in fake_slack.calls_to("chat.update")
        if call.params.get("ts") == placeholder.ts
        and UNKNOWN_MARK in json.dumps(call.params.get("blocks"), ensure_ascii=False)
    ]
    assert len(unknown_updates) == 1
    connection = await asyncpg.connect(postgres_url, timeout=5)
    try:
        where = "WHERE invoice_key = $1"
        rows = await connection.fetch(
            f'SELECT outcome, idempotency_key FROM "{pg_schema}".resend_attempts {where}',  # noqa: S608
            SEED_KEY,
        )
        state = await connection.fetchval(
            f'SELECT state FROM "{pg_schema}".resend_claims {where}',  # noqa: S608
            SEED_KEY,
        )
    finally:
        await connection.close()
    assert [tuple(row) for row in rows] == [("unknown", sent_key)]
    assert state == "sent"
