"""The modal updates the bot makes by itself, so that an agent's click is not taken for stale."""

from __future__ import annotations

import asyncio

from bot.slack.revisions import OwnViewUpdates


def test_a_click_from_just_before_the_bots_own_update_gets_the_new_hash() -> None:
    own = OwnViewUpdates()
    own.record("V1", replaced="h1", now="h2")

    assert own.current("V1", "h1") == "h2"
    assert own.current("V1", "h2") == "h2"
    # Older than another change (a click, not the bot's): still stale, Slack refuses it.
    assert own.current("V1", "h0") == "h0"
    assert own.current("V2", "h1") == "h1"
    assert own.current("V1", None) is None


def test_only_the_latest_views_are_remembered() -> None:
    own = OwnViewUpdates(limit=2)
    for n in range(3):
        own.record(f"V{n}", replaced="a", now="b")

    assert own.current("V0", "a") == "a"
    assert own.current("V2", "a") == "b"


async def test_updates_of_one_view_wait_for_each_other_and_leave_nothing_behind() -> None:
    own = OwnViewUpdates()
    order: list[str] = []

    async def update(name: str, view_id: str, hold: float) -> None:
        async with own.updating(view_id):
            order.append(f"{name} start")
            await asyncio.sleep(hold)
            order.append(f"{name} end")

    async with asyncio.timeout(5):
        await asyncio.gather(update("a", "V1", 0.05), update("b", "V1", 0), update("c", "V2", 0))

    assert order.index("a end") < order.index("b start")
    assert order.index("c end") < order.index("a end")  # another view does not wait
    assert own._locks == {}
