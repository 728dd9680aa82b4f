"""Simultaneous re-sends: one send per invoice, and not one attempt missing from the history.

The in-process tests run the production bot behind signed HTTP on both history
backends (``history_backend``). The last test runs two real bot processes
(``python -m bot serve --http``) sharing one PostgreSQL schema, as two replicas
behind a load balancer would, and checks the history with ``history export``.
The processes come from tests/processes.py (``BotProcesses``), as in
tests/bot/test_cli.py; ``bot_processes`` starts ``n`` of them on one environment.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from bot.history.records import AttemptRecord
from bot.history.store import HistoryStore, database_url
from bot.ui.resend_modal import CONFIRM_BLOCK, CONFIRMED, VALUE_ACTION, ModalContext
from devkit.emulators import LummyEmulator, TusFacturasEmulator
from devkit.localslack import FakeSlackWebAPI, SenderResponse, SlackEventSender
from tests.blockkit import assert_valid_modal
from tests.conftest import (
    AGENT,
    OTHER_AGENT,
    SEED_LUMMY_ID,
    SIGNING_SECRET,
    Bot,
    outcomes,
)
from tests.e2e import confirmed, eventually, lummy_values, submission_view
from tests.processes import (
    PYTHON_M_BOT,
    BotProcess,
    BotProcesses,
    clean_env,
    fake_settings,
    run_command,
)

SEED_KEY = f"lummy:{SEED_LUMMY_ID}"
SUBPROCESS_TIMEOUT = 20.0


# --- helpers -------------------------------------------------------------------------------


def is_duplicate_warning(response: SenderResponse, *, held_by: str) -> bool:
    """The modal stays open, updated with the warning and the required confirmation."""
    body = response.json
    if not isinstance(body, dict) or body.get("response_action") != "update":
        return False
    view = body["view"]
    assert_valid_modal(view)
    blocks = {block.get("block_id"): block for block in view["blocks"]}
    confirm = blocks.get(CONFIRM_BLOCK)
    if confirm is None or confirm["type"] != "input":
        return False
    element = confirm["element"]
    options = [option["value"] for option in element["options"]]
    warning = [b for b in view["blocks"] if ":warning:" in json.dumps(b)]
    return (
        element["type"] == "checkboxes"
        and element["action_id"] == VALUE_ACTION
        and options == [CONFIRMED]
        and len(warning) == 1
        and f"<@{held_by}>" in json.dumps(warning[0])
    )


# --- two agents, one bot, both backends --------------------------------------------------


async def test_same_invoice_submitted_by_two_agents_at_once_is_sent_once(
    start_bot: Callable[..., Any], history_backend: dict[str, Any]
) -> None:
    bot: Bot = await start_bot(**history_backend)
    agents = (AGENT, OTHER_AGENT)
    modals = [await bot.open_modal(SEED_LUMMY_ID, user=agent) for agent in agents]

    responses: list[SenderResponse] = await asyncio.gather(
        *(
            bot.sender.view_submission(
                user_id=agent, view=modal["id"], values=lummy_values(SEED_LUMMY_ID)
            )
            for agent, modal in zip(agents, modals, strict=True)
        )
    )

    assert [r.status for r in responses] == [200, 200]
    closed = [agent for agent, r in zip(agents, responses, strict=True) if r.body == ""]
    assert len(closed) == 1, [r.body for r in responses]
    (winner,) = closed
    (loser,) = set(agents) - {winner}
    warned = responses[agents.index(loser)]
    assert is_duplicate_warning(warned, held_by=winner), warned.body
    # The loser's modal, as Slack shows it now, asks for the confirmation.
    shown = bot.slack.current_view(loser)
    assert shown is not None
    assert CONFIRM_BLOCK in {b.get("block_id") for b in shown["blocks"]}

    (outcome,) = await bot.wait_for_outcome(count=1)
    assert "cliente@empresa.com" in outcome.text
    assert len(outcomes(bot.slack)) == 1  # drained: nothing else is coming
    assert [send.invoice_id for send in bot.lummy.sends] == [SEED_LUMMY_ID]

    rows = await bot.services.store.history(SEED_KEY)
    assert sorted((r.outcome, r.user_id) for r in rows) == [
        ("duplicate_warning", loser),
        ("success", winner),
    ]
    (warning_row,) = [r for r in rows if r.outcome == "duplicate_warning"]
    assert warning_row.detail == f"{winner}"


async def test_both_agents_confirming_the_duplicate_send_twice(
    start_bot: Callable[..., Any], history_backend: dict[str, Any]
) -> None:
    bot: Bot = await start_bot(**history_backend)
    agents = (AGENT, OTHER_AGENT)
    modals = [await bot.open_modal(SEED_LUMMY_ID, user=agent) for agent in agents]
    for modal in modals:
        # Both saw a duplicate warning about this invoice (it names it in the metadata).
        context = ModalContext.from_metadata(modal["private_metadata"])
        warned = context.model_copy(update={"duplicate_of": SEED_KEY})
        bot.slack.views[modal["id"]]["private_metadata"] = warned.to_metadata()

    responses = await asyncio.gather(
        *(
            bot.sender.view_submission(
                user_id=agent, view=modal["id"], values=confirmed(lummy_values(SEED_LUMMY_ID))
            )
            for agent, modal in zip(agents, modals, strict=True)
        )
    )

    assert [(r.status, r.body) for r in responses] == [(200, ""), (200, "")]
    assert len(await bot.wait_for_outcome(count=2)) == 2
    sends = bot.lummy.sends
    assert [send.invoice_id for send in sends] == [SEED_LUMMY_ID] * 2
    assert len({send.idempotency_key for send in sends}) == 2  # two re-sends, not a retry
    rows = await bot.services.store.history(SEED_KEY)
    assert sorted((r.outcome, r.user_id) for r in rows) == sorted(
        ("success", agent) for agent in agents
    )


# --- two bot processes, one PostgreSQL ----------------------------------------------------


@pytest.fixture
def shared_env(
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tusfacturas: TusFacturasEmulator,
    tmp_path: Path,
    postgres_url: str,
    pg_schema: str,
) -> dict[str, str]:
    """A clean environment (nothing from the developer's) pointing at the fakes and one schema."""
    return clean_env(
        tmp_path,
        DATABASE_URL=postgres_url,
        DATABASE_SCHEMA=pg_schema,
        **fake_settings(fake_slack, lummy, tusfacturas, grace_seconds="5"),
    )


@pytest.fixture
async def bot_processes(
    shared_env: dict[str, str], tmp_path: Path
) -> AsyncIterator[Callable[[int], Any]]:
    """Start ``n`` bot processes on the shared environment; killed at teardown if alive."""
    async with BotProcesses(tmp_path) as processes:

        async def start(n: int) -> list[BotProcess]:
            return [await processes.start("--http", env=shared_env) for _ in range(n)]

        yield start


@pytest.fixture
async def pg_store(postgres_url: str, pg_schema: str) -> AsyncIterator[HistoryStore]:
    """A store on the processes' schema, to read what they wrote (not started: they migrate)."""
    store = HistoryStore(database_url(data_dir=".", database_url=postgres_url), schema=pg_schema)
    yield store
    await store.aclose()


async def test_two_processes_sharing_postgresql_lose_nothing_and_send_once(
    bot_processes: Callable[[int], Any],
    shared_env: dict[str, str],
    pg_store: HistoryStore,
    fake_slack: FakeSlackWebAPI,
    lummy: LummyEmulator,
    tmp_path: Path,
) -> None:
    today = datetime.now(UTC).date()
    midnight = datetime(today.year, today.month, today.day, tzinfo=UTC)
    first, second = await bot_processes(2)  # both migrate the empty schema at once
    ready = await asyncio.gather(first.wait_ready(timeout=15), second.wait_ready(timeout=15))
    assert [r["history"] for r in ready] == ["ok", "ok"]

    distinct = [str(uuid4()) for _ in range(40)]
    colliding = [str(uuid4()) for _ in range(4)]
    for number, invoice_id in enumerate(distinct + colliding):
        lummy.invoices[invoice_id] = f"cliente{number}@empresa.com"
    senders = [
        SlackEventSender(process.events_url, SIGNING_SECRET, fake_slack)
        for process in (first, second)
    ]
    # (sender, user, invoice): distinct invoices alternate between the processes; each
    # colliding invoice goes to both at once, from two agents.
    plan = [(senders[n % 2], AGENT, invoice_id) for n, invoice_id in enumerate(distinct)]
    for invoice_id in colliding:
        plan += [(senders[0], AGENT, invoice_id), (senders[1], OTHER_AGENT, invoice_id)]
    payloads = [
        sender.view_submission_payload(
            user_id=user,
            view=submission_view(invoice_id, user=user),
            values=lummy_values(invoice_id),
        )
        for sender, user, invoice_id in plan
    ]
    try:
        started = time.monotonic()
        async with asyncio.timeout(15):
            responses: list[SenderResponse] = await asyncio.gather(
                *(
                    sender.post_payload(payload)
                    for (sender, _, _), payload in zip(plan, payloads, strict=True)
                )
            )
        assert [r.status for r in responses] == [200] * len(plan)
        by_invoice: dict[str, list[tuple[str, SenderResponse]]] = {}
        for (_, user, invoice_id), response in zip(plan, responses, strict=True):
            by_invoice.setdefault(invoice_id, []).append((user, response))
        for invoice_id in distinct:
            ((_, response),) = by_invoice[invoice_id]
            assert response.body == "", response.body
        winners: dict[str, str] = {}
        for invoice_id in colliding:
            pair = by_invoice[invoice_id]
            closed = [user for user, response in pair if response.body == ""]
            assert len(closed) == 1, [response.body for _, response in pair]
            winners[invoice_id] = closed[0]
            (warned,) = [response for _, response in pair if response.body != ""]
            assert is_duplicate_warning(warned, held_by=closed[0]), warned.body

        # One outcome per invoice, then one history row per attempt (written just after).
        expected_rows = len(distinct) + 2 * len(colliding)
        await fake_slack.wait_until(
            lambda: len(outcomes(fake_slack)) >= len(distinct) + len(colliding),
            timeout=15,
            description="one outcome per invoice",
        )

        async def all_recorded() -> bool:
            return len([a async for a in pg_store.export(midnight)]) >= expected_rows

        await eventually(
            all_recorded, what=f"{expected_rows} history rows", timeout=10.0, interval=0.05
        )
        elapsed = time.monotonic() - started
    finally:
        for sender in senders:
            await sender.aclose()

    # Exactly one send per invoice, collisions included, and nothing else.
    sent = Counter(send.invoice_id for send in lummy.sends)
    assert sent == Counter(distinct + colliding)
    assert len(outcomes(fake_slack)) == len(distinct) + len(colliding)

    # Every attempt has exactly one row.
    for invoice_id in distinct:
        (row,) = await pg_store.history(f"lummy:{invoice_id}")
        assert (row.outcome, row.user_id) == ("success", AGENT)
    for invoice_id in colliding:
        rows = await pg_store.history(f"lummy:{invoice_id}")
        winner = winners[invoice_id]
        loser = OTHER_AGENT if winner == AGENT else AGENT
        assert sorted((r.outcome, r.user_id) for r in rows) == [
            ("duplicate_warning", loser),
            ("success", winner),
        ]
    stored: list[AttemptRecord] = [a async for a in pg_store.export(midnight, batch=7)]
    assert len(stored) == expected_rows
    assert len({a.attempt_id for a in stored}) == expected_rows

    # Both processes did their share, and stopped cleanly.
    stopped = await asyncio.gather(first.terminate(timeout=10), second.terminate(timeout=10))
    assert list(stopped) == [0, 0]
    for process in (first, second):
        assert "Traceback" not in process.output()
        served = [e for e in process.events("resend_attempt") if e["outcome"] == "success"]
        assert len(served) >= len(distinct) // 2
        assert not process.events("history_write_failed")
        assert not process.events("duplicate_guard_unavailable")

    # The auditors' export, as a separate process, lists every attempt.
    exported = await asyncio.to_thread(
        run_command,
        [*PYTHON_M_BOT, "history", "export", "--since", today.isoformat(), "--format", "jsonl"],
        shared_env,
        tmp_path,
        timeout=SUBPROCESS_TIMEOUT,
    )
    assert exported.returncode == 0, exported.stderr
    assert "Traceback" not in exported.stderr
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert f"{expected_rows} attempts exported." in exported.stderr
    assert sorted(line["attempt_id"] for line in lines) == sorted(a.attempt_id for a in stored)
    assert Counter(line["outcome"] for line in lines) == {
        "success": len(distinct) + len(colliding),
        "duplicate_warning": len(colliding),
    }
    assert {line["reference"] for line in lines} == set(distinct + colliding)
    print(f"\n{len(plan)} submissions over 2 processes recorded in {elapsed:.1f} s")
