"""Re-sends written down before the provider call, and resolved once their process is gone.

The store side (``resend_inflight``: begin, renew, take, finish) runs on both
backends; several stores on one database stand for several replicas. The
workflow and resolver side runs the production bot in this process
(``start_bot``) against the fake Slack and the Lummy emulator; the process side
(SIGKILL, restart, two replicas) is in tests/test_crash_recovery.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from bot.history.records import ORPHAN_DETAIL, AttemptRecord, ClaimState, InFlightAttempt
from bot.history.store import HistoryStore, database_url
from bot.jobs import ResendJob
from bot.ui.outcome import progress_message
from devkit.emulators import Fault, FaultKind
from providers.lummy.model import LummyInvoice
from tests.conftest import AGENT, CHANNEL, SEED_LUMMY_ID, Bot, is_progress
from tests.e2e import eventually, lummy_values

T0 = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)
LEASE = timedelta(seconds=10)
KEY = f"lummy:{SEED_LUMMY_ID}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str | None]:
    """A fresh database of each kind in turn: its URL and schema (sync: it resolves the
    PostgreSQL fixtures)."""
    if request.param == "sqlite":
        return database_url(data_dir=str(tmp_path), database_url=None), None
    postgres_url: str = request.getfixturevalue("postgres_url")
    schema: str = request.getfixturevalue("pg_schema")
    return database_url(data_dir=".", database_url=postgres_url), schema


@pytest.fixture
async def stores(
    database: tuple[str, str | None],
) -> AsyncIterator[Callable[[], HistoryStore]]:
    """A factory of stores on `database` (each its own engine: a replica), closed at the end."""
    url, schema = database
    made: list[HistoryStore] = []

    def new() -> HistoryStore:
        store = HistoryStore(url, schema=schema)
        made.append(store)
        return store

    yield new
    for store in made:
        await store.aclose()


async def _started(new: Callable[[], HistoryStore]) -> HistoryStore:
    store = new()
    await store.start()
    return store


def entry(
    owner: str = "dead-process", *, lease_until: datetime = T0, **extra: Any
) -> InFlightAttempt:
    job = ResendJob(request=LummyInvoice(invoice_id=SEED_LUMMY_ID), requested_by=AGENT)
    values: dict[str, Any] = {
        "attempt_id": str(uuid4()),
        "owner": owner,
        "lease_until": lease_until,
        "created_at": T0 - timedelta(seconds=30),
        "user_id": AGENT,
        "provider": "lummy",
        "invoice_key": KEY,
        "reference": SEED_LUMMY_ID,
        "idempotency_key": job.idempotency_key,
        "job": job.to_button_value(),
        "channel_id": CHANNEL,
        "message_channel": CHANNEL,
        "message_ts": "1700000000.000100",
        **extra,
    }
    return InFlightAttempt(**values)


def outcome_of(attempt: InFlightAttempt, outcome: str, detail: str | None = None) -> AttemptRecord:
    return AttemptRecord(
        attempt_id=attempt.attempt_id,
        created_at=T0,
        user_id=attempt.user_id,
        provider=attempt.provider,
        invoice_key=attempt.invoice_key,
        reference=attempt.reference,
        outcome=outcome,
        idempotency_key=attempt.idempotency_key,
        detail=detail,
    )


# --- the store ---------------------------------------------------------------------------


async def test_an_entry_lives_until_its_history_row_is_written(
    stores: Callable[[], HistoryStore],
) -> None:
    store = await _started(stores)
    attempt = entry("me", lease_until=T0 + LEASE)
    await store.begin_attempt(attempt)
    await store.locate_attempt(attempt.attempt_id, channel="C0OTHER", ts="1700000001.000200")
    (kept,) = await store.inflight_attempts()
    assert kept == replace(attempt, message_channel="C0OTHER", message_ts="1700000001.000200")

    await store.record(outcome_of(attempt, "success"), finishes_attempt=True)

    assert await store.inflight_attempts() == []
    assert [r.outcome for r in await store.history(KEY)] == ["success"]


async def test_each_orphan_goes_to_exactly_one_of_several_replicas(
    stores: Callable[[], HistoryStore],
) -> None:
    first = await _started(stores)
    orphans = [entry(f"dead-{n}") for n in range(8)]
    alive = entry("alive", lease_until=T0 + LEASE)
    for attempt in [*orphans, alive]:
        await first.begin_attempt(attempt)
    replicas = [first, *[await _started(stores) for _ in range(3)]]

    async with asyncio.timeout(20):
        taken = await asyncio.gather(
            *(
                replica.take_orphans(
                    f"replica-{n}", now=T0 + timedelta(seconds=1), until=T0 + LEASE
                )
                for n, replica in enumerate(replicas)
            )
        )

    ids = [attempt.attempt_id for batch in taken for attempt in batch]
    assert sorted(ids) == sorted(a.attempt_id for a in orphans)  # each once, the live one never
    assert {a.owner for batch in taken for a in batch} == {a.owner for a in orphans}
    owners = {a.attempt_id: a.owner for a in await first.inflight_attempts()}
    for n, batch in enumerate(taken):
        assert all(owners[a.attempt_id] == f"replica-{n}" for a in batch)
    assert owners[alive.attempt_id] == "alive"
    # Taken with a fresh lease: nobody takes them again meanwhile.
    assert await first.take_orphans("late", now=T0 + timedelta(seconds=2), until=T0 + LEASE) == []


async def test_renewed_leases_keep_entries_from_being_taken(
    stores: Callable[[], HistoryStore],
) -> None:
    store = await _started(stores)
    mine = [entry("me"), entry("me")]
    for attempt in [*mine, entry("gone")]:
        await store.begin_attempt(attempt)

    assert await store.renew_leases("me", until=T0 + LEASE) == 2

    (taken,) = await store.take_orphans("other", now=T0 + timedelta(seconds=1), until=T0 + LEASE)
    assert taken.owner == "gone"


async def test_writing_an_attempt_twice_keeps_one_row_and_the_real_outcome_wins(
    stores: Callable[[], HistoryStore],
) -> None:
    store = await _started(stores)
    resolved, replayed, guessed_late = entry(), entry(), entry()
    # A resolver's guess, then the real outcome from the owner's outbox: the outcome wins.
    await store.record(outcome_of(resolved, "unknown", ORPHAN_DETAIL))
    await store.record(outcome_of(resolved, "success"))
    # An outbox replayed after a crash: the same row twice is one row.
    await store.record_many([(outcome_of(replayed, "success"), False)] * 2)
    # A guess arriving after the real outcome changes nothing.
    await store.record(outcome_of(guessed_late, "success"))
    await store.record(outcome_of(guessed_late, "unknown", ORPHAN_DETAIL))

    rows = {r.attempt_id: r.outcome for r in await store.history(KEY, limit=50)}
    assert rows == {
        resolved.attempt_id: "success",
        replayed.attempt_id: "success",
        guessed_late.attempt_id: "success",
    }


# --- the workflow and the resolver, in the bot -------------------------------------------


async def test_a_resend_is_written_down_before_the_provider_call(bot: Bot) -> None:
    bot.lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=1.5))
    view = await bot.open_modal(SEED_LUMMY_ID)
    await bot.sender.view_submission(user_id=AGENT, view=view["id"], values=lummy_values())
    await eventually(
        lambda: any(r.path.endswith("/resend-pdf") for r in bot.lummy.requests),
        what="the re-send to reach Lummy",
    )
    store = bot.services.store

    async def located() -> bool:
        entries = await store.inflight_attempts()
        return bool(entries) and entries[0].message_ts is not None

    await eventually(located, what="the placeholder's location written down")
    (running,) = await store.inflight_attempts()
    (placeholder,) = bot.slack.messages_in(CHANNEL)
    sent = next(r for r in bot.lummy.requests if r.path.endswith("/resend-pdf"))
    assert running.owner == bot.services.journal.owner
    assert running.idempotency_key == sent.headers["x-idempotency"]
    assert (running.message_channel, running.message_ts) == (CHANNEL, placeholder.ts)
    assert ResendJob.from_button_value(running.job, bot.services.registry).request.reference == (
        SEED_LUMMY_ID
    )

    await bot.wait_for_outcome()
    assert await store.inflight_attempts() == []
    (row,) = await store.history(KEY)
    assert (row.outcome, row.attempt_id) == ("success", running.attempt_id)


async def test_an_orphan_is_shown_as_unknown_with_retry_recorded_and_its_claim_released(
    bot: Bot,
) -> None:
    services = bot.services
    posted = await services.client.chat_postMessage(
        channel=CHANNEL, text="…", blocks=progress_message(_job(), services.registry).blocks
    )
    now = datetime.now(UTC)
    orphan = entry(
        "killed",
        lease_until=now - timedelta(seconds=1),
        created_at=now - timedelta(seconds=20),
        message_ts=str(posted["ts"]),
    )
    await services.store.begin_attempt(orphan)
    claim = await services.store.claim(
        KEY,
        attempt_id=orphan.idempotency_key,
        user_id=AGENT,
        now=now - timedelta(seconds=20),
        sent_window=timedelta(minutes=15),
        pending_timeout=timedelta(minutes=3),
    )
    assert claim is None

    assert await services.resolver.resolve() == 1
    assert await services.resolver.resolve() == 0  # done: nothing left to take

    (message,) = bot.slack.messages_in(CHANNEL)
    assert not is_progress(message)
    assert ":grey_question:" in json.dumps(message.blocks)  # the unknown-outcome message
    (button,) = [
        element
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert json.loads(button["value"])["idempotency_key"] == orphan.idempotency_key
    (row,) = await services.store.history(KEY)
    assert (row.attempt_id, row.outcome, row.detail) == (
        orphan.attempt_id,
        "unknown",
        ORPHAN_DETAIL,
    )
    assert (row.message_channel, row.message_ts) == (CHANNEL, message.ts)
    assert await services.store.inflight_attempts() == []
    holder = await services.store.claim(
        KEY,
        attempt_id="someone-else",
        user_id="U0OTHER",
        now=datetime.now(UTC),
        sent_window=timedelta(minutes=15),
        pending_timeout=timedelta(minutes=3),
    )
    assert holder is not None
    assert holder.state is ClaimState.SENT  # possibly sent: no longer "in progress"


def _job() -> ResendJob:
    return ResendJob(request=LummyInvoice(invoice_id=SEED_LUMMY_ID), requested_by=AGENT)
