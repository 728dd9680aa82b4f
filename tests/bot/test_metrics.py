"""``GET /metrics``: Prometheus metrics on the bot's HTTP listener.

Driven end to end (signed Slack requests to the running bot, the fake Slack, the
emulators) and read back the way Prometheus would: an HTTP GET parsed with
prometheus-client's own text parser.
"""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.history.failures import StoreUnavailableError
from bot.ui.resend_modal import ModalContext
from devkit.emulators import Fault, FaultKind
from tests.conftest import AGENT, CHANNEL, SEED_LUMMY_ID, Bot
from tests.e2e import confirmed, eventually, lummy_values, resend, submit, tf_values

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(bot: Bot) -> tuple[httpx.Response, Samples]:
    """GET /metrics and every sample in it, keyed by (name, labels)."""
    base = bot.url.rsplit("/slack/events", 1)[0]
    async with httpx.AsyncClient(timeout=5) as http:
        response = await http.get(base + "/metrics")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return response, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series does not exist yet (as PromQL would treat it)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def test_metrics_endpoint_serves_the_text_format_with_every_metric(bot: Bot) -> None:
    response, samples = await scrape(bot)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    names = {name for name, _ in samples}
    for expected in (
        "reenviar_slack_delivery_lost_total",
        "reenviar_history_write_failures_total",
        "reenviar_history_queued_rows",
        "reenviar_history_available",
        "reenviar_duplicate_guard_bypasses_total",
        "reenviar_orphans_recovered_total",
        "reenviar_inflight_work",
    ):
        assert expected in names, expected
    assert value(samples, "reenviar_history_available") == 1
    assert value(samples, "reenviar_history_queued_rows") == 0


async def test_resends_by_provider_and_outcome_with_latency_and_ack_times(bot: Bot) -> None:
    await resend(bot, SEED_LUMMY_ID, lummy_values())
    bot.tusfacturas.inject(Fault(FaultKind.SERVER_ERROR, times=1))
    await resend(bot, "FACTURA B 0002-00000006", tf_values())

    _, samples = await scrape(bot)
    resends = "reenviar_resends_total"
    assert value(samples, resends, provider="lummy", outcome="success") == 1
    assert value(samples, resends, provider="tusfacturas", outcome="unknown") == 1
    assert total(samples, resends) == 2
    latency = "reenviar_provider_latency_seconds"
    assert value(samples, latency + "_count", provider="lummy") == 1
    assert value(samples, latency + "_count", provider="tusfacturas") == 1
    assert 0 < value(samples, latency + "_sum", provider="lummy") < 5
    # Two commands and two submissions, each acknowledged well within Slack's 3 s.
    ack = "reenviar_slack_ack_seconds"
    assert value(samples, ack + "_count", mode="http", kind="command") == 2
    assert value(samples, ack + "_count", mode="http", kind="view_submission") == 2
    assert value(samples, ack + "_bucket", mode="http", kind="view_submission", le="1.0") == 2


async def test_refusals_are_counted_by_outcome(start_bot: Any) -> None:
    bot: Bot = await start_bot(allowed_user_ids=["U0SOMEONE"])
    await bot.command(SEED_LUMMY_ID, user=AGENT)
    _, samples = await scrape(bot)
    assert value(samples, "reenviar_resends_total", provider="none", outcome="refused") == 1


async def test_delivery_fallbacks_and_losses(bot: Bot) -> None:
    # Not a member of a private channel: the first message goes by the response_url
    # (and the outcome replaces it there: one message, one fallback).
    bot.slack.add_channel("G0ELSEWHERE", "otro", bot_is_member=False, is_private=True)
    view = await bot.open_modal(SEED_LUMMY_ID, channel="G0ELSEWHERE")
    await submit(bot, view, lummy_values())
    await bot.slack.wait_until(lambda: len(bot.slack.response_url_messages) == 2, timeout=5)
    assert await bot.services.inflight.drain(5)
    _, samples = await scrape(bot)
    fallbacks = "reenviar_slack_delivery_fallbacks_total"
    assert value(samples, fallbacks, route="response_url") == 1
    assert value(samples, fallbacks, route="dm") == 0

    # Neither the channel, the response_url nor a DM: the outcome is lost, and counted.
    bot.slack.add_channel("G0PRIVATE", "privado", bot_is_member=False, is_private=True)
    view = await bot.open_modal(SEED_LUMMY_ID, channel="G0PRIVATE")
    dead_url = f"{bot.slack.base_url}/response_url/no-such-token"
    metadata = ModalContext(channel_id="G0PRIVATE", response_url=dead_url, user_id=AGENT)
    bot.slack.fail("chat.postMessage", "channel_not_found", times=100)
    await bot.sender.view_submission(
        user_id=AGENT,
        view={**view, "private_metadata": metadata.to_metadata()},
        values=lummy_values("3f2b8c1e-7a4d-4e9b-9c61-2d5f0a8b7e13"),
    )
    await bot.slack.wait_until(lambda: len(bot.lummy.sends) == 2, timeout=5)
    assert await bot.services.inflight.drain(5)
    _, samples = await scrape(bot)
    assert value(samples, "reenviar_slack_delivery_lost_total") >= 1
    bot.slack.clear_failures()


async def test_history_write_failures_are_counted(bot: Bot, monkeypatch: Any) -> None:
    async def broken(*args: Any, **kwargs: Any) -> None:
        raise StoreUnavailableError("disk full")

    monkeypatch.setattr(bot.services.store, "record", broken)
    await resend(bot, SEED_LUMMY_ID, lummy_values())
    _, samples = await scrape(bot)
    assert value(samples, "reenviar_history_write_failures_total") >= 1


async def test_malformed_requests_are_counted(bot: Bot) -> None:
    response = await bot.sender.post_raw(b"payload=%5B1%5D")
    assert response.status == 400
    _, samples = await scrape(bot)
    assert value(samples, "reenviar_slack_malformed_requests_total", mode="http") == 1


async def test_each_bot_has_its_own_registry(start_bot: Any) -> None:
    first: Bot = await start_bot()
    second: Bot = await start_bot()
    await resend(first, SEED_LUMMY_ID, lummy_values())
    _, first_samples = await scrape(first)
    _, second_samples = await scrape(second)
    assert total(first_samples, "reenviar_resends_total") == 1
    assert total(second_samples, "reenviar_resends_total") == 0
    assert first.services.metrics.registry is not second.services.metrics.registry


async def test_inflight_gauge_follows_running_work(bot: Bot) -> None:
    view = await bot.open_modal(SEED_LUMMY_ID)
    bot.lummy.inject(Fault(FaultKind.LATENCY, delay_seconds=1.0))
    await submit(bot, view, lummy_values())

    async def running() -> float:
        return value((await scrape(bot))[1], "reenviar_inflight_work")

    assert await eventually(running, what="work in flight") >= 1
    bot.lummy.clear_faults()
    await bot.wait_for_outcome(CHANNEL)
    _, samples = await scrape(bot)
    assert value(samples, "reenviar_inflight_work") == 0


async def test_a_confirmed_resend_without_the_guard_is_counted_as_a_bypass(
    bot: Bot, monkeypatch: Any
) -> None:
    async def store_down(*args: Any, **kwargs: Any) -> None:
        raise StoreUnavailableError("connection refused")

    monkeypatch.setattr(bot.services.store, "successes_since", store_down)
    view = await bot.open_modal(SEED_LUMMY_ID)
    # The history cannot rule out a duplicate: the agent is asked to confirm first...
    asked = await submit(bot, view, lummy_values())
    assert asked.json is not None
    assert asked.json["response_action"] == "update"
    _, samples = await scrape(bot)
    assert value(samples, "reenviar_duplicate_guard_bypasses_total") == 0
    # ...and once they have, the re-send goes ahead unguarded: that is what is counted.
    await submit(bot, bot.slack.views[view["id"]], confirmed(lummy_values()))
    await bot.wait_for_outcome()
    _, samples = await scrape(bot)
    assert value(samples, "reenviar_duplicate_guard_bypasses_total") == 1
