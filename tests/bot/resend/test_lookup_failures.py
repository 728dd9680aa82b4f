"""A lookup that failed is not asked again beside the re-send, nor for a new preview soon
after; a provider whose lookups keep answering in an unknown shape or from a missing
route is left alone for a while, and `/metrics` says so.

End to end: signed requests to the running bot, the local Slack, the emulators; the
lookups are counted as the emulator received them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from aiohttp import web
from structlog.testing import capture_logs

from devkit.emulators import LOOKUP_ROUTE, Fault, FaultKind
from tests.bot.test_metrics import scrape, value
from tests.conftest import CHANNEL, SEED_LUMMY_ID, Bot
from tests.e2e import (
    SEED_VOUCHER,
    SENT,
    eventually,
    lookups,
    lummy_values,
    resend,
    shown,
    submit,
    tf_values,
)

pytestmark = pytest.mark.timeout(30)

#: Another invoice the Lummy emulator knows.
OTHER_LUMMY_ID = "3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13"
PAUSED = "reenviar_lookups_paused"
SKIPPED = "reenviar_lookups_skipped_total"


def lookup_route_missing(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, *, only: Callable[[str], bool] = lambda _: True
) -> None:
    """Lummy answers its lookup route as a server without it would: ``404 Cannot GET``
    (for the invoice ids ``only`` picks)."""
    dispatch = bot.lummy._dispatch

    async def without_lookup(request: web.Request, handler: Any) -> web.StreamResponse:
        invoice_id = request.match_info.get("invoice_id", "")
        if request.method == "GET" and "/invoices/" in request.path and only(invoice_id):
            return bot.lummy._http_error(request, web.HTTPNotFound())
        return await dispatch(request, handler)

    monkeypatch.setattr(bot.lummy, "_dispatch", without_lookup)


@pytest.mark.parametrize(
    "fault",
    [
        Fault(FaultKind.SERVER_ERROR, status=503),
        Fault(FaultKind.MALFORMED_JSON),
        Fault(FaultKind.SERVER_ERROR, status=404),
    ],
    ids=["5xx", "unknown-shape", "wrong-endpoint"],
)
async def test_a_failed_lummy_lookup_is_asked_once_per_resend_and_preview(
    bot: Bot, fault: Fault
) -> None:
    bot.lummy.inject(fault, route=LOOKUP_ROUTE)

    outcome = await resend(bot, SEED_LUMMY_ID, lummy_values())

    assert f"{SENT}cliente@empresa.com*" in shown(outcome)
    assert len(bot.lummy.sends) == 1
    # The preview asked and failed; the outcome did not ask again.
    assert len(lookups(bot.lummy)) == 1
    # Nor does a new modal for the same invoice within minutes.
    await bot.open_modal(SEED_LUMMY_ID)
    assert len(lookups(bot.lummy)) == 1


async def test_lummy_without_its_lookup_route_is_asked_once_per_invoice(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookup_route_missing(bot, monkeypatch)

    for _ in range(2):
        view = await bot.open_modal(SEED_LUMMY_ID)
        assert "Empresa Demo" not in shown(view)
    await resend(bot, SEED_LUMMY_ID, lummy_values())

    assert len(bot.lummy.sends) == 1
    assert len(lookups(bot.lummy)) == 1


async def test_a_failed_tusfacturas_lookup_is_not_repeated_for_the_outcome(bot: Bot) -> None:
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, status=502), route=LOOKUP_ROUTE)

    outcome = await resend(bot, SEED_VOUCHER, tf_values())

    assert SENT in shown(outcome)
    assert len(bot.tusfacturas.sends) == 1
    assert len(lookups(bot.tusfacturas)) == 1


async def test_lookups_answering_from_a_missing_route_pause_and_show_in_metrics(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookup_route_missing(bot, monkeypatch)
    _, samples = await scrape(bot)
    assert value(samples, PAUSED, provider="lummy") == 0
    assert value(samples, PAUSED, provider="tusfacturas") == 0

    with capture_logs() as logs:
        for _ in range(3):
            await bot.open_modal(str(uuid4()))
        assert len(lookups(bot.lummy)) == 3
        # Paused: another invoice is not looked up, and the re-send still goes out.
        outcome = await resend(bot, SEED_LUMMY_ID, lummy_values())
        await bot.open_modal(str(uuid4()))

    assert f"{SENT}cliente@empresa.com*" in shown(outcome)
    assert len(lookups(bot.lummy)) == 3
    paused = [e for e in logs if e["event"] == "invoice_lookups_paused"]
    assert len(paused) == 1, paused
    assert paused[0]["provider"] == "lummy"
    assert paused[0]["log_level"] == "warning"
    assert paused[0]["failures"] == 3
    assert "lummy-api-key" not in str(paused[0])
    _, samples = await scrape(bot)
    assert value(samples, PAUSED, provider="lummy") == 1
    assert value(samples, PAUSED, provider="tusfacturas") == 0
    # The preview and the outcome of the seeded invoice, and the last preview.
    assert value(samples, SKIPPED, provider="lummy", reason="paused") == 3
    # TusFacturas' lookups are not Lummy's: they still answer.
    view = await bot.open_modal(SEED_VOUCHER)
    assert "Panadería La Espiga" in shown(view)


async def test_a_lookup_that_answers_resets_the_streak(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = {str(uuid4()) for _ in range(4)}
    lookup_route_missing(bot, monkeypatch, only=lambda invoice_id: invoice_id in failing)
    first, second, third, fourth = sorted(failing)

    await bot.open_modal(first)
    await bot.open_modal(second)
    view = await bot.open_modal(SEED_LUMMY_ID)  # answers: the streak starts over
    assert "Empresa Demo" in shown(view)
    await bot.open_modal(third)
    await bot.open_modal(fourth)

    assert len(lookups(bot.lummy)) == 5
    _, samples = await scrape(bot)
    assert value(samples, PAUSED, provider="lummy") == 0
    assert value(samples, SKIPPED, provider="lummy", reason="paused") == 0


# --- re-sends before lookups ----------------------------------------------------------


async def test_a_resend_is_not_delayed_behind_hanging_lookups(
    start_bot: Callable[..., Any],
) -> None:
    # Pools of two each way, so that sharing one would show at once: a hung lookup holds
    # its connection until the 10 s read timeout.
    bot: Bot = await start_bot(
        provider_read_timeout=10.0, provider_max_connections=2, provider_lookup_connections=2
    )
    bot.lummy.inject(Fault(FaultKind.HANG), route=LOOKUP_ROUTE)
    for _ in range(4):
        response = await bot.command(str(uuid4()))
        assert response.status == 200
    await eventually(lambda: len(lookups(bot.lummy)) == 2, what="two hanging lookups")

    # A slow provider for the re-send itself, and nothing remembered about its invoice.
    bot.lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=0.5))
    bot.lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=0.5))
    loop = asyncio.get_running_loop()
    view = await bot.open_modal()
    started = loop.time()
    first, second = await asyncio.gather(
        submit(bot, view, lummy_values()),
        submit(bot, view, lummy_values(OTHER_LUMMY_ID)),
    )
    assert (first.body, second.body) == ("", "")
    await bot.slack.wait_until(
        lambda: sum(SENT in shown(m) for m in bot.slack.messages_in(CHANNEL)) == 2, timeout=8
    )
    elapsed = loop.time() - started

    # Both at the provider's 0.5 s, not behind the lookups' 10 s.
    assert elapsed < 3.0, elapsed
    assert len(bot.lummy.sends) == 2
    assert len(lookups(bot.lummy)) == 2  # the others found no free slot, and gave up
    _, samples = await scrape(bot)
    assert value(samples, SKIPPED, provider="lummy", reason="busy") >= 2
