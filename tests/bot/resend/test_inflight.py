"""Work still running after Slack's ack: counted, drained within a grace period."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.resend.inflight import InFlight


async def test_inflight_drain_waits_for_running_resends() -> None:
    inflight = InFlight()
    assert inflight.count == 0
    assert await inflight.drain(0) is True

    release = asyncio.Event()

    async def resend() -> None:
        async with inflight.track():
            await release.wait()

    tasks = [asyncio.create_task(resend()) for _ in range(2)]
    await asyncio.sleep(0)
    assert inflight.count == 2
    started = time.monotonic()
    assert await inflight.drain(0.05) is False
    assert time.monotonic() - started < 0.5
    assert inflight.count == 2, "a timed-out drain cancels nothing"

    release.set()
    assert await inflight.drain(1) is True
    assert inflight.count == 0
    await asyncio.gather(*tasks)


async def test_inflight_counts_down_when_a_resend_raises() -> None:
    inflight = InFlight()

    async def failing_resend() -> None:
        async with inflight.track():
            assert inflight.count == 1
            raise RuntimeError("kaboom")

    with pytest.raises(RuntimeError, match="kaboom"):
        await failing_resend()
    assert inflight.count == 0
    assert await inflight.drain(0) is True


async def test_inflight_drain_returns_as_soon_as_the_last_one_ends() -> None:
    inflight = InFlight()

    async def short() -> None:
        async with inflight.track():
            await asyncio.sleep(0.05)

    task = asyncio.create_task(short())
    await asyncio.sleep(0)
    started = time.monotonic()
    assert await inflight.drain(2) is True
    assert time.monotonic() - started < 1
    await task


async def test_spawned_work_counts_from_the_moment_it_is_spawned() -> None:
    """Shutdown drains right after a background write was spawned (an audit row):
    the write must hold the drain although it has not started running yet."""
    inflight = InFlight()
    written = asyncio.Event()

    async def write() -> None:
        await asyncio.sleep(0.05)
        written.set()

    inflight.spawn(write())
    assert inflight.count == 1
    assert await inflight.drain(2) is True
    assert written.is_set()
    assert inflight.count == 0
