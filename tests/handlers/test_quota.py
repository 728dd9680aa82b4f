"""Lummy's hourly quota as the agent meets it, through the signed endpoint and the local
Slack: told once, before submit, at the agent's own clock with the zone named; counted
in the modal's main text near the limit; and named as Lummy's limit in the history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.history.records import AttemptRecord
from bot.ui import strings
from devkit.localslack.webapi import JsonDict
from tests.conftest import AGENT, CHANNEL, OTHER_AGENT, SEED_LUMMY_ID, Bot
from tests.e2e import (
    confirmed,
    eventually,
    lookups,
    lummy_values,
    resends,
    seeded_send,
    shown,
    submit,
    texts_in,
)
from tests.handlers.test_home import attempt_lines, open_home

pytestmark = pytest.mark.timeout(30)

LUMMY_KEY = f"lummy:{SEED_LUMMY_ID}"
INVOICE_FIELD = "invoice_id"
#: @ana works in Argentina, @beto in central Mexico (see tests/conftest.py).
ZONES = {
    AGENT: ("America/Argentina/Buenos_Aires", "de Argentina"),
    OTHER_AGENT: ("America/Mexico_City", "del centro de México"),
}


async def seed(bot: Bot, minutes_ago: list[int]) -> list[AttemptRecord]:
    rows = [seeded_send(ago=timedelta(minutes=m)) for m in minutes_ago]
    for row in rows:
        await bot.services.store.record(row)
    return rows


async def used_up(bot: Bot) -> datetime:
    """Ten re-sends this hour, the last one 3 minutes ago (inside the duplicate window);
    when the oldest leaves the hour."""
    rows = await seed(bot, [57, 51, 45, 39, 33, 27, 21, 15, 9, 3])
    return rows[0].created_at + timedelta(hours=1)


def expected_refusal(frees_at: datetime, user: str) -> str:
    tz, zone = ZONES[user]
    at = frees_at.astimezone(ZoneInfo(tz)).strftime("%H:%M")
    return (
        "Ya se usaron los 10 reenvíos por hora de esta factura en Lummy. "
        f"Se puede volver a reenviar desde las {at} (hora {zone})."
    )


def under(view: JsonDict, block_id: str) -> str:
    """The text of the block right under the input ``block_id``."""
    blocks = view["blocks"]
    (index,) = [i for i, b in enumerate(blocks) if b.get("block_id") == block_id]
    return "\n".join(texts_in(blocks[index + 1])) if index + 1 < len(blocks) else ""


def main_text(view: JsonDict) -> str:
    """What the modal says in its sections (not the small print)."""
    return "\n".join(t for b in view["blocks"] if b["type"] == "section" for t in texts_in(b))


# --- Known exhausted: refused in the modal, before submit --------------------------------


@pytest.mark.parametrize("user", [AGENT, OTHER_AGENT])
async def test_a_known_exhausted_quota_is_refused_in_the_modal_at_the_agents_clock(
    bot: Bot, user: str
) -> None:
    frees_at = await used_up(bot)

    view = await bot.open_modal(SEED_LUMMY_ID, user=user)

    refusal = expected_refusal(frees_at, user)
    assert refusal in under(view, INVOICE_FIELD)
    assert shown(view).count("10 reenvíos por hora") == 1  # told once
    # Nothing offers to send it anyway: no duplicate confirmation, no "de todos modos".
    assert all(b.get("block_id") != "confirm_duplicate" for b in view["blocks"])
    assert "de todos modos" not in shown(view)

    looked_up = len(lookups(bot.lummy))
    response = await submit(bot, view, lummy_values(), user=user)

    assert response.json == {"response_action": "errors", "errors": {INVOICE_FIELD: refusal}}
    assert resends(bot.lummy) == []
    assert len(lookups(bot.lummy)) == looked_up  # no round trip to the provider
    assert bot.slack.messages_in(CHANNEL) == []


async def test_an_exhausted_quota_typed_by_hand_is_refused_with_the_same_words(
    bot: Bot,
) -> None:
    frees_at = await used_up(bot)
    view = await bot.open_modal(user=OTHER_AGENT, empty_ack=True)

    # Even a confirmation left over from elsewhere cannot lift the quota.
    response = await submit(bot, view, confirmed(lummy_values()), user=OTHER_AGENT)

    assert response.json == {
        "response_action": "errors",
        "errors": {INVOICE_FIELD: expected_refusal(frees_at, OTHER_AGENT)},
    }
    assert resends(bot.lummy) == []


# --- From 8 of 10, the count is in the main text ------------------------------------------


async def test_the_count_moves_to_the_main_text_from_8_of_10(bot: Bot) -> None:
    await seed(bot, [50, 49, 48, 47, 46, 45, 44])  # all outside the duplicate window

    seven = await bot.open_modal(SEED_LUMMY_ID)
    assert "7 de 10" in shown(seven)
    assert "7 de 10" not in main_text(seven)  # small print, as before

    await seed(bot, [43])
    eight = await bot.open_modal(SEED_LUMMY_ID)
    assert "8 de 10 (límite de Lummy). Quedan 2." in main_text(eight)

    await seed(bot, [42])
    nine = await bot.open_modal(SEED_LUMMY_ID)
    assert "9 de 10 (límite de Lummy). Queda 1." in main_text(nine)
    assert "de todos modos" not in shown(nine)

    response = await submit(bot, nine, lummy_values())
    assert response.body == ""
    await bot.wait_for_outcome()
    assert len(bot.lummy.sends) == 1


# --- The history calls it Lummy's limit -----------------------------------------------------


async def history_answer(bot: Bot, text: str) -> Any:
    before = len(bot.slack.response_url_messages)
    response = await bot.command(text)
    assert response.status == 200
    messages = await bot.slack.wait_for_response_url(count=before + 1)
    return messages[-1]


async def test_history_and_home_call_a_quota_refusal_lummys_limit(bot: Bot) -> None:
    await used_up(bot)
    view = await bot.open_modal(SEED_LUMMY_ID)
    refused = await submit(bot, view, lummy_values())
    assert refused.json is not None
    assert refused.json["response_action"] == "errors"

    async def refusal_recorded() -> bool:
        rows = await bot.services.store.history(LUMMY_KEY, limit=20)
        return any(r.outcome == "refused" for r in rows)

    await eventually(refusal_recorded, what="the quota refusal in the history")

    answer = await history_answer(bot, f"historial {SEED_LUMMY_ID}")
    newest = answer.text.splitlines()[1]  # newest first, under the header
    assert f"<@{AGENT}> · límite de Lummy" in newest
    assert strings.OUTCOME_LABELS["refused"] not in answer.text

    home = await open_home(bot)
    latest = attempt_lines(home)[0]
    assert "límite de Lummy" in latest
    assert strings.OUTCOME_LABELS["refused"] not in latest
    assert strings.REFUSAL_LABELS["quota_exhausted"] not in latest
