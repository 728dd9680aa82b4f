"""Ack latency under load: Slack gives an app 3 s, and a trigger id dies after 3 s.

50 ``/reenviar`` commands and 50 modal submissions arrive at once while Lummy
takes 5 s per re-send. Every HTTP ack must still be fast (the provider calls run
after the ack), every modal must open (``views.open`` inside the trigger's 3 s),
and every submission must end in a success message.
The p50/p99 ack times are printed (visible with ``-s``) and recorded as JUnit
properties.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Callable
from typing import Any

from devkit.emulators import Fault, FaultKind
from devkit.localslack import SenderResponse
from tests.conftest import AGENT, Bot
from tests.e2e import lummy_values, submission_view

CONCURRENCY = 50
PROVIDER_LATENCY = 5.0
ACK_BOUND = 3.0


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _summary(name: str, acks: list[float]) -> str:
    return (
        f"{name}: n={len(acks)} p50={percentile(acks, 50) * 1000:.0f} ms "
        f"p99={percentile(acks, 99) * 1000:.0f} ms max={max(acks) * 1000:.0f} ms"
    )


async def test_acks_stay_fast_under_a_burst(
    start_bot: Callable[..., Any], record_property: Callable[[str, object], None]
) -> None:
    bot: Bot = await start_bot(provider_read_timeout=15)
    invoice_ids = [str(uuid.uuid4()) for _ in range(CONCURRENCY)]
    for number, invoice_id in enumerate(invoice_ids):
        bot.lummy.invoices[invoice_id] = f"cliente{number}@empresa.com"  # 10/hour per invoice
    bot.lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=PROVIDER_LATENCY))
    # Build the requests first, so the burst is only sending.
    submissions = [
        bot.sender.view_submission_payload(
            user_id=AGENT,
            view=submission_view(invoice_id, configured=bot.services.configured),
            values=lummy_values(invoice_id),
        )
        for invoice_id in invoice_ids
    ]

    started = time.monotonic()
    responses: list[SenderResponse] = await asyncio.gather(
        *(bot.command(invoice_id) for invoice_id in invoice_ids),
        *(bot.sender.post_payload(payload) for payload in submissions),
    )
    burst = time.monotonic() - started
    commands, submitted = responses[:CONCURRENCY], responses[CONCURRENCY:]

    assert [r.status for r in responses] == [200] * (2 * CONCURRENCY)
    assert all(r.body == "" for r in submitted), "a submission was refused inline"
    command_acks = [r.elapsed_seconds for r in commands]
    submission_acks = [r.elapsed_seconds for r in submitted]
    for name, acks in (("commands", command_acks), ("submissions", submission_acks)):
        line = _summary(name, acks)
        print(f"\nack latency under load: {line}")
        record_property(f"ack_{name}_p50_ms", round(percentile(acks, 50) * 1000))
        record_property(f"ack_{name}_p99_ms", round(percentile(acks, 99) * 1000))
        assert max(acks) < ACK_BOUND, line
    assert burst < ACK_BOUND + 1

    # Every modal opened while its trigger id was alive, none refused.
    await bot.slack.wait_for_call("views.open", count=CONCURRENCY, timeout=5)
    opened = bot.slack.calls_to("views.open")
    assert len(opened) == CONCURRENCY
    assert len(bot.slack.views) == CONCURRENCY

    # Every submission ends in an outcome message; the provider work ran concurrently.
    outcomes = await bot.wait_for_outcome(count=CONCURRENCY, timeout=20)
    assert len(outcomes) == CONCURRENCY
    elapsed = time.monotonic() - started
    print(f"all {CONCURRENCY} outcomes after {elapsed:.1f} s")
    record_property("outcomes_after_s", round(elapsed, 1))
    succeeded = [m for m in outcomes if ":white_check_mark:" in str(m.blocks)]
    # The provider pool holds 50 connections, so the whole burst goes out at once.
    assert len(succeeded) == CONCURRENCY, [m.text for m in outcomes if m not in succeeded][:1]
    sent = sorted(send.invoice_id for send in bot.lummy.sends)
    assert sent == sorted({send.invoice_id for send in bot.lummy.sends}), "an invoice went twice"
    assert len(sent) == len(succeeded), "a success without a send, or a send without a success"
